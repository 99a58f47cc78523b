#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How SATR estimates the signal energy `S_t` (docs/SEARCH.md, SATR, step 3).
public enum SignalEstimator: String, Sendable, Codable, CaseIterable {
    /// Default. `X_t = L_t = <g_t, g_{t-1}>_F` (Fisher metric at the current rho; `g_{-1} = 0`),
    /// unbiased for the signal when successive populations are independent;
    /// `S_t = max(EMA_beta(X)_t, 0)`.
    case lagOneCoherence = "lag1"
    /// `X_t = ||g_t||_F^2 - N_t` (N_t the noise energy); `S_t = max(EMA_beta(X)_t, 0)`
    /// (momentum 0 gives the unpooled per-generation estimate).
    case varianceSubtraction = "variance"
    /// Evolution path `p_t = beta p_{t-1} + (1 - beta) g_t`,
    /// `S_t = max(||p_t||_F^2 - N_t (1 - beta) / (1 + beta), 0)`, and the step follows `p_t`
    /// instead of `g_t`. A path component that pushes a probability into its bound is zeroed after
    /// the step.
    case evolutionPath = "path"
    /// `X_t = <g_a, g_b>_F` of the two halves of the population (independent samples of the same
    /// gradient; mirrored pairs are never split); `S_t = max(EMA_beta(X)_t, 0)`.
    case splitHalf = "split-half"
    /// `X_t = <g_t, m_{t-1}>_F`, the coherence of this generation's gradient with the averaged
    /// direction of the generations before (`m` the bias-corrected EMA of g with factor
    /// `directionMomentum`; with factor 0 it is `g_{t-1}` and this is `lag1`). Unbiased for the
    /// signal like lag1 (g_t is independent of the past populations), with about
    /// `sqrt((1 - beta_d) / (1 + beta_d))` of lag1's noise; `S_t = max(EMA_beta(X)_t, 0)`.
    case directionCoherence = "direction"
}

/// SATR, the signal-adaptive trust region on a Bernoulli connectivity distribution (docs/SEARCH.md).
///
/// Per generation t, with standardized ranks `z_k = s a_k`, `s = sqrt(M / sum a^2)` (a_k the
/// integer rank weights) and `c_k,i = z_k (theta_k,i - rho_i)`:
///
/// 1. direction `g_i = (1/M) sum_k c_k,i = (s / M) (weightedCounts_i - rho_i sum a)`;
/// 2. Fisher metric `<a, b>_F = sum_i a_i b_i / (rho_i (1 - rho_i))` at the current rho;
/// 3. noise energy `N_t = sum_i s_i^2 / (M rho_i (1 - rho_i))`, `s_i^2` the sample variance of
///    `c_k,i` over k: `s_i^2 = (sum_k c_k,i^2 - M g_i^2) / (M - 1)`, with
///    `sum_k c_k,i^2 = s^2 (squaredWeightedCounts_i (1 - 2 rho_i) + rho_i^2 sum a^2)`;
///    the signal energy `S_t` by the chosen `SignalEstimator`;
/// 4. KL budget `delta_t = kappa d S_t` (kappa = `trustRadius`);
/// 5. `rho' = clip(rho + eta v, eps, 1 - eps)` (v = g, the path p, or the averaged direction m) with the largest `eta` in
///    `[0, etaMax]` whose exact clipped KL `KL(Bern(rho') || Bern(rho))` is within `delta_t`:
///    the quadratic model gives `eta_0 = sqrt(2 delta_t / ||v||_F^2)`, then regula falsi with the
///    Illinois modification on the exact KL (monotone in eta), keeping the feasible end.
/// 6. diagnostics (in order): gradientEnergy `||g||_F^2`, noiseEnergy, lagOneCoherence `L_t`,
///    rawSignal `X_t`, signalEnergy `S_t`, klBudget, stepSize, klEvaluations, realizedKL, meanAbsoluteChange,
///    meanProbability, meanVariance, entropy.
public struct SATRStrategy: BitSearchStrategy {
    /// SATR hyperparameters (configuration keys: trust_radius, eta_max, momentum,
    /// signal_estimator, direction_momentum, mirrored, bound). The defaults are the trainer's:
    /// `Hyperparameters.prototype` holds the values of the numpy prototype in docs/SEARCH.md.
    public struct Hyperparameters: Sendable, Equatable, Codable {
        /// kappa: the per-parameter KL budget at full signal. Default 0.03, from the sweep over
        /// {1e-3, 1e-2, 3e-2, 1e-1} on InvertedPendulum-v5 in docs/RESULTS.md (the prototype's
        /// 1e-3 barely moves at M = 64).
        public var trustRadius: Double = 0.03
        /// The largest step size eta along the (standardized-rank) direction. With standardized
        /// ranks, `eta = 1` moves a bit that separates the population perfectly from 0.5 to about
        /// 0.93. Default 3, from the same sweeps (eta_max 3 reached the maximum return on 2 of 3
        /// InvertedPendulum seeds, 1 on 1 of 3; docs/RESULTS.md).
        public var etaMax: Double = 3.0
        /// beta, the EMA / evolution-path factor of the signal estimator (0.9).
        public var momentum: Double = 0.9
        /// The signal-energy estimator (default lag-1 coherence).
        public var signalEstimator: SignalEstimator = .lagOneCoherence
        /// beta_d, the averaging factor of the step direction: the step follows the bias-corrected
        /// average `m_t / (1 - beta_d^t)`, `m_t = beta_d m_{t-1} + (1 - beta_d) g_t`, instead of
        /// `g_t` (0: this generation's `g_t`, the original rule). The budget is unchanged
        /// (`kappa d S_t`, S from the signal estimator). docs/SEARCH.md has the derivation.
        public var directionMomentum: Double = 0
        /// One trust region per block of the genome (docs/SEARCH.md, "Block-wise trust
        /// regions"): the signal estimate, its average and the step size are kept per block `b`
        /// (the network's input, recurrent and readout connections when training), with budget
        /// `delta_b = kappa d S_b`; the total budget is still `kappa d sum_b S_b`. A block whose
        /// estimate says noise stays still while another moves. Off: one region over all d bits.
        public var blockwise: Bool = false
        /// Mirrored pairs (members 2p, 2p + 1 share uniforms).
        public var mirrored: Bool = false
        /// eps, the probability bound (1e-3).
        public var bound: Double = BernoulliDistribution.defaultBound
        public init() {}
        public init(
            trustRadius: Double = 0.03, etaMax: Double = 3.0, momentum: Double = 0.9,
            signalEstimator: SignalEstimator = .lagOneCoherence, directionMomentum: Double = 0,
            blockwise: Bool = false, mirrored: Bool = false,
            bound: Double = BernoulliDistribution.defaultBound
        ) {
            self.trustRadius = trustRadius
            self.etaMax = etaMax
            self.momentum = momentum
            self.signalEstimator = signalEstimator
            self.directionMomentum = directionMomentum
            self.blockwise = blockwise
            self.mirrored = mirrored
            self.bound = bound
        }

        private enum CodingKeys: String, CodingKey {
            case trustRadius, etaMax, momentum, signalEstimator, directionMomentum, blockwise, mirrored, bound
        }

        /// `poolWhileStill` (running means of the evidence while rho stood still) lost on
        /// HalfCheetah-v5 and was removed (docs/RESULTS.md); checkpoints written while it existed
        /// record it, switched off in every run that can still resume.
        private enum RemovedKeys: String, CodingKey { case poolWhileStill }

        /// Decodes every key; `blockwise`, added later, defaults to false so that checkpoints and
        /// configs written before it still load with their original meaning. A checkpoint of a run
        /// that pooled while still is refused (its state needs the removed rule).
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            trustRadius = try c.decode(Double.self, forKey: .trustRadius)
            etaMax = try c.decode(Double.self, forKey: .etaMax)
            momentum = try c.decode(Double.self, forKey: .momentum)
            signalEstimator = try c.decode(SignalEstimator.self, forKey: .signalEstimator)
            directionMomentum = try c.decode(Double.self, forKey: .directionMomentum)
            if try decoder.container(keyedBy: RemovedKeys.self).decodeIfPresent(Bool.self, forKey: .poolWhileStill) == true {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: c.codingPath,
                    debugDescription: "this run pooled evidence while still (pool_while_still), an option that was removed; resume it with a satr build that still has it (docs/RESULTS.md)"))
            }
            blockwise = try c.decodeIfPresent(Bool.self, forKey: .blockwise) ?? false
            mirrored = try c.decode(Bool.self, forKey: .mirrored)
            bound = try c.decode(Double.self, forKey: .bound)
        }

        /// The numpy prototype's values (kappa 1e-3, eta_max 1), used by the synthetic problems
        /// whose numbers docs/SEARCH.md reports.
        public static let prototype = Hyperparameters(trustRadius: 1e-3, etaMax: 1)
    }

    /// The whole SATR state.
    public struct State: Sendable, Equatable, Codable {
        public var hyperparameters: Hyperparameters
        public var seed: UInt64
        public var populationSize: Int
        public var generation: Int
        public var distribution: BernoulliDistribution
        /// `g_{t-1}` (zeros before the first update).
        @PackedDoubles public var previousGradient: [Double]
        /// The evolution path p (`.evolutionPath`), or the averaged direction m
        /// (`directionMomentum > 0`); zeros otherwise.
        @PackedDoubles public var evolutionPath: [Double]
        /// The sizes of the trust-region blocks, in genome order (one block of all d bits unless
        /// `blockwise`).
        public var blockSizes: [Int]
        /// Per block: `EMA_beta(X_b)` of the raw signal estimate (started at 0, no bias correction).
        public var signalAverages: [Double]

        public init(
            hyperparameters: Hyperparameters, seed: UInt64, populationSize: Int, generation: Int,
            distribution: BernoulliDistribution, previousGradient: [Double], evolutionPath: [Double],
            blockSizes: [Int], signalAverages: [Double]
        ) {
            self.hyperparameters = hyperparameters
            self.seed = seed
            self.populationSize = populationSize
            self.generation = generation
            self.distribution = distribution
            self.previousGradient = previousGradient
            self.evolutionPath = evolutionPath
            self.blockSizes = blockSizes
            self.signalAverages = signalAverages
        }

        private enum CodingKeys: String, CodingKey {
            case hyperparameters, seed, populationSize, generation, distribution, previousGradient, evolutionPath
            case blockSizes, signalAverages
        }

        /// The one key of the format before blocks: the one region's average.
        private enum LegacyKeys: String, CodingKey { case signalAverage }

        /// Checkpoints written before blocks existed (one `signalAverage`) decode as one block.
        /// Those written while pooling existed carry per-block `signalCounts` and
        /// `directionCounts`, which only the removed pooling read; they are ignored.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            hyperparameters = try c.decode(Hyperparameters.self, forKey: .hyperparameters)
            seed = try c.decode(UInt64.self, forKey: .seed)
            populationSize = try c.decode(Int.self, forKey: .populationSize)
            generation = try c.decode(Int.self, forKey: .generation)
            distribution = try c.decode(BernoulliDistribution.self, forKey: .distribution)
            _previousGradient = try c.decode(PackedDoubles.self, forKey: .previousGradient)
            _evolutionPath = try c.decode(PackedDoubles.self, forKey: .evolutionPath)
            if let sizes = try c.decodeIfPresent([Int].self, forKey: .blockSizes) {
                blockSizes = sizes
                signalAverages = try c.decode([Double].self, forKey: .signalAverages)
            } else {
                blockSizes = [distribution.dimension]
                let legacy = try decoder.container(keyedBy: LegacyKeys.self)
                signalAverages = [try legacy.decode(Double.self, forKey: .signalAverage)]
            }
            let b = blockSizes.count
            guard b > 0, blockSizes.allSatisfy({ $0 > 0 }), blockSizes.reduce(0, +) == distribution.dimension,
                  signalAverages.count == b else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: c.codingPath,
                    debugDescription: "SATR blocks \(blockSizes) do not partition the \(distribution.dimension) bits, or the per-block fields have other lengths"))
            }
        }

        /// The index ranges of the blocks.
        public var blockRanges: [Range<Int>] {
            var start = 0
            return blockSizes.map { size in defer { start += size }; return start..<(start + size) }
        }
    }

    public private(set) var state: State

    public init(state: State) { self.state = state }

    /// A fresh SATR run over `dimension` bits, all rho = 0.5.
    ///
    /// `blocks`: the sizes of the genome's blocks in order (summing to `dimension`), used as the
    /// trust-region blocks when `hyperparameters.blockwise`; empty, or `blockwise` off: one block.
    ///
    /// Preconditions: `populationSize >= 2` (>= 4 and even when mirrored), `dimension >= 1`,
    /// `trustRadius >= 0`, `etaMax >= 0`, `0 <= momentum < 1`.
    public init(
        dimension: Int, populationSize: Int, seed: UInt64, hyperparameters: Hyperparameters = .init(), blocks: [Int] = []
    ) {
        let h = hyperparameters
        precondition(blocks.isEmpty || (blocks.allSatisfy { $0 > 0 } && blocks.reduce(0, +) == dimension),
                     "the blocks must be positive and sum to the dimension")
        let sizes = h.blockwise && !blocks.isEmpty ? blocks : [dimension]
        precondition(populationSize >= 2, "SATR needs a population of at least 2")
        precondition(!h.mirrored || populationSize % 2 == 0, "mirrored sampling needs an even population")
        precondition(h.trustRadius >= 0 && h.etaMax >= 0, "trust radius and etaMax must be non-negative")
        precondition(h.momentum >= 0 && h.momentum < 1, "momentum must lie in [0, 1)")
        precondition(h.directionMomentum >= 0 && h.directionMomentum < 1, "direction momentum must lie in [0, 1)")
        precondition(h.directionMomentum == 0 || h.signalEstimator != .evolutionPath,
                     "the evolution-path estimator already steps along its path; direction momentum needs another estimator")
        state = State(
            hyperparameters: h, seed: seed, populationSize: populationSize, generation: 0,
            distribution: BernoulliDistribution(dimension: dimension, bound: h.bound),
            previousGradient: [Double](repeating: 0, count: dimension),
            evolutionPath: [Double](repeating: 0, count: dimension), blockSizes: sizes,
            signalAverages: [Double](repeating: 0, count: sizes.count))
    }

    public var generation: Int { state.generation }
    public var populationSize: Int { state.populationSize }
    public mutating func setPopulationSize(_ populationSize: Int) {
        precondition(populationSize >= 2, "SATR needs a population of at least 2")
        precondition(!isMirrored || populationSize % 2 == 0, "mirrored sampling needs an even population")
        state.populationSize = populationSize
    }
    public var genomeCount: Int { state.distribution.wordsPerMember }
    /// The current search distribution.
    public var distribution: BernoulliDistribution { state.distribution }
    public var isMirrored: Bool { state.hyperparameters.mirrored }

    public var seed: UInt64 { state.seed }

    /// `sum_i a_i b_i / (rho_i (1 - rho_i))`.
    @inlinable
    static func fisherInner(_ a: [Double], _ b: [Double], _ rho: [Double]) -> Double {
        fisherInner(a, b, rho, over: 0..<rho.count)
    }

    /// `sum_{i in range} a_i b_i / (rho_i (1 - rho_i))`, summed in index order.
    @inlinable
    static func fisherInner(_ a: [Double], _ b: [Double], _ rho: [Double], over range: Range<Int>) -> Double {
        var total = 0.0
        for i in range { total += a[i] * b[i] / (rho[i] * (1 - rho[i])) }
        return total
    }

    /// `KL(clip(rho + eta v) || rho)` summed over bits (in `Parallel.orderedSum`'s fixed
    /// association: blocks of 8192 bits on concurrent threads, the same result for any count).
    static func klOfStep(_ eta: Double, _ v: [Double], _ rho: [Double], _ lo: Double, _ hi: Double) -> Double {
        Parallel.orderedSum(count: rho.count) { range in
            var total = 0.0
            for i in range where v[i] != 0 {
                let p = Swift.min(Swift.max(rho[i] + eta * v[i], lo), hi)
                total += BernoulliDistribution.klTerm(p, rho[i])
            }
            return total
        }
    }

    /// The largest `eta` in `[0, etaMax]` with `KL(clip(rho + eta v) || rho) <= budget`, and its KL.
    ///
    /// The exact clipped KL is continuous and non-decreasing in eta, so the root of
    /// `KL(eta) = budget` is bracketed by `[feasible, infeasible]` and found by regula falsi with
    /// the Illinois modification (a bisection step whenever an end stalls), starting from the
    /// quadratic model `eta_0 = sqrt(2 budget / ||v||_F^2)`. Iteration stops when the bracket is
    /// narrower than 1e-9 of eta or the feasible KL is within 1e-9 of the budget. The returned eta
    /// is always the feasible end: its exact KL never exceeds the budget.
    static func stepSize(
        direction v: [Double], rho: [Double], budget: Double, etaMax: Double, bound: Double
    ) -> (eta: Double, kl: Double, evaluations: Int) {
        let lo = bound, hi = 1 - bound
        let energy = fisherInner(v, v, rho)
        guard budget > 0, energy > 0, etaMax > 0 else { return (0, 0, 0) }
        var evaluations = 1
        let start = Swift.min((2 * budget / energy).squareRoot(), etaMax)
        let klStart = klOfStep(start, v, rho, lo, hi)
        var a = 0.0, fa = -budget, klA = 0.0  // feasible end: f = KL - budget <= 0
        var b = etaMax, fb = Double.nan  // infeasible end: f > 0 (fb unknown until evaluated)
        if klStart <= budget {
            a = start; fa = klStart - budget; klA = klStart
            if start == etaMax { return (start, klStart, evaluations) }
            let klMax = klOfStep(etaMax, v, rho, lo, hi)
            evaluations += 1
            if klMax <= budget { return (etaMax, klMax, evaluations) }
            fb = klMax - budget
        } else {
            b = start; fb = klStart - budget
        }
        var side = 0
        while evaluations < 100 {
            if b - a <= 1e-9 * b || budget - klA <= 1e-9 * budget { break }
            var x = (a * fb - b * fa) / (fb - fa)
            if !(x > a && x < b) { x = 0.5 * (a + b) }
            let kl = klOfStep(x, v, rho, lo, hi)
            evaluations += 1
            let fx = kl - budget
            if fx <= 0 {
                a = x; fa = fx; klA = kl
                if side == -1 { fb *= 0.5 }
                side = -1
            } else {
                b = x; fb = fx
                if side == 1 { fa *= 0.5 }
                side = 1
            }
        }
        return (a, klA, evaluations)
    }

    public mutating func update(with statistics: BitStatistics) -> Diagnostics {
        let d = state.distribution.dimension
        precondition(
            statistics.memberCount == state.populationSize && statistics.dimension == d,
            "statistics must cover the whole population (\(statistics.memberCount) of \(state.populationSize) members)")
        let h = state.hyperparameters
        let rho = state.distribution.probabilities
        let m = Double(statistics.populationSize)
        let sumA = Double(statistics.weightSum)
        let sumA2 = Double(statistics.squaredWeightSum)
        let s = sumA2 > 0 ? (m / sumA2).squareRoot() : 0

        // 1. Direction and per-bit noise. The energies are summed over all bits in index order
        // and, for the signal estimates, per block (one block of all d bits unless blockwise).
        let blocks = state.blockRanges
        var g = [Double](repeating: 0, count: d)
        var gradientEnergy = 0.0, noiseEnergy = 0.0
        var blockGradientEnergy = [Double](repeating: 0, count: blocks.count)
        var blockNoiseEnergy = [Double](repeating: 0, count: blocks.count)
        for (b, range) in blocks.enumerated() {
            var gradient = 0.0, noise = 0.0
            for i in range {
                let r = rho[i], fisher = r * (1 - r)
                let gi = s / m * (Double(statistics.weightedCounts[i]) - r * sumA)
                g[i] = gi
                let sumC2 = s * s * (Double(statistics.squaredWeightedCounts[i]) * (1 - 2 * r) + r * r * sumA2)
                let variance = Swift.max(sumC2 - m * gi * gi, 0) / (m - 1)
                gradient += gi * gi / fisher
                noise += variance / (m * fisher)
                gradientEnergy += gi * gi / fisher
                noiseEnergy += variance / (m * fisher)
            }
            blockGradientEnergy[b] = gradient
            blockNoiseEnergy[b] = noise
        }
        let lagOne = Self.fisherInner(g, state.previousGradient, rho)

        // 3. Signal energy, per block.
        let beta = h.momentum
        var direction = g
        func perBlock(_ value: (Range<Int>) -> Double) -> [Double] { blocks.map(value) }
        var raw: [Double]
        switch h.signalEstimator {
        case .lagOneCoherence:
            raw = blocks.count == 1 ? [lagOne] : perBlock { Self.fisherInner(g, state.previousGradient, rho, over: $0) }
        case .directionCoherence:
            // m_{t-1}, bias-corrected, before this generation's g enters it.
            let betaD = h.directionMomentum
            let correction = state.generation > 0 && betaD > 0 ? 1 / (1 - pow(betaD, Double(state.generation))) : 1
            raw = perBlock { range in
                betaD > 0 ? Self.fisherInner(g, state.evolutionPath, rho, over: range) * correction
                    : Self.fisherInner(g, state.previousGradient, rho, over: range)
            }
        case .varianceSubtraction:
            raw = blocks.indices.map { blockGradientEnergy[$0] - blockNoiseEnergy[$0] }
        case .splitHalf:
            let na = Double(statistics.firstHalfMemberCount), nb = m - na
            let sumAa = Double(statistics.firstHalfWeightSum), sumAb = sumA - sumAa
            raw = perBlock { range in
                guard na > 0 && nb > 0 else { return 0 }
                var inner = 0.0
                for i in range {
                    let r = rho[i]
                    let ca = Double(statistics.firstHalfWeightedCounts[i])
                    let cb = Double(statistics.weightedCounts[i]) - ca
                    let ga = s / na * (ca - r * sumAa), gb = s / nb * (cb - r * sumAb)
                    inner += ga * gb / (r * (1 - r))
                }
                return inner
            }
        case .evolutionPath:
            for i in 0..<d { state.evolutionPath[i] = beta * state.evolutionPath[i] + (1 - beta) * g[i] }
            direction = state.evolutionPath
            raw = blocks.enumerated().map { b, range in
                Self.fisherInner(direction, direction, rho, over: range) - blockNoiseEnergy[b] * (1 - beta) / (1 + beta)
            }
        }
        if h.directionMomentum > 0 {
            let betaD = h.directionMomentum
            let correction = 1 / (1 - pow(betaD, Double(state.generation + 1)))
            for i in 0..<d {
                state.evolutionPath[i] = betaD * state.evolutionPath[i] + (1 - betaD) * g[i]
                direction[i] = state.evolutionPath[i] * correction
            }
        }
        var signals = [Double](repeating: 0, count: blocks.count)
        for b in blocks.indices {
            if h.signalEstimator == .evolutionPath {
                state.signalAverages[b] = raw[b]
            } else {
                state.signalAverages[b] = beta * state.signalAverages[b] + (1 - beta) * raw[b]
            }
            signals[b] = Swift.max(state.signalAverages[b], 0)
        }

        // 4-5. Budget and step, per block: delta_b = kappa d S_b.
        let budgets = signals.map { h.trustRadius * Double(d) * $0 }
        var etas = [Double](repeating: 0, count: blocks.count)
        var evaluations = 0
        for (b, range) in blocks.enumerated() {
            let (eta, _, count) = blocks.count == 1
                ? Self.stepSize(direction: direction, rho: rho, budget: budgets[b], etaMax: h.etaMax, bound: h.bound)
                : Self.stepSize(direction: Array(direction[range]), rho: Array(rho[range]),
                                budget: budgets[b], etaMax: h.etaMax, bound: h.bound)
            etas[b] = eta
            evaluations += count
        }
        let old = state.distribution
        if etas.contains(where: { $0 > 0 }) {
            if blocks.count == 1 {
                let eta = etas[0]
                state.distribution.setProbabilities((0..<d).map { rho[$0] + eta * direction[$0] })
            } else {
                var next = rho
                for (b, range) in blocks.enumerated() where etas[b] > 0 {
                    for i in range { next[i] = rho[i] + etas[b] * direction[i] }
                }
                state.distribution.setProbabilities(next)
            }
        }
        let new = state.distribution.probabilities
        if h.signalEstimator == .evolutionPath || h.directionMomentum > 0 {
            let lo = h.bound, hi = 1 - h.bound
            for i in 0..<d {
                let p = state.evolutionPath[i]
                if (p > 0 && new[i] >= hi) || (p < 0 && new[i] <= lo) { state.evolutionPath[i] = 0 }
            }
        }
        state.previousGradient = g
        state.generation += 1

        // 6. Diagnostics.
        var diagnostics = Diagnostics()
        diagnostics.append("gradientEnergy", gradientEnergy)
        diagnostics.append("noiseEnergy", noiseEnergy)
        diagnostics.append("lagOneCoherence", lagOne)
        diagnostics.append("rawSignal", raw.count == 1 ? raw[0] : raw.reduce(0, +))
        diagnostics.append("signalEnergy", signals.count == 1 ? signals[0] : signals.reduce(0, +))
        diagnostics.append("klBudget", budgets.count == 1 ? budgets[0] : budgets.reduce(0, +))
        diagnostics.append("stepSize", etas.max() ?? 0)
        diagnostics.append("klEvaluations", Double(evaluations))
        diagnostics.append("realizedKL", state.distribution.klDivergence(to: old))
        var change = 0.0
        for i in 0..<d { change += abs(new[i] - rho[i]) }
        diagnostics.append("meanAbsoluteChange", change / Double(d))
        diagnostics.append("meanProbability", state.distribution.meanProbability)
        diagnostics.append("meanVariance", state.distribution.meanVariance)
        diagnostics.append("entropy", state.distribution.entropy)
        if blocks.count > 1 {
            for b in blocks.indices {
                diagnostics.append("signalEnergyBlock\(b)", signals[b])
                diagnostics.append("stepSizeBlock\(b)", etas[b])
            }
        }
        return diagnostics
    }
}

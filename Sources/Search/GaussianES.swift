import Randomness

/// The Gaussian evolution-strategy baseline on real weights (OpenAI-style ES; Salimans et al.,
/// "Evolution Strategies as a Scalable Alternative to Reinforcement Learning", 2017), as specified
/// in docs/SEARCH.md, "Gaussian ES".
///
/// Members come in antithetic pairs: member `2p` is `Float(mu + sigma eps_p)`, member `2p + 1` is
/// `Float(mu - sigma eps_p)`, where `eps_p,j` is `nextNormal()` read at block `j` of
/// `CounterStream(seed, generation, member: p, purpose: .gaussianPerturbation)` (one Box-Muller
/// normal per Philox block, so parameter j is random-access).
///
/// Update: centered ranks `u` over all M members, pair weight `w_p = u_{2p} - u_{2p+1}`,
/// `grad_j = (1/P) sum_p w_p eps_p,j` (summed in pair order, in Float64, for every grouping of
/// the parameters: the result does not depend on the thread count), then AdamW ascent
/// (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019):
/// `mu <- mu - lr * wd * mu + lr * mhat / (sqrt(vhat) + 1e-8)`, Adam on `-grad`,
/// lr 0.15, wd 0.1, sigma 0.3.
public struct GaussianESStrategy: SearchStrategy {
    /// ES hyperparameters.
    public struct Hyperparameters: Sendable, Equatable, Codable {
        /// sigma, the perturbation scale (0.3).
        public var sigma: Double = 0.3
        /// AdamW learning rate (0.15).
        public var learningRate: Double = 0.15
        /// Decoupled weight decay (0.1).
        public var weightDecay: Double = 0.1
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var adamEpsilon: Double = 1e-8
        public init() {}
        public init(sigma: Double = 0.3, learningRate: Double = 0.15, weightDecay: Double = 0.1) {
            self.sigma = sigma
            self.learningRate = learningRate
            self.weightDecay = weightDecay
        }
    }

    /// The whole ES state.
    public struct State: Sendable, Equatable, Codable {
        public var hyperparameters: Hyperparameters
        public var seed: UInt64
        public var populationSize: Int
        public var generation: Int
        /// mu, the mean weights (Float64; members are rounded to Float32).
        @PackedDoubles public var mean: [Double]
        public var adam: AdamMoments
    }

    /// The ES gradient estimate of one generation, or of some of its parameter ranges (a share).
    ///
    /// Shares are disjoint parameter ranges; each parameter's gradient is summed over all pairs
    /// in pair order wherever it is computed, so merging shares copies values and is exact.
    public struct Statistics: MergeableStatistics, Equatable {
        /// `(1/P) sum_p w_p eps_p,j` for every parameter j (0 outside `covered`).
        public private(set) var gradient: [Double]
        /// The pair weights `w_p`.
        public var pairWeights: [Double]
        /// The parameter ranges computed, ascending, disjoint and not adjacent.
        public private(set) var covered: [Range<Int>]

        /// The gradient of `parameters` (values for that range), the others absent.
        init(parameterCount: Int, parameters: Range<Int>, values: [Double], pairWeights: [Double]) {
            precondition(values.count == parameters.count, "one value per parameter")
            gradient = [Double](repeating: 0, count: parameterCount)
            gradient.replaceSubrange(parameters, with: values)
            self.pairWeights = pairWeights
            covered = parameters.isEmpty ? [] : [parameters]
        }

        /// Whether every parameter's gradient is present.
        public var isWhole: Bool { covered.reduce(0) { $0 + $1.count } == gradient.count }

        /// Takes the other share's parameter ranges (which must not overlap these).
        public mutating func merge(_ other: Statistics) {
            precondition(other.gradient.count == gradient.count && other.pairWeights == pairWeights,
                         "merging ES statistics of different generations")
            for range in other.covered {
                precondition(!covered.contains { $0.overlaps(range) }, "merging overlapping ES shares")
                gradient.replaceSubrange(range, with: other.gradient[range])
                covered.append(range)
            }
            // Adjacent ranges coalesce, so equal coverage compares equal however it was merged.
            var ranges: [Range<Int>] = []
            for range in covered.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = ranges.last, last.upperBound == range.lowerBound {
                    ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    ranges.append(range)
                }
            }
            covered = ranges
        }

        /// The gradient's bit patterns (0 outside `covered`; a parameter is non-zero in at most one
        /// share, so the element-wise sum is the merged pattern), then the number of parameters
        /// covered.
        public var sums: [Int64] {
            var out = [Int64](repeating: 0, count: gradient.count + 1)
            for range in covered {
                for j in range { out[j] = Int64(bitPattern: gradient[j].bitPattern) }
            }
            out[gradient.count] = Int64(covered.reduce(0) { $0 + $1.count })
            return out
        }

        public func reduced(sums: [Int64]) -> Statistics? {
            let n = gradient.count
            guard sums.count == n + 1, sums[n] == Int64(n) else { return nil }
            return Statistics(
                parameterCount: n, parameters: 0..<n,
                values: sums[0..<n].map { Double(bitPattern: UInt64(bitPattern: $0)) }, pairWeights: pairWeights)
        }
    }

    public private(set) var state: State

    public init(state: State) { self.state = state }

    /// A fresh ES run from `initialMean`.
    ///
    /// Preconditions: an even `populationSize >= 2`; a non-empty mean.
    public init(initialMean: [Double], populationSize: Int, seed: UInt64, hyperparameters: Hyperparameters = .init()) {
        precondition(populationSize >= 2 && populationSize % 2 == 0, "ES needs an even population of at least 2")
        precondition(!initialMean.isEmpty, "ES needs at least one parameter")
        let h = hyperparameters
        state = State(
            hyperparameters: h, seed: seed, populationSize: populationSize, generation: 0, mean: initialMean,
            adam: AdamMoments(count: initialMean.count, beta1: h.beta1, beta2: h.beta2, epsilon: h.adamEpsilon))
    }

    /// A fresh ES run whose mean is drawn N(0, 1) (the DenseSNN initialization) from
    /// `CounterStream(seed, generation: 0, member: 0, purpose: .initialization)`.
    public init(parameterCount: Int, populationSize: Int, seed: UInt64, hyperparameters: Hyperparameters = .init()) {
        precondition(parameterCount >= 1, "ES needs at least one parameter")
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .initialization)
        let mean = (0..<parameterCount).map { _ in stream.nextNormal() }
        self.init(initialMean: mean, populationSize: populationSize, seed: seed, hyperparameters: hyperparameters)
    }

    public var generation: Int { state.generation }
    public var populationSize: Int { state.populationSize }
    public mutating func setPopulationSize(_ populationSize: Int) {
        precondition(populationSize >= 2 && populationSize % 2 == 0, "ES needs an even population of at least 2")
        state.populationSize = populationSize
    }
    public var genomeCount: Int { state.mean.count }

    /// `eps_p,j` for `j in range`, written to `out[0..<range.count]`.
    @inlinable
    func perturbation(pair: Int, range: Range<Int>, into out: UnsafeMutableBufferPointer<Double>) {
        var stream = CounterStream(
            seed: state.seed, generation: state.generation, member: pair, purpose: .gaussianPerturbation)
        stream.seek(toBlock: UInt32(range.lowerBound))
        for j in 0..<range.count { out[j] = stream.nextNormal() }
    }

    public func sampleMember(_ k: Int, into genome: UnsafeMutableBufferPointer<Float>) {
        precondition(genome.count >= genomeCount, "the genome buffer is too small")
        let sign: Double = k & 1 == 0 ? 1 : -1
        let scale = sign * state.hyperparameters.sigma
        var stream = CounterStream(
            seed: state.seed, generation: state.generation, member: k >> 1, purpose: .gaussianPerturbation)
        for j in 0..<state.mean.count {
            genome[j] = Float(state.mean[j] + scale * stream.nextNormal())
        }
    }

    public func mostLikely(into genome: UnsafeMutableBufferPointer<Float>) {
        precondition(genome.count >= genomeCount, "the genome buffer is too small")
        for j in 0..<state.mean.count { genome[j] = Float(state.mean[j]) }
    }

    /// ES's statistics draw the noise of each parameter range again and never read member genomes
    /// back, so its sample keeps none.
    public func ask(keepingIn store: MemberGenomes<Float>?) -> PopulationSample<Float> {
        PopulationSample(strategy: self, store: nil)
    }

    /// The pair weights `w_p = u_{2p} - u_{2p+1}` from centered ranks over all members.
    public static func pairWeights(fitnesses: [Double]) -> [Double] {
        let u = FitnessShaping.centeredRanks(fitnesses)
        var weights = [Double](repeating: 0, count: u.count / 2)
        for p in 0..<weights.count { weights[p] = u[2 * p] - u[2 * p + 1] }
        return weights
    }

    /// The gradient for parameters `range`, each summed over pairs in pair order.
    public func gradient(parameters range: Range<Int>, pairWeights: [Double]) -> [Double] {
        var sums = [Double](repeating: 0, count: range.count)
        var noise = [Double](repeating: 0, count: range.count)
        noise.withUnsafeMutableBufferPointer { eps in
            for (p, w) in pairWeights.enumerated() {
                perturbation(pair: p, range: range, into: eps)
                for j in 0..<range.count { sums[j] += w * eps[j] }
            }
        }
        let inverse = 1 / Double(pairWeights.count)
        return sums.map { $0 * inverse }
    }

    /// The gradient of share `share`'s parameters (part r of P: `[r n / P, (r + 1) n / P)`),
    /// computed with `executor`'s threads over sub-ranges; members are drawn again from their
    /// streams (parameter j is Philox block j), so `sample` contributes only its generation.
    public func statistics(
        of sample: PopulationSample<Float>, fitnesses: [Double], share: StatisticsShare, executor: Executor
    ) -> Statistics {
        precondition(fitnesses.count == state.populationSize, "one fitness per member is required")
        precondition(sample.generation == generation, "the sample is of generation \(sample.generation), not \(generation)")
        let weights = Self.pairWeights(fitnesses: fitnesses)
        let n = state.mean.count
        let lo = share.part * n / share.parts, count = (share.part + 1) * n / share.parts - lo
        let parts = Swift.max(1, Swift.min(executor.threads, count))
        let me = self
        let pieces = Parallel.map(count: parts) { part in
            me.gradient(parameters: (lo + part * count / parts)..<(lo + (part + 1) * count / parts), pairWeights: weights)
        }
        return Statistics(parameterCount: n, parameters: lo..<(lo + count), values: Array(pieces.joined()), pairWeights: weights)
    }

    public mutating func update(with statistics: Statistics) -> Diagnostics {
        precondition(statistics.gradient.count == state.mean.count && statistics.isWhole,
                     "the statistics must hold the gradient of every parameter")
        let h = state.hyperparameters
        let direction = state.adam.step(gradient: statistics.gradient.map { -$0 })
        var stepSquared = 0.0
        for j in 0..<state.mean.count {
            let old = state.mean[j]
            let new = old - h.learningRate * h.weightDecay * old - h.learningRate * direction[j]
            stepSquared += (new - old) * (new - old)
            state.mean[j] = new
        }
        state.generation += 1
        var d = Diagnostics()
        d.append("gradientNorm", statistics.gradient.reduce(0) { $0 + $1 * $1 }.squareRoot())
        d.append("stepNorm", stepSquared.squareRoot())
        d.append("meanNorm", state.mean.reduce(0) { $0 + $1 * $1 }.squareRoot())
        d.append("meanAbsoluteWeight", state.mean.reduce(0) { $0 + abs($1) } / Double(state.mean.count))
        return d
    }
}

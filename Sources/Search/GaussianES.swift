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

    /// The ES gradient estimate of one generation.
    public struct Statistics: Sendable, Equatable {
        /// `(1/P) sum_p w_p eps_p,j`.
        public var gradient: [Double]
        /// The pair weights `w_p`.
        public var pairWeights: [Double]
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

    public func statistics(fitnesses: [Double], threads: Int = 1) -> Statistics {
        precondition(fitnesses.count == state.populationSize, "one fitness per member is required")
        let weights = Self.pairWeights(fitnesses: fitnesses)
        let n = state.mean.count
        let parts = Swift.max(1, Swift.min(threads, n))
        let me = self
        let pieces = Parallel.map(count: parts) { part in
            me.gradient(parameters: (part * n / parts)..<((part + 1) * n / parts), pairWeights: weights)
        }
        return Statistics(gradient: Array(pieces.joined()), pairWeights: weights)
    }

    public mutating func update(with statistics: Statistics) -> Diagnostics {
        precondition(statistics.gradient.count == state.mean.count, "gradient has the wrong dimension")
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

/// EC, the reference update: the natural-gradient (NES) estimate of a Bernoulli distribution in
/// mean parameters, stepped with Adam (docs/SEARCH.md, "EC").
///
/// Per generation, with centered ranks `u_k` and members `theta_k`:
/// `g_i = (1/M) sum_k u_k (theta_k,i - rho_i)`
/// `    = (weightedCounts_i - rho_i sum a) / (2 (M - 1) M)`   (exact integer sums, `BitStatistics`);
/// Adam on `-g` (beta1 0.9, beta2 0.999, eps 1e-8, bias correction), learning rate 0.15:
/// `rho <- clip(rho + lr * mhat(g) / (sqrt(vhat(g)) + 1e-8), eps, 1 - eps)`, eps = 1e-3.
/// The first step therefore moves every rho from 0.5 to 0.5 +- 0.15 * |g| / (|g| + 1e-8)
/// (0.35 or 0.65 to within 1e-6 whenever |g_i| > 1e-2; a bit with g_i = 0 exactly stays).
public struct ECStrategy: BitSearchStrategy {
    /// EC hyperparameters.
    public struct Hyperparameters: Sendable, Equatable, Codable {
        /// Adam learning rate (0.15).
        public var learningRate: Double = 0.15
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var adamEpsilon: Double = 1e-8
        /// eps, the probability bound (1e-3).
        public var bound: Double = BernoulliDistribution.defaultBound
        /// Mirrored pairs (members 2p, 2p + 1 share uniforms).
        public var mirrored: Bool = false
        public init() {}
    }

    /// The whole EC state.
    public struct State: Sendable, Equatable, Codable {
        public var hyperparameters: Hyperparameters
        public var seed: UInt64
        public var populationSize: Int
        public var generation: Int
        public var distribution: BernoulliDistribution
        public var adam: AdamMoments
    }

    public private(set) var state: State

    public init(state: State) { self.state = state }

    /// A fresh EC run over `dimension` bits, all rho = 0.5.
    ///
    /// Preconditions: `populationSize >= 2` (even when mirrored), `dimension >= 1`.
    public init(dimension: Int, populationSize: Int, seed: UInt64, hyperparameters: Hyperparameters = .init()) {
        precondition(populationSize >= 2, "EC needs a population of at least 2")
        precondition(!hyperparameters.mirrored || populationSize % 2 == 0, "mirrored sampling needs an even population")
        let h = hyperparameters
        state = State(
            hyperparameters: h, seed: seed, populationSize: populationSize, generation: 0,
            distribution: BernoulliDistribution(dimension: dimension, bound: h.bound),
            adam: AdamMoments(count: dimension, beta1: h.beta1, beta2: h.beta2, epsilon: h.adamEpsilon))
    }

    public var generation: Int { state.generation }
    public var populationSize: Int { state.populationSize }
    public mutating func setPopulationSize(_ populationSize: Int) {
        precondition(populationSize >= 2, "EC needs a population of at least 2")
        precondition(!isMirrored || populationSize % 2 == 0, "mirrored sampling needs an even population")
        state.populationSize = populationSize
    }
    public var genomeCount: Int { state.distribution.wordsPerMember }
    /// The current search distribution.
    public var distribution: BernoulliDistribution { state.distribution }
    public var isMirrored: Bool { state.hyperparameters.mirrored }

    public var seed: UInt64 { state.seed }

    /// The natural-gradient estimate `g_i = (1/M) sum_k u_k (theta_k,i - rho_i)`.
    public func gradient(from statistics: BitStatistics) -> [Double] {
        let m = Double(statistics.populationSize)
        let scale = 1 / (2 * (m - 1) * m)
        let rho = state.distribution.probabilities
        let sumA = Double(statistics.weightSum)
        return (0..<rho.count).map { i in (Double(statistics.weightedCounts[i]) - rho[i] * sumA) * scale }
    }

    public mutating func update(with statistics: BitStatistics) -> Diagnostics {
        precondition(
            statistics.memberCount == state.populationSize && statistics.dimension == state.distribution.dimension,
            "statistics must cover the whole population (\(statistics.memberCount) of \(state.populationSize) members)")
        let g = gradient(from: statistics)
        let rho = state.distribution.probabilities
        let direction = state.adam.step(gradient: g.map { -$0 })
        let lr = state.hyperparameters.learningRate
        let old = state.distribution
        state.distribution.setProbabilities((0..<rho.count).map { rho[$0] - lr * direction[$0] })
        state.generation += 1

        var d = Diagnostics()
        let new = state.distribution.probabilities
        d.append("gradientNorm", g.reduce(0) { $0 + $1 * $1 }.squareRoot())
        d.append("fisherGradientEnergy", (0..<rho.count).reduce(0) { $0 + g[$1] * g[$1] / (rho[$1] * (1 - rho[$1])) })
        d.append("realizedKL", state.distribution.klDivergence(to: old))
        d.append("meanAbsoluteChange", (0..<rho.count).reduce(0) { $0 + abs(new[$1] - rho[$1]) } / Double(rho.count))
        d.append("meanProbability", state.distribution.meanProbability)
        d.append("meanVariance", state.distribution.meanVariance)
        d.append("entropy", state.distribution.entropy)
        return d
    }
}

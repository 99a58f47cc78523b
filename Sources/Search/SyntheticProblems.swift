import Randomness

/// Synthetic bit problems with known optima, for tests, `satr bench search --synthetic` and
/// docs/SEARCH.md (no environment involved).
///
/// Fitness of a member theta: `F = sum_{j} w_j theta_{i_j} + noiseSD * n`, with `n` a standard
/// normal from `CounterStream(seed, t, k, purpose: .evaluation)`. The optimum of the noise-free
/// part is `sum_j max(w_j, 0)`.
public struct LinearBitProblem: Sendable, Equatable {
    /// d, the number of bits.
    public let dimension: Int
    /// The relevant bit indices i_j.
    public let relevantBits: [Int]
    /// Their weights w_j.
    public let weights: [Double]
    /// The standard deviation of the additive fitness noise.
    public let noiseSD: Double
    /// Seed of the noise streams.
    public let seed: UInt64

    public init(dimension: Int, relevantBits: [Int], weights: [Double], noiseSD: Double, seed: UInt64) {
        precondition(relevantBits.count == weights.count, "one weight per relevant bit")
        precondition(relevantBits.allSatisfy { $0 >= 0 && $0 < dimension }, "relevant bit out of range")
        self.dimension = dimension
        self.relevantBits = relevantBits
        self.weights = weights
        self.noiseSD = noiseSD
        self.seed = seed
    }

    /// The numpy prototype of docs/SEARCH.md ("Synthetic results"): `relevantCount` bits (every
    /// `d / relevantCount`-th, with a random offset) with N(0, 1) weights; noise sd
    /// `2 sqrt(relevantCount)` when `noisy`.
    public static func prototype(dimension: Int = 20_000, relevantCount: Int = 500, noisy: Bool, seed: UInt64) -> Self {
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .auxiliary)
        let stride = dimension / relevantCount
        let offset = Int(stream.nextWord()) % stride
        let bits = (0..<relevantCount).map { $0 * stride + offset }
        let weights = (0..<relevantCount).map { _ in stream.nextNormal() }
        return Self(
            dimension: dimension, relevantBits: bits, weights: weights,
            noiseSD: noisy ? 2 * Double(relevantCount).squareRoot() : 0, seed: seed)
    }

    /// Weighted OneMax: every bit relevant, weights uniform in [0.5, 1.5); optimum all ones.
    public static func weightedOneMax(dimension: Int, noiseSD: Double = 0, seed: UInt64) -> Self {
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .auxiliary)
        let weights = (0..<dimension).map { _ in 0.5 + stream.nextUniformDouble() }
        return Self(dimension: dimension, relevantBits: Array(0..<dimension), weights: weights, noiseSD: noiseSD, seed: seed)
    }

    /// Pure noise: the fitness is independent of theta.
    public static func pureNoise(dimension: Int, seed: UInt64) -> Self {
        Self(dimension: dimension, relevantBits: [], weights: [], noiseSD: 1, seed: seed)
    }

    /// `sum_j max(w_j, 0)`.
    public var optimum: Double { weights.reduce(0) { $0 + Swift.max($1, 0) } }

    /// The noise-free value `sum_j w_j theta_{i_j}`.
    public func value(_ words: UnsafeBufferPointer<UInt64>) -> Double {
        var total = 0.0
        for (j, i) in relevantBits.enumerated() where (words[i >> 6] >> UInt64(i & 63)) & 1 == 1 {
            total += weights[j]
        }
        return total
    }

    /// The value with the noise of member `member` in generation `generation`.
    public func fitness(_ words: UnsafeBufferPointer<UInt64>, generation: Int, member: Int) -> Double {
        var f = value(words)
        if noiseSD > 0 {
            var stream = CounterStream(seed: seed, generation: generation, member: member, purpose: .evaluation)
            f += noiseSD * stream.nextNormal()
        }
        return f
    }

    /// Number of relevant bits whose most likely value (rho > 0.5) is optimal.
    public func correctBits(_ words: [UInt64]) -> Int {
        var count = 0
        for (j, i) in relevantBits.enumerated() {
            let bit = (words[i >> 6] >> UInt64(i & 63)) & 1 == 1
            if bit == (weights[j] > 0) { count += 1 }
        }
        return count
    }
}

/// Runs a bit optimizer on a `LinearBitProblem`: each generation samples every member once,
/// evaluates it, and fills the `BitStatistics` from the stored members on `threads` threads
/// (so members are not regenerated).
public enum SyntheticRun {
    /// The state of a run after each generation, passed to `observe`.
    public struct Progress: Sendable {
        /// The generation just completed (0-based).
        public var generation: Int
        /// The optimizer's diagnostics.
        public var diagnostics: Diagnostics
        /// `value(mostLikely) / optimum` after the update.
        public var foundOverOptimum: Double
        /// Whether the most likely member is optimal on every relevant bit.
        public var optimal: Bool
    }

    /// Runs `generations` generations (or until `stopAtOptimum` and the most likely member is
    /// optimal) and returns the progress of the last one.
    @discardableResult
    public static func run<S: BitSearchStrategy>(
        _ strategy: inout S, problem: LinearBitProblem, generations: Int, threads: Int = 1,
        stopAtOptimum: Bool = false, observe: (Progress) -> Void = { _ in }
    ) -> Progress {
        let m = strategy.populationSize
        let words = strategy.genomeCount
        let parts = Swift.max(1, Swift.min(threads, m))
        var last = Progress(generation: -1, diagnostics: Diagnostics(), foundOverOptimum: 0, optimal: false)
        // Members are sampled once; the statistics take them from here, as in training.
        let genomes = MemberGenomes<UInt64>(members: m, genomeCount: words)
        for _ in 0..<generations {
            let t = strategy.generation
            let sample = strategy.ask(keepingIn: genomes)
            let sampled = Parallel.map(count: parts) { part -> [Double] in
                let lo = part * m / parts, hi = (part + 1) * m / parts
                var member = [UInt64](repeating: 0, count: words)
                return (lo..<hi).map { k in
                    member.withUnsafeMutableBufferPointer { sample.draw(member: k, into: $0) }
                    return member.withUnsafeBufferPointer { problem.fitness($0, generation: t, member: k) }
                }
            }
            let statistics = strategy.statistics(of: sample, fitnesses: Array(sampled.joined()), executor: Executor(threads: threads))
            let diagnostics = strategy.update(with: statistics)
            let best = strategy.mostLikely()
            let value = best.withUnsafeBufferPointer { problem.value($0) }
            let optimum = problem.optimum
            last = Progress(
                generation: t, diagnostics: diagnostics,
                foundOverOptimum: optimum > 0 ? value / optimum : 0,
                optimal: problem.correctBits(best) == problem.relevantBits.count)
            observe(last)
            if stopAtOptimum && last.optimal { break }
        }
        return last
    }
}

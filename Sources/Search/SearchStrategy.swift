/// Named per-generation diagnostics of an optimizer, in a fixed order (the trainer writes each one
/// into `metrics.jsonl`).
public struct Diagnostics: Sendable, Equatable, Codable {
    /// One named value.
    public struct Entry: Sendable, Equatable, Codable {
        public var name: String
        public var value: Double
        public init(name: String, value: Double) {
            self.name = name
            self.value = value
        }
    }

    /// The entries in the order the optimizer reports them.
    public private(set) var entries: [Entry] = []

    public init() {}

    /// Appends `name = value` (replacing an earlier entry of the same name in place).
    public mutating func append(_ name: String, _ value: Double) {
        if let i = entries.firstIndex(where: { $0.name == name }) {
            entries[i].value = value
        } else {
            entries.append(Entry(name: name, value: value))
        }
    }

    /// The value named `name`, if reported.
    public subscript(name: String) -> Double? {
        entries.first(where: { $0.name == name })?.value
    }

    /// The names in order.
    public var names: [String] { entries.map(\.name) }
}

/// An ask/tell search strategy whose whole state is one value.
///
/// One generation: `sampleMember(k, into:)` for `k in 0..<populationSize` (any thread, any order,
/// any process: a member is a pure function of the state and `k`), evaluate, then
/// `tell(fitnesses:)`, which advances `state` (including the generation counter) and returns the
/// generation's diagnostics. `state` is `Codable`; restoring it with `init(state:)` resumes the run
/// bit-identically.
public protocol SearchStrategy: Sendable {
    /// Everything the strategy needs to continue: hyperparameters, distribution, moments,
    /// generation counter, run seed.
    associatedtype State: Codable, Sendable, Equatable
    /// The element type of a genome (`UInt64` words of bits, or `Float` weights).
    associatedtype GenomeElement: BitwiseCopyable & Sendable
    /// Sufficient statistics of a population for the update; computable in parts and mergeable.
    associatedtype Statistics: Sendable

    /// The whole optimizer state.
    var state: State { get }
    /// Resumes from a saved state.
    init(state: State)

    /// The generation about to be sampled (0-based).
    var generation: Int { get }
    /// M, the members per generation.
    var populationSize: Int { get }
    /// The number of genome elements of one member (`wordsPerMember` or the parameter count).
    var genomeCount: Int { get }

    /// Writes member `k` of the current generation into `genome` (`genomeCount` elements).
    func sampleMember(_ k: Int, into genome: UnsafeMutableBufferPointer<GenomeElement>)
    /// Writes the deterministic policy (bits with rho > 0.5, or the mean weights).
    func mostLikely(into genome: UnsafeMutableBufferPointer<GenomeElement>)

    /// The statistics of the current generation's population given its fitnesses (regenerates the
    /// members on `threads` threads; the result does not depend on `threads`).
    func statistics(fitnesses: [Double], threads: Int) -> Statistics
    /// The same statistics, taking the members' genomes from `genomes` where it holds them for
    /// the current generation instead of sampling them again (bit strategies; the default ignores
    /// `genomes`). The result equals `statistics(fitnesses:threads:)` bit for bit.
    func statistics(fitnesses: [Double], threads: Int, genomes: MemberGenomes<GenomeElement>?) -> Statistics
    /// Whether `statistics(fitnesses:threads:genomes:)` uses stored genomes (so that keeping them
    /// during the rollouts pays).
    static var reusesMemberGenomes: Bool { get }
    /// Steps the state with statistics of the current generation; returns the diagnostics.
    mutating func update(with statistics: Statistics) -> Diagnostics
}

/// A strategy over bit genomes (SATR, EC): members are `BernoulliDistribution` samples and the
/// statistics are the exact integer sums of `BitStatistics`.
public protocol BitSearchStrategy: SearchStrategy where GenomeElement == UInt64, Statistics == BitStatistics {
    /// The current search distribution.
    var distribution: BernoulliDistribution { get }
    /// Whether members come in mirrored pairs.
    var isMirrored: Bool { get }
    /// The run seed that keys the members' connectivity streams.
    var seed: UInt64 { get }
}

extension BitSearchStrategy {
    /// Member `k` of the current generation: `theta_k,i = (U_k,i < rho_i)` from the stream
    /// (seed, generation, k, connectivity) (mirrored pairs: see `BernoulliDistribution.sample`).
    public func sampleMember(_ k: Int, into genome: UnsafeMutableBufferPointer<UInt64>) {
        distribution.sample(member: k, generation: generation, seed: seed, mirrored: isMirrored, into: genome)
    }

    /// The most likely network, `theta_i = (rho_i > 0.5)`.
    public func mostLikely(into genome: UnsafeMutableBufferPointer<UInt64>) {
        distribution.mostLikely(into: genome)
    }

    /// The exact integer statistics of the current generation for `fitnesses` (member order),
    /// regenerating the members on `threads` threads; identical for any thread count.
    public func statistics(fitnesses: [Double], threads: Int = 1) -> BitStatistics {
        statistics(fitnesses: fitnesses, threads: threads, genomes: nil)
    }

    /// The same, with member bits taken from `genomes` where it holds them for this generation.
    public func statistics(fitnesses: [Double], threads: Int, genomes: MemberGenomes<UInt64>?) -> BitStatistics {
        precondition(fitnesses.count == populationSize, "one fitness per member is required")
        return BitStatistics.compute(
            weights: FitnessShaping.integerWeights(fitnesses), distribution: distribution,
            generation: generation, seed: seed, mirrored: isMirrored, threads: threads, genomes: genomes)
    }

    public static var reusesMemberGenomes: Bool { true }

    /// Empty statistics for the current generation, for workers that fill disjoint member subsets
    /// with `BitStatistics.add` (members they already hold) and `merge` them.
    public func emptyStatistics() -> BitStatistics {
        BitStatistics(dimension: distribution.dimension, populationSize: populationSize, mirrored: isMirrored)
    }
}

extension SearchStrategy {
    /// Default: no reuse; the statistics regenerate every member.
    public func statistics(fitnesses: [Double], threads: Int, genomes: MemberGenomes<GenomeElement>?) -> Statistics {
        statistics(fitnesses: fitnesses, threads: threads)
    }

    /// Default: genomes are not reused.
    public static var reusesMemberGenomes: Bool { false }

    /// Shapes `fitnesses` (one per member, member order), computes the statistics on `threads`
    /// threads and steps the state. Equivalent to `update(with: statistics(fitnesses:threads:))`.
    public mutating func tell(fitnesses: [Double], threads: Int = 1) -> Diagnostics {
        precondition(fitnesses.count == populationSize, "tell needs one fitness per member")
        return update(with: statistics(fitnesses: fitnesses, threads: threads))
    }

    /// Member `k` as a new array.
    public func sampleMember(_ k: Int) -> [GenomeElement] where GenomeElement: Numeric {
        var genome = [GenomeElement](repeating: 0, count: genomeCount)
        genome.withUnsafeMutableBufferPointer { sampleMember(k, into: $0) }
        return genome
    }

    /// The deterministic policy as a new array.
    public func mostLikely() -> [GenomeElement] where GenomeElement: Numeric {
        var genome = [GenomeElement](repeating: 0, count: genomeCount)
        genome.withUnsafeMutableBufferPointer { mostLikely(into: $0) }
        return genome
    }
}

/// Adam moments (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), as a value.
///
/// `step(gradient:)` returns the update direction `mhat / (sqrt(vhat) + epsilon)` with
/// `m = beta1 m + (1 - beta1) g`, `v = beta2 v + (1 - beta2) g^2`,
/// `mhat = m / (1 - beta1^t)`, `vhat = v / (1 - beta2^t)`; the caller subtracts
/// `learningRate * direction` from its parameters to descend `g`.
public struct AdamMoments: Sendable, Equatable, Codable {
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    /// First moments m.
    @PackedDoubles public private(set) var firstMoments: [Double]
    /// Second moments v.
    @PackedDoubles public private(set) var secondMoments: [Double]
    /// Steps taken t.
    public private(set) var stepCount: Int = 0

    public init(count: Int, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoments = [Double](repeating: 0, count: count)
        secondMoments = [Double](repeating: 0, count: count)
    }

    /// Advances the moments with `gradient` and returns the bias-corrected direction.
    public mutating func step(gradient: [Double]) -> [Double] {
        precondition(gradient.count == firstMoments.count, "gradient has the wrong dimension")
        stepCount += 1
        let c1 = 1 - pow(beta1, Double(stepCount))
        let c2 = 1 - pow(beta2, Double(stepCount))
        var direction = [Double](repeating: 0, count: gradient.count)
        for i in 0..<gradient.count {
            let g = gradient[i]
            firstMoments[i] = beta1 * firstMoments[i] + (1 - beta1) * g
            secondMoments[i] = beta2 * secondMoments[i] + (1 - beta2) * g * g
            let mHat = firstMoments[i] / c1
            let vHat = secondMoments[i] / c2
            direction[i] = mHat / (vHat.squareRoot() + epsilon)
        }
        return direction
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

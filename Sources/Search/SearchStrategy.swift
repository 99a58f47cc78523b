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

/// How many threads compute a piece of work (the statistics of a generation). Given once by
/// whoever runs the search; no result depends on it.
public struct Executor: Sendable, Equatable {
    /// Threads to use, at least 1.
    public let threads: Int

    public init(threads: Int) {
        precondition(threads >= 1, "an executor needs at least one thread")
        self.threads = threads
    }

    /// One thread.
    public static let serial = Executor(threads: 1)
}

/// Which share of a generation's statistics one of several cooperating processes computes:
/// part `part` of `parts` (the strategy decides what a part is: members for the bit strategies,
/// parameters for Gaussian ES).
public struct StatisticsShare: Sendable, Equatable {
    public let part: Int
    public let parts: Int

    public init(part: Int, of parts: Int) {
        precondition(parts >= 1 && part >= 0 && part < parts, "part \(part) of \(parts)")
        self.part = part
        self.parts = parts
    }

    /// The whole statistics, on one process.
    public static let whole = StatisticsShare(part: 0, of: 1)
}

/// Statistics that cooperating workers compute in parts and combine exactly.
///
/// Merging the parts of one split (`SearchStrategy.statistics(of:fitnesses:share:executor:)` for
/// every part) gives the statistics of the whole population bit for bit, in any order. For
/// processes the parts travel as `Int64` sums: the element-wise sum of the parts' `sums` is the
/// `sums` of their merge (an exact all-reduce).
public protocol MergeableStatistics: Sendable {
    /// Adds another part's statistics.
    mutating func merge(_ other: Self)
    /// This part as `Int64` sums (see the protocol).
    var sums: [Int64] { get }
    /// Statistics shaped like `self` holding `sums` (the element-wise sum of all parts' `sums`),
    /// or nil when `sums` does not describe a whole population of this shape.
    func reduced(sums: [Int64]) -> Self?
}

/// An ask/tell search strategy whose whole state is one value.
///
/// One generation: `ask()` gives the generation's `PopulationSample`; workers `draw` members from
/// it (any thread, any order, any process: a member is a pure function of the state and `k`) and
/// evaluate them; then `statistics(of:fitnesses:)` on the sample and the fitnesses, and
/// `update(with:)`, which advances `state` (including the generation counter) and returns the
/// generation's diagnostics (`tell` does both). `state` is `Codable`; restoring it with
/// `init(state:)` resumes the run bit-identically.
public protocol SearchStrategy: Sendable {
    /// Everything the strategy needs to continue: hyperparameters, distribution, moments,
    /// generation counter, run seed.
    associatedtype State: Codable, Sendable, Equatable
    /// The element type of a genome (`UInt64` words of bits, or `Float` weights).
    associatedtype GenomeElement: BitwiseCopyable & Sendable
    /// Sufficient statistics of a population for the update; computable in parts and mergeable.
    associatedtype Statistics: MergeableStatistics

    /// The whole optimizer state.
    var state: State { get }
    /// Resumes from a saved state.
    init(state: State)

    /// The generation about to be sampled (0-based).
    var generation: Int { get }
    /// M, the members per generation.
    var populationSize: Int { get }
    /// Sets M for the current generation and the ones after it (a population schedule); the
    /// search distribution and every other part of the state stay as they are. Precondition: a
    /// population the strategy accepts (>= 2; even when its members come in pairs).
    mutating func setPopulationSize(_ populationSize: Int)
    /// The number of genome elements of one member (`wordsPerMember` or the parameter count).
    var genomeCount: Int { get }

    /// Writes member `k` of the current generation into `genome` (`genomeCount` elements).
    func sampleMember(_ k: Int, into genome: UnsafeMutableBufferPointer<GenomeElement>)
    /// Writes the deterministic policy (bits with rho > 0.5, or the mean weights).
    func mostLikely(into genome: UnsafeMutableBufferPointer<GenomeElement>)

    /// The current generation's sample: the workers draw members from it; with `store` it may
    /// keep the drawn genomes there for the statistics (a strategy whose statistics never read
    /// genomes back keeps none). The default keeps them.
    func ask(keepingIn store: MemberGenomes<GenomeElement>?) -> PopulationSample<GenomeElement>

    /// Share `share` of the statistics of the current generation: `sample` is what this process
    /// drew of it (`ask()`), `fitnesses` holds all M fitnesses in member order. Merging every
    /// share of a split gives the `.whole` statistics bit for bit; the result does not depend on
    /// `executor`, nor on which genomes `sample` kept.
    func statistics(
        of sample: PopulationSample<GenomeElement>, fitnesses: [Double], share: StatisticsShare, executor: Executor
    ) -> Statistics
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

    /// The exact integer statistics. The whole: every member, its bits taken from `sample` where
    /// it kept them and drawn again from the same streams where not. A share of several: the
    /// members `sample` kept (the members this process drew), or, when it keeps none, the
    /// contiguous block `[part M / parts, (part + 1) M / parts)`, drawn again.
    public func statistics(
        of sample: PopulationSample<UInt64>, fitnesses: [Double], share: StatisticsShare, executor: Executor
    ) -> BitStatistics {
        precondition(fitnesses.count == populationSize, "one fitness per member is required")
        precondition(sample.generation == generation, "the sample is of generation \(sample.generation), not \(generation)")
        let m = populationSize
        let members: [Int]
        if share.parts == 1 {
            members = Array(0..<m)
        } else if sample.keepsGenomes {
            members = sample.keptMembers
        } else {
            members = Array((share.part * m / share.parts) ..< ((share.part + 1) * m / share.parts))
        }
        var statistics = emptyStatistics()
        statistics.accumulate(
            members: members, weights: FitnessShaping.integerWeights(fitnesses), distribution: distribution,
            generation: generation, seed: seed, mirrored: isMirrored, sample: sample, executor: executor)
        return statistics
    }

    /// Empty statistics for the current generation, for workers that fill disjoint member subsets
    /// with `BitStatistics.add` (members they already hold) and `merge` them.
    public func emptyStatistics() -> BitStatistics {
        BitStatistics(dimension: distribution.dimension, populationSize: populationSize, mirrored: isMirrored)
    }
}

extension SearchStrategy {
    /// Default: the sample keeps the drawn genomes in `store`.
    public func ask(keepingIn store: MemberGenomes<GenomeElement>?) -> PopulationSample<GenomeElement> {
        PopulationSample(strategy: self, store: store)
    }

    /// A sample that keeps nothing (the statistics draw every member again).
    public func ask() -> PopulationSample<GenomeElement> {
        PopulationSample(strategy: self, store: nil)
    }

    /// The whole statistics of the current generation (`share: .whole`).
    public func statistics(of sample: PopulationSample<GenomeElement>, fitnesses: [Double], executor: Executor = .serial) -> Statistics {
        statistics(of: sample, fitnesses: fitnesses, share: .whole, executor: executor)
    }

    /// The whole statistics for `fitnesses`, every member drawn again (a sample that keeps nothing).
    public func statistics(fitnesses: [Double], threads: Int = 1) -> Statistics {
        statistics(of: ask(), fitnesses: fitnesses, executor: Executor(threads: threads))
    }

    /// Computes the statistics of `sample` with `fitnesses` (one per member, member order) and
    /// steps the state: `update(with: statistics(of:fitnesses:executor:))`.
    public mutating func tell(_ sample: PopulationSample<GenomeElement>, fitnesses: [Double], executor: Executor = .serial) -> Diagnostics {
        precondition(fitnesses.count == populationSize, "tell needs one fitness per member")
        return update(with: statistics(of: sample, fitnesses: fitnesses, executor: executor))
    }

    /// `tell` with a sample that keeps nothing (every member drawn again for the statistics).
    public mutating func tell(fitnesses: [Double], threads: Int = 1) -> Diagnostics {
        tell(ask(), fitnesses: fitnesses, executor: Executor(threads: threads))
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

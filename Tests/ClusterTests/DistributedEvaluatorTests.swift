import XCTest
import Randomness
import Training
@testable import Cluster

/// A stand-in for the training evaluator: each member's outcome is a pure function of
/// (seed, generation, member), drawn from the counter streams, with uneven "episode lengths".
private final class FakeEvaluator: PopulationEvaluating {
    typealias Population = UInt64
    let observationSize: Int
    private(set) var evaluatedMembers: [Int] = []

    init(observationSize: Int) { self.observationSize = observationSize }

    func evaluate(_ request: GenerationRequest<UInt64>) throws -> [MemberOutcome] {
        evaluatedMembers += request.members
        return request.members.map { k in
            var s = CounterStream(seed: request.population, generation: request.generation, member: k, purpose: .evaluation)
            var stats = ObservationStatistics(size: observationSize)
            let steps = 1 + Int(s.nextWord() % 50)
            for _ in 0..<steps { stats.add((0..<observationSize).map { _ in s.nextNormal() }) }
            let fitness = k % 7 == 3 ? -Double.infinity : s.nextNormal() * 100
            return MemberOutcome(fitness: fitness, steps: steps, episodes: 1, diverged: fitness.isInfinite, observations: stats)
        }
    }
}

final class DistributedEvaluatorTests: XCTestCase {
    private static func request(members: [Int], generation: Int) -> GenerationRequest<UInt64> {
        GenerationRequest(
            generation: generation, members: members, population: 1234,
            normalization: .identity(size: 3))
    }

    func testMemberOutcomeRoundTripIsExact() throws {
        let outcomes = try FakeEvaluator(observationSize: 5).evaluate(Self.request(members: Array(0..<9), generation: 2))
        var w = ByteWriter()
        for o in outcomes { o.encode(to: &w) }
        var r = ByteReader(w.bytes)
        for o in outcomes {
            let back = try MemberOutcome.decode(from: &r)
            XCTAssertEqual(back.fitness.bitPattern, o.fitness.bitPattern)
            XCTAssertEqual(back, o)
        }
        XCTAssertTrue(r.isAtEnd)
        var truncated = ByteReader(Array(w.bytes.prefix(30)))
        XCTAssertThrowsError(try MemberOutcome.decode(from: &truncated))
    }

    /// P ranks (threads here, processes under MPI) return exactly what one evaluator returns, and
    /// every member is evaluated once, by the rank the partition names.
    func testAnyRankCountGivesTheSameOutcomes() throws {
        let members = Array(0..<23).map { $0 * 2 + 1 }  // not 0..<n: positions, not values, are partitioned
        let reference = try FakeEvaluator(observationSize: 4).evaluate(Self.request(members: members, generation: 5))
        for p in 1...4 { for sharing in [WorkSharing.dynamic, .static] {
            let perRank = try runRanks(p) { group -> ([MemberOutcome], [Int], GenerationCommunication?) in
                let fake = FakeEvaluator(observationSize: 4)
                let distributed = DistributedPopulationEvaluator(local: fake, group: group, sharing: sharing)
                let got = try distributed.evaluate(Self.request(members: members, generation: 5))
                return (got, fake.evaluatedMembers, distributed.log.last)
            }
            var evaluated: [Int] = []
            for (r, (got, mine, log)) in perRank.enumerated() {
                XCTAssertEqual(got, reference, "P=\(p) rank \(r)")
                XCTAssertEqual(zip(got, reference).filter { $0.fitness.bitPattern != $1.fitness.bitPattern }.count, 0)
                evaluated += mine
                XCTAssertEqual(log?.localMembers, mine.count)
                XCTAssertEqual(log?.evaluationSecondsByRank.count, p)
                if p > 1 { XCTAssertGreaterThan(log?.bytesReceived ?? 0, log?.bytesSent ?? 0) }
            }
            XCTAssertEqual(evaluated.sorted(), members, "P=\(p) \(sharing): each member exactly once")
        } }
    }

    func testMoreRanksThanMembers() throws {
        let members = [4, 9]
        let reference = try FakeEvaluator(observationSize: 2).evaluate(Self.request(members: members, generation: 0))
        let results = try runRanks(3) { group in
            try DistributedPopulationEvaluator(local: FakeEvaluator(observationSize: 2), group: group)
                .evaluate(Self.request(members: members, generation: 0))
        }
        for got in results { XCTAssertEqual(got, reference) }
    }
}

import Search

final class DistributedStatisticsTests: XCTestCase {
    /// Each rank's block of the bit statistics, all-reduced as Int64 sums, equals the single-process
    /// statistics exactly, for SATR (mirrored or not) and EC; Gaussian ES is left to every rank.
    func testReducedStatisticsEqualSingleProcess() throws {
        let d = 200, m = 10
        let fitnesses = (0..<m).map { Double(($0 * 7) % m) - 3.5 }
        var mirroredHyper = SATRStrategy.Hyperparameters()
        mirroredHyper.mirrored = true
        let strategies: [any BitSearchStrategy] = [
            SATRStrategy(dimension: d, populationSize: m, seed: 5, hyperparameters: SATRStrategy.Hyperparameters()),
            SATRStrategy(dimension: d, populationSize: m, seed: 5, hyperparameters: mirroredHyper),
            ECStrategy(dimension: d, populationSize: m, seed: 9, hyperparameters: ECStrategy.Hyperparameters()),
        ]
        for strategy in strategies {
            let reference = strategy.statistics(fitnesses: fitnesses, threads: 1)
            for p in 2...3 {
                let results = try runRanks(p) { group -> BitStatistics? in
                    try Self.distributedStatistics(strategy, group: group, fitnesses: fitnesses, keep: nil)
                }
                for (r, got) in results.enumerated() {
                    XCTAssertEqual(got, reference, "\(type(of: strategy)) P=\(p) rank \(r)")
                }
                // Each rank counts the members it evaluated (strided, as `evaluateAll` splits
                // them) from the genomes it kept instead of a regenerated block.
                let kept = try runRanks(p) { group -> BitStatistics? in
                    try Self.distributedStatistics(strategy, group: group, fitnesses: fitnesses,
                                                   keep: Array(stride(from: group.rank, to: m, by: p)))
                }
                for (r, got) in kept.enumerated() {
                    XCTAssertEqual(got, reference, "kept genomes, \(type(of: strategy)) P=\(p) rank \(r)")
                }
            }
        }
        // One rank: nothing to share.
        let single = try Self.distributedStatistics(strategies[0], group: SingleProcessGroup(), fitnesses: fitnesses, keep: nil)
        XCTAssertNil(single)
        // Gaussian ES: parameter blocks, reduced through their bit patterns.
        let es = GaussianESStrategy(parameterCount: 53, populationSize: m, seed: 2)
        let esReference = es.statistics(fitnesses: fitnesses, threads: 1)
        for p in 2...3 {
            let results = try runRanks(p) { group -> GaussianESStrategy.Statistics? in
                try ClusterDistributor(group: group).statistics(of: es, sample: es.ask(), fitnesses: fitnesses, executor: Executor(threads: 2))
            }
            for (r, got) in results.enumerated() { XCTAssertEqual(got, esReference, "ES P=\(p) rank \(r)") }
        }
    }

    /// `ClusterDistributor.statistics` for `strategy` on `group`, the sample keeping the genomes
    /// of `keep` (nil: keeping none).
    static func distributedStatistics<S: BitSearchStrategy>(
        _ strategy: S, group: any ProcessGroup, fitnesses: [Double], keep: [Int]?
    ) throws -> BitStatistics? {
        let sample = keep == nil ? strategy.ask()
            : strategy.ask(keepingIn: MemberGenomes<UInt64>(members: strategy.populationSize, genomeCount: strategy.genomeCount))
        var scratch = [UInt64](repeating: 0, count: strategy.genomeCount)
        for k in keep ?? [] { scratch.withUnsafeMutableBufferPointer { sample.draw(member: k, into: $0) } }
        return try ClusterDistributor(group: group).statistics(of: strategy, sample: sample, fitnesses: fitnesses, executor: Executor(threads: 2))
    }

    func testSumsRoundTripAndRejectBadShapes() {
        var s = BitStatistics(dimension: 70, populationSize: 4)
        let words: [UInt64] = [0xF0F0_0000_0000_0F0F, 0x3F]
        words.withUnsafeBufferPointer { s.add(member: 1, weight: -3, bits: $0) }
        XCTAssertEqual(BitStatistics(dimension: 70, populationSize: 4, sums: s.sums), s)
        XCTAssertNil(BitStatistics(dimension: 70, populationSize: 4, sums: Array(s.sums.dropLast())))
        var tooMany = s.sums
        tooMany[3 * 70 + 3] = 5
        XCTAssertNil(BitStatistics(dimension: 70, populationSize: 4, sums: tooMany))
    }
}

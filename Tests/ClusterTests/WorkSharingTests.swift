import XCTest
import Foundation
import Randomness
import Training
@testable import Cluster

final class WorkSharingTests: XCTestCase {
    /// Guided chunks: consecutive, covering every position once, never growing, ending in single
    /// positions; the documented example (M = 256, P = 3).
    func testChunkScheduleCoversEveryPositionOnce() throws {
        for count in [0, 1, 2, 7, 64, 256, 1001] {
            for ranks in 1...5 {
                for minimum in [1, 3] {
                    let schedule = try ChunkSchedule(count: count, rankCount: ranks, minimumChunk: minimum)
                    let chunks = schedule.chunks
                    var next = 0
                    for (i, chunk) in chunks.enumerated() {
                        XCTAssertEqual(chunk.lowerBound, next)
                        XCTAssertFalse(chunk.isEmpty)
                        XCTAssertTrue(chunk.count >= minimum || chunk.upperBound == count)
                        if i > 0 { XCTAssertLessThanOrEqual(chunk.count, chunks[i - 1].count) }
                        next = chunk.upperBound
                    }
                    XCTAssertEqual(next, count, "M=\(count) P=\(ranks)")
                    if count >= 2 * ranks, minimum == 1 { XCTAssertEqual(chunks.last?.count, 1) }
                }
            }
        }
        let hopper = try ChunkSchedule(count: 256, rankCount: 3).chunks.map(\.count)
        XCTAssertEqual(hopper.count, 25)
        XCTAssertEqual(Array(hopper.prefix(5)), [43, 36, 30, 25, 21])
        XCTAssertEqual(Array(hopper.suffix(6)), [1, 1, 1, 1, 1, 1])
        XCTAssertThrowsError(try ChunkSchedule(count: -1, rankCount: 2))
        XCTAssertThrowsError(try ChunkSchedule(count: 4, rankCount: 0))
        XCTAssertThrowsError(try ChunkSchedule(count: 4, rankCount: 2, minimumChunk: 0))
    }

    func testDispenserHandsOutTheScheduleThenNothing() throws {
        let schedule = try ChunkSchedule(count: 50, rankCount: 2)
        let dispenser = ChunkDispenser(schedule: schedule)
        var got: [Range<Int>] = []
        while let chunk = dispenser.nextChunk() { got.append(chunk) }
        XCTAssertEqual(got, schedule.chunks)
        XCTAssertNil(dispenser.nextChunk())
        let closed = ChunkDispenser(schedule: schedule)
        _ = closed.nextChunk()
        closed.close()
        XCTAssertNil(closed.nextChunk())
    }

    /// The hand-out over P ranks (threads exchanging messages here, processes under MPI): every
    /// position goes to exactly one rank, every rank's chunks are what the report says, and no
    /// message is left in flight; consecutive rounds reuse the same tags safely.
    func testEveryPositionExactlyOnceOverRanks() throws {
        for p in 1...4 {
            for count in [0, 1, 5, 97] {
                let perRank = try runRanks(p) { group -> [(Int, [Int], SharedWorkReport, Int)] in
                    var rounds: [(Int, [Int], SharedWorkReport, Int)] = []
                    for round in 1...2 {
                        let (taken, report) = try group.shareWork(count: count, round: round) { source -> [Int] in
                            var mine: [Int] = []
                            while let chunk = try source.nextChunk() {
                                mine += chunk
                                if group.rank == 0 { usleep(200) }  // rank 0 slower: the others take more
                            }
                            return mine
                        }
                        try group.barrier()
                        let undelivered = group.undeliveredMessages
                        try group.barrier()  // before any rank sends the next round's requests
                        rounds.append((round, taken, report, undelivered))
                    }
                    return rounds
                }
                for round in 0..<2 {
                    var seen = [Int](repeating: 0, count: count)
                    var chunks = 0
                    for ranks in perRank {
                        let (_, taken, report, undelivered) = ranks[round]
                        for k in taken { seen[k] += 1 }
                        chunks += report.chunks
                        XCTAssertEqual(undelivered, 0, "P=\(p) M=\(count): messages left in flight")
                    }
                    XCTAssertEqual(seen, [Int](repeating: 1, count: count), "P=\(p) M=\(count) round \(round + 1)")
                    XCTAssertEqual(chunks, try ChunkSchedule(count: count, rankCount: p).chunks.count)
                }
            }
        }
    }

    /// A rank that is slower per member ends up with fewer members, and the ranks finish close
    /// together (the point of the dynamic hand-out).
    func testSlowRankTakesFewerMembers() throws {
        let count = 120
        let perRank = try runRanks(3) { group -> (Int, SharedWorkReport) in
            let pause: UInt32 = group.rank == 1 ? 4000 : 1000
            let (taken, report) = try group.shareWork(count: count, round: 1) { source -> Int in
                var n = 0
                while let chunk = try source.nextChunk() {
                    for _ in chunk { usleep(pause) }
                    n += chunk.count
                }
                return n
            }
            return (taken, report)
        }
        XCTAssertEqual(perRank.map(\.0).reduce(0, +), count)
        XCTAssertLessThan(perRank[1].0, perRank[0].0)
        XCTAssertLessThan(perRank[1].0, perRank[2].0)
        // Static thirds would keep the fast ranks idle for 2/3 of the slow rank's 160 ms; dynamic
        // chunks leave them at most a chunk or so apart (generous bound for a loaded machine).
        let times = perRank.map(\.1.workSeconds)
        XCTAssertLessThan(times.max()! - times.min()!, 0.5 * times.max()!, "work seconds \(times)")
    }

    /// An error in rank 0's own work stops the hand-out: the other ranks finish and rank 0 throws.
    func testFailureOnRankZeroEndsTheRound() throws {
        struct Boom: Error {}
        let results = try runRanks(3) { group -> String in
            do {
                _ = try group.shareWork(count: 200, round: 1) { source -> Int in
                    var n = 0
                    while let chunk = try source.nextChunk() {
                        if group.rank == 0 { throw Boom() }
                        usleep(500)
                        n += chunk.count
                    }
                    return n
                }
                return "done"
            } catch is Boom {
                return "boom"
            }
        }
        XCTAssertEqual(results, ["boom", "done", "done"])
    }

    /// The threaded evaluator taking positions from a shared source (several evaluators on one
    /// source: as rank 0's and the other ranks' do) returns exactly the single evaluator's outcomes.
    func testThreadedEvaluatorTakesPositionsFromASource() throws {
        let members = Array(0..<57).map { 3 * $0 + 2 }
        let request = GenerationRequest(generation: 4, members: members, population: UInt64(99), normalization: .identity(size: 3))
        let reference = try ThreadedPopulationEvaluator(threads: 1) { UnevenWorker() }.evaluate(request)
        for threads in [1, 3] {
            let source = ChunkDispenser(schedule: try ChunkSchedule(count: members.count, rankCount: 3))
            let evaluators = (0..<3).map { _ in ThreadedPopulationEvaluator(threads: threads) { UnevenWorker() } }
            let box = ResultBox<[PositionedOutcome]>(count: 3)
            let lock = NSLock()
            let done = DispatchSemaphore(value: 0)
            let shared = UncheckedSendable((evaluators, request))
            for e in 0..<3 {
                Thread {
                    let result = Result { try shared.value.0[e].evaluate(shared.value.1, positionsFrom: source) }
                    lock.lock(); box.results[e] = result; lock.unlock()
                    done.signal()
                }.start()
            }
            for _ in 0..<3 { done.wait() }
            let all = try box.results.flatMap { try $0!.get() }.sorted { $0.position < $1.position }
            XCTAssertEqual(all.map(\.position), Array(0..<members.count), "threads \(threads)")
            XCTAssertEqual(all.map(\.outcome), reference, "threads \(threads)")
        }
    }

    /// Dynamic and static sharing give the same outcomes as one evaluator, on the threaded evaluator.
    func testDistributorSharingsAgree() throws {
        let members = Array(0..<41)
        let request = GenerationRequest(generation: 1, members: members, population: UInt64(5), normalization: .identity(size: 3))
        let reference = try ThreadedPopulationEvaluator(threads: 2) { UnevenWorker() }.evaluate(request)
        for sharing in [WorkSharing.dynamic, .dynamic(minimumChunk: 4), .static] {
            let results = try runRanks(3) { group -> ([MemberOutcome], GenerationCommunication?) in
                let local = ThreadedPopulationEvaluator(threads: 2) { UnevenWorker() }
                let distributed = DistributedPopulationEvaluator(local: local, group: group, sharing: sharing)
                let got = try distributed.evaluate(request)
                _ = try distributed.evaluate(request)  // a second round on the same distributor
                return (got, distributed.log.last)
            }
            for (r, (got, log)) in results.enumerated() {
                XCTAssertEqual(got, reference, "\(sharing) rank \(r)")
                XCTAssertEqual(log?.evaluationSecondsByRank.count, 3)
            }
            XCTAssertEqual(results.compactMap { $0.1?.localMembers }.reduce(0, +), members.count)
        }
    }
}

/// A member worker whose outcome is a pure function of (seed, generation, member), with uneven
/// "episode" lengths (it sleeps a member-dependent time).
private struct UnevenWorker: MemberWorker {
    typealias Population = UInt64

    func evaluate(member: Int, generation: Int, population: UInt64, normalization: FrozenNormalization) throws -> MemberOutcome {
        var s = CounterStream(seed: population, generation: generation, member: member, purpose: .evaluation)
        let steps = 1 + Int(s.nextWord() % 40)
        usleep(UInt32(steps * 20))
        var stats = ObservationStatistics(size: 3)
        for _ in 0..<steps { stats.add((0..<3).map { _ in s.nextNormal() }) }
        return MemberOutcome(fitness: s.nextNormal(), steps: steps, episodes: 1, diverged: false, observations: stats)
    }
}

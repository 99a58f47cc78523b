import Foundation
import Search
import Training

/// What one generation's distributed evaluation cost on this rank.
public struct GenerationCommunication: Sendable, Equatable {
    /// The generation index of the request.
    public var generation: Int
    /// Members of a generation, or episodes of the deterministic network.
    public var purpose: EvaluationPurpose
    /// Members (or episodes) in the request, over all ranks.
    public var members: Int
    /// Members this rank evaluated.
    public var localMembers: Int
    /// Environment steps of this rank's members.
    public var localSteps: Int
    /// Seconds this rank spent evaluating its own members (on its threads).
    public var evaluationSeconds: Double
    /// Seconds spent in the barriers before the gather and before the statistics all-reduce:
    /// waiting for the slowest rank (load imbalance, not data transfer).
    public var waitSeconds: Double
    /// Seconds spent gathering the outcomes (the data transfer, after every rank arrived).
    public var gatherSeconds: Double
    /// Evaluation seconds of every rank, in rank order (to see the load imbalance).
    public var evaluationSecondsByRank: [Double]
    /// Payload bytes this rank sent and received in the gather.
    public var bytesSent: Int
    public var bytesReceived: Int
    /// Seconds this rank spent on its share of the optimizer's statistics (on more than one rank;
    /// 0 otherwise), and in their exact all-reduce.
    public var statisticsSeconds: Double = 0
    public var reduceSeconds: Double = 0
    /// Payload bytes of that all-reduce (sent = received: `8 (3d + 5)` for the bit strategies,
    /// `8 (n + 1)` for Gaussian ES).
    public var reduceBytes: Int = 0
    /// The part of ``waitSeconds`` spent in the barrier before the statistics all-reduce (ranks
    /// whose statistics shares differ in size: the bit strategies' shares are the members each
    /// rank evaluated).
    public var statisticsWaitSeconds: Double = 0
    /// Chunks of members this rank took (dynamic sharing; 1 for the static split).
    public var chunks: Int = 1

    /// `max / mean` of ``evaluationSecondsByRank``: 1 is a perfect balance.
    public var imbalance: Double {
        guard let m = evaluationSecondsByRank.max(), !evaluationSecondsByRank.isEmpty else { return 1 }
        let mean = evaluationSecondsByRank.reduce(0, +) / Double(evaluationSecondsByRank.count)
        return mean > 0 ? m / mean : 1
    }
}

/// How a ``ClusterDistributor`` splits a request's members among the ranks.
public enum WorkSharing: Sendable, Equatable {
    /// Chunks handed out as ranks ask for them (``ProcessGroup/shareWork(count:round:minimumChunk:_:)``,
    /// chunk sizes ``ChunkSchedule``): a rank that finishes early takes more. The default.
    case dynamic(minimumChunk: Int)
    /// Rank r evaluates the positions ``MemberPartition/members(ofRank:)`` (`r, r + P, ...`): one
    /// collective and no other message, but the ranks wait for the one with the longest episodes.
    case `static`

    /// Dynamic sharing with chunks down to one member.
    public static let dynamic = WorkSharing.dynamic(minimumChunk: 1)
}

/// Shares every evaluation of a training run among the ranks of a ``ProcessGroup``: the
/// `GenerationDistributor` that `Trainer.train(...distributor:)` and `Trainer.resume` accept.
///
/// For a request with members `m_0 ... m_{n-1}`, each rank evaluates the positions it takes from
/// rank 0's hand-out (``WorkSharing/dynamic``: chunks of the ``ChunkSchedule`` to whichever rank
/// asks first) or, with ``WorkSharing/static``, the positions ``MemberPartition/members(ofRank:)``
/// (`r, r + P, ...`), with its local (threaded) evaluator;
/// the outcomes are then all-gathered into request order, so **every rank returns the full,
/// member-ordered array**, bit-identical to what one process evaluating all members returns
/// (outcomes are pure functions of (seed, generation, member) and the frozen normalization; the
/// transport copies their bytes; nothing is summed in flight). Each rank then runs the same
/// deterministic update and stays in lockstep: the search distribution is never sent, and each
/// rank regenerates any member it needs from the counter-based streams.
///
/// Per request the wire carries, per member, its fitness, steps, episode count, divergence flag
/// and observation statistics (count, mean and M2 per observation component): `48 + 16 D` bytes
/// for observations of D components (plus its position, 8 bytes, when shared dynamically), plus
/// 8 bytes per rank; dynamic sharing adds one request (8 bytes) and reply (24 bytes) per chunk.
///
/// Rank 0 is the primary process (it writes the run directory).
public final class ClusterDistributor: GenerationDistributor {
    /// The ranks sharing the work.
    public let group: any ProcessGroup
    /// One entry per ``evaluateAll(_:local:purpose:)`` call, oldest first.
    public private(set) var log: [GenerationCommunication] = []

    /// How the members are split among the ranks.
    public let sharing: WorkSharing
    /// Requests shared so far (numbers the hand-out rounds; the same on every rank).
    private var rounds = 0

    public init(group: any ProcessGroup, sharing: WorkSharing = .dynamic) {
        self.group = group
        self.sharing = sharing
    }

    public var isPrimary: Bool { group.isRoot }

    public func evaluateAll<E: PopulationEvaluating>(
        _ request: GenerationRequest<E.Population>, local: E, purpose: EvaluationPurpose
    ) throws -> [MemberOutcome] {
        rounds += 1
        guard case .dynamic(let minimumChunk) = sharing else {
            return try evaluateStatically(request, local: local, purpose: purpose)
        }
        let n = request.members.count
        let job = UncheckedSendable((local, request))
        let (mine, report) = try group.shareWork(count: n, round: rounds, minimumChunk: minimumChunk) { source in
            try job.value.0.evaluate(job.value.1, positionsFrom: source)
        }

        let before = group.traffic
        let waitStart = ContinuousClock.now
        try group.barrier()
        let waitSeconds = report.waitSeconds + secondsSince(waitStart)
        let gatherStart = ContinuousClock.now
        let outcomes = try group.gatherPositioned(mine.map { ($0.position, $0.outcome) }, count: n)
        let gatherSeconds = secondsSince(gatherStart)
        let after = group.traffic
        let byRank = try group.allGather(report.workSeconds)

        log.append(GenerationCommunication(
            generation: request.generation, purpose: purpose, members: n,
            localMembers: mine.count, localSteps: mine.reduce(0) { $0 + $1.outcome.steps },
            evaluationSeconds: report.workSeconds, waitSeconds: waitSeconds, gatherSeconds: gatherSeconds,
            evaluationSecondsByRank: byRank,
            bytesSent: after.bytesSent - before.bytesSent, bytesReceived: after.bytesReceived - before.bytesReceived,
            chunks: report.chunks))
        return outcomes
    }

    /// ``WorkSharing/static``: the strided partition.
    private func evaluateStatically<E: PopulationEvaluating>(
        _ request: GenerationRequest<E.Population>, local: E, purpose: EvaluationPurpose
    ) throws -> [MemberOutcome] {
        let partition = try MemberPartition(memberCount: request.members.count, rankCount: group.size)
        let positions = partition.members(ofRank: group.rank)
        var share = request
        share.members = positions.map { request.members[$0] }

        let start = ContinuousClock.now
        let mine = try local.evaluate(share)
        let evaluationSeconds = secondsSince(start)

        let before = group.traffic
        let waitStart = ContinuousClock.now
        try group.barrier()
        let waitSeconds = secondsSince(waitStart)
        let gatherStart = ContinuousClock.now
        let outcomes = try group.gatherMembers(mine, partition: partition)
        let gatherSeconds = secondsSince(gatherStart)
        let after = group.traffic
        let byRank = try group.allGather(evaluationSeconds)

        log.append(GenerationCommunication(
            generation: request.generation, purpose: purpose, members: request.members.count,
            localMembers: mine.count, localSteps: mine.reduce(0) { $0 + $1.steps },
            evaluationSeconds: evaluationSeconds, waitSeconds: waitSeconds, gatherSeconds: gatherSeconds,
            evaluationSecondsByRank: byRank,
            bytesSent: after.bytesSent - before.bytesSent, bytesReceived: after.bytesReceived - before.bytesReceived))
        return outcomes
    }

    /// On more than one rank: rank r computes its share of the optimizer's statistics
    /// (`StatisticsShare(part: r, of: P)`: for SATR and EC the members it evaluated, from the
    /// genomes its sample kept, else the contiguous member block `[r M / P, (r + 1) M / P)`; for
    /// Gaussian ES the parameter block `[r n / P, (r + 1) n / P)`), and the ranks all-reduce the
    /// shares' exact `Int64` sums (`MergeableStatistics.sums`; `8 (3d + 5)` bytes for the bit
    /// strategies, `8 (n + 1)` for ES). The parts are disjoint and integer sums associative, so
    /// the result equals the whole statistics bit for bit (checked: `reduced(sums:)` refuses
    /// sums that do not cover the population). One rank: nil (it computes them itself).
    public func statistics<S: SearchStrategy>(
        of strategy: S, sample: PopulationSample<S.GenomeElement>, fitnesses: [Double], executor: Executor
    ) throws -> S.Statistics? {
        guard group.size > 1 else { return nil }
        let start = ContinuousClock.now
        let partial = strategy.statistics(
            of: sample, fitnesses: fitnesses, share: StatisticsShare(part: group.rank, of: group.size), executor: executor)
        let statisticsSeconds = secondsSince(start)
        // Wait (without spinning) for every rank's share, so that the reduce time is transfer only.
        let waitStart = ContinuousClock.now
        try group.barrier()
        let waitSeconds = secondsSince(waitStart)
        let reduceStart = ContinuousClock.now
        let sums = try group.allReduceSum(partial.sums)
        let reduceSeconds = secondsSince(reduceStart)
        guard let total = partial.reduced(sums: sums) else {
            throw ClusterError.protocolViolation("the reduced statistics do not cover the population of \(strategy.populationSize)")
        }
        if var last = log.popLast() {
            last.statisticsSeconds = statisticsSeconds
            last.waitSeconds += waitSeconds
            last.statisticsWaitSeconds = waitSeconds
            last.reduceSeconds = reduceSeconds
            last.reduceBytes = sums.count * 8
            log.append(last)
        }
        return total
    }
}

/// Evaluates a population across the ranks of a ``ProcessGroup`` as a `PopulationEvaluating`
/// (a ``ClusterDistributor`` bound to one local evaluator). Call ``evaluate(_:)`` on all ranks
/// with the same request (a collective).
public final class DistributedPopulationEvaluator<Local: PopulationEvaluating>: PopulationEvaluating {
    public typealias Population = Local.Population

    /// The evaluator of this rank's share (typically a `ThreadedPopulationEvaluator`).
    public let local: Local
    /// The distributor that does the work.
    public let distributor: ClusterDistributor

    public init(local: Local, group: any ProcessGroup, sharing: WorkSharing = .dynamic) {
        self.local = local
        self.distributor = ClusterDistributor(group: group, sharing: sharing)
    }

    /// One entry per ``evaluate(_:)`` call, oldest first.
    public var log: [GenerationCommunication] { distributor.log }

    public func evaluate(_ request: GenerationRequest<Population>) throws -> [MemberOutcome] {
        try distributor.evaluateAll(request, local: local, purpose: .population)
    }
}

extension MemberOutcome: MemberRecord {
    /// Layout: fitness (bits), steps, episodes, diverged (0/1), observation count, means, M2s.
    public func encode(to writer: inout ByteWriter) {
        writer.write(fitness)
        writer.write(steps)
        writer.write(episodes)
        writer.write(diverged ? 1 : 0)
        writer.write(observations.count)
        writer.write(observations.mean)
        writer.write(observations.m2)
    }

    public static func decode(from reader: inout ByteReader) throws -> MemberOutcome {
        let fitness = try reader.readDouble()
        let steps = try reader.readInt()
        let episodes = try reader.readInt()
        let flag = try reader.readInt()
        guard flag == 0 || flag == 1 else { throw ClusterError.malformedMessage("divergence flag \(flag)") }
        let count = try reader.readInt()
        let mean = try reader.readDoubles()
        let m2 = try reader.readDoubles()
        guard mean.count == m2.count else {
            throw ClusterError.malformedMessage("observation means (\(mean.count)) and M2s (\(m2.count)) differ in size")
        }
        return MemberOutcome(
            fitness: fitness, steps: steps, episodes: episodes, diverged: flag == 1,
            observations: ObservationStatistics(count: count, mean: mean, m2: m2))
    }
}

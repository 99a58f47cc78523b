/// What a request to a ``GenerationDistributor`` evaluates.
public enum EvaluationPurpose: String, Sendable {
    /// The members of a generation (their outcomes feed the update and the normalizer).
    case population
    /// Episodes of the deterministic network (the eval return).
    case deterministic
}

import Search

/// Seam for a distributed backend (the Cluster module's MPI driver; see docs/DISTRIBUTED.md).
///
/// When several processes share one run, every process runs the same `GenerationLoop` and calls
/// ``evaluateAll(_:local:purpose:)`` at the same points with the same request (it is a collective).
/// The distributor evaluates this process's share of the members with `local` and returns the
/// outcomes of **all** members in request order, bit-identical to `local.evaluate(request)` on one
/// process. Everything after it (shaping, update, normalizer) is deterministic, so the processes
/// stay in lockstep; only the primary process writes files.
public protocol GenerationDistributor: AnyObject {
    /// True on the one process that writes the run directory (config, metrics, checkpoints, policy).
    var isPrimary: Bool { get }

    /// Evaluates every member of `request` across the processes, using `local` for this process's
    /// share; returns one outcome per requested member, in request order, on every process.
    func evaluateAll<E: PopulationEvaluating>(
        _ request: GenerationRequest<E.Population>, local: E, purpose: EvaluationPurpose
    ) throws -> [MemberOutcome]

    /// The optimizer's statistics of the current generation computed across the processes (each
    /// process its share, `StatisticsShare(part: rank, of: size)`, reduced exactly), equal to the
    /// whole `strategy.statistics(of:fitnesses:)`; or nil, and every process computes them
    /// itself. A collective: every process calls it with the same fitnesses. `sample` is what
    /// this process drew of the generation.
    func statistics<S: SearchStrategy>(
        of strategy: S, sample: PopulationSample<S.GenomeElement>, fitnesses: [Double], executor: Executor
    ) throws -> S.Statistics?
}

extension GenerationDistributor {
    /// Default: no shared statistics (every process computes them from all fitnesses).
    public func statistics<S: SearchStrategy>(
        of strategy: S, sample: PopulationSample<S.GenomeElement>, fitnesses: [Double], executor: Executor
    ) throws -> S.Statistics? {
        nil
    }
}

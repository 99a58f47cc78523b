import Foundation

/// What one population member's evaluation produced.
///
/// This is the unit that crosses thread (and, with the MPI backend, process) boundaries: a value
/// with everything the update needs from the member.
public struct MemberOutcome: Codable, Sendable, Equatable {
    /// Fitness: the undiscounted episode return (mean over the member's episodes), or `-infinity`
    /// when the physics diverged (a non-finite observation or reward) — such a member ranks lowest.
    public var fitness: Double
    /// Environment steps the member took (all its episodes).
    public var steps: Int
    /// Episodes the member ran.
    public var episodes: Int
    /// True when an episode ended because the simulation produced a non-finite state.
    public var diverged: Bool
    /// Statistics of the (finite) observations the member visited, for the shared normalizer.
    public var observations: ObservationStatistics

    public init(fitness: Double, steps: Int, episodes: Int, diverged: Bool, observations: ObservationStatistics) {
        self.fitness = fitness
        self.steps = steps
        self.episodes = episodes
        self.diverged = diverged
        self.observations = observations
    }
}

/// One worker's private state: an environment, a network and scratch buffers. A worker evaluates
/// one member at a time; different workers run on different threads and share nothing mutable.
public protocol MemberWorker: SendableMetatype {
    /// Everything a worker needs to rebuild any member of a generation (the search distribution's
    /// sampling state, shared read-only by all workers).
    associatedtype Population: Sendable

    /// Evaluates member `member` of generation `generation`. Must be a pure function of its
    /// arguments (all randomness from counter streams keyed by (seed, generation, member)), so that
    /// the outcome never depends on which worker ran it.
    mutating func evaluate(
        member: Int, generation: Int, population: Population, normalization: FrozenNormalization
    ) throws -> MemberOutcome
}

/// The request "evaluate members `members` of generation `generation`": value inputs.
///
/// **Seam for distributed backends.** A distributed driver (MPI) gives each rank a disjoint subset
/// of member indices (handed out dynamically through a ``MemberSource``), calls
/// `PopulationEvaluating.evaluate(_:positionsFrom:)` on each rank, all-gathers the
/// outcomes into member order, and hands the full member-ordered array to
/// `GenerationLoop.finishGeneration(outcomes:statistics:)`, exactly as the threaded single-process path does.
public struct GenerationRequest<Population: Sendable>: Sendable {
    public var generation: Int
    public var members: [Int]
    public var population: Population
    public var normalization: FrozenNormalization

    public init(generation: Int, members: [Int], population: Population, normalization: FrozenNormalization) {
        self.generation = generation
        self.members = members
        self.population = population
        self.normalization = normalization
    }
}

/// Anything that can evaluate a set of members: threads on this machine, or ranks of a cluster.
public protocol PopulationEvaluating: AnyObject {
    associatedtype Population: Sendable
    /// Returns one outcome per requested member, in the order of `request.members`.
    func evaluate(_ request: GenerationRequest<Population>) throws -> [MemberOutcome]

    /// Evaluates the positions of `request.members` that `source` hands out, until it has none
    /// left; returns them with their outcomes in increasing position order. Positions another
    /// evaluator (another process) takes from the same source are not evaluated here.
    func evaluate(
        _ request: GenerationRequest<Population>, positionsFrom source: any MemberSource
    ) throws -> [PositionedOutcome]
}

/// The outcome of the member at `position` in a request's `members`.
public struct PositionedOutcome: Sendable, Equatable {
    public var position: Int
    public var outcome: MemberOutcome
    public init(position: Int, outcome: MemberOutcome) {
        self.position = position
        self.outcome = outcome
    }
}

/// Hands out the positions of one request in chunks, to whichever thread (or process) asks
/// first: the dynamic work sharing of distributed runs (the Cluster module's `WorkSharing`).
/// Thread-safe; each position is handed out once in all.
public protocol MemberSource: AnyObject, Sendable {
    /// The next chunk of positions, or nil when none are left (then nil ever after). A throw
    /// (a failed transport) ends the evaluation with that error.
    func nextChunk() throws -> Range<Int>?
}

extension PopulationEvaluating {
    /// Default: evaluates chunk by chunk with ``evaluate(_:)``.
    public func evaluate(
        _ request: GenerationRequest<Population>, positionsFrom source: any MemberSource
    ) throws -> [PositionedOutcome] {
        var out: [PositionedOutcome] = []
        while let chunk = try source.nextChunk() {
            var part = request
            part.members = chunk.map { request.members[$0] }
            let outcomes = try evaluate(part)
            for (position, outcome) in zip(chunk, outcomes) { out.append(PositionedOutcome(position: position, outcome: outcome)) }
        }
        out.sort { $0.position < $1.position }
        return out
    }
}

/// Evaluates members on `threads` worker threads with a dynamic work queue.
///
/// Members are episodes of uneven length, so each worker takes the next unevaluated member index
/// from a shared counter when it finishes one. Outcomes land in member-indexed slots: the returned
/// array is the same for any thread count and any scheduling.
public final class ThreadedPopulationEvaluator<Worker: MemberWorker>: PopulationEvaluating {
    public typealias Population = Worker.Population
    private var workers: [Worker]

    /// Creates `threads` workers with `makeWorker` (called once per worker, on this thread).
    public init(threads: Int, makeWorker: () throws -> Worker) rethrows {
        precondition(threads >= 1, "at least one worker thread")
        workers = []
        for _ in 0..<threads { workers.append(try makeWorker()) }
    }

    public var threadCount: Int { workers.count }

    public func evaluate(_ request: GenerationRequest<Population>) throws -> [MemberOutcome] {
        let n = request.members.count
        if n == 0 { return [] }
        return try run(request, queue: WorkQueue(count: n)).map { slot in
            guard let outcome = slot.outcome else {
                throw IOError(description: "internal error: member \(request.members[slot.position]) was not evaluated")
            }
            return outcome
        }
    }

    /// The worker threads take the positions one at a time from a local queue that refills itself
    /// from `source` when it runs empty (so no thread waits for another's chunk to finish).
    public func evaluate(
        _ request: GenerationRequest<Population>, positionsFrom source: any MemberSource
    ) throws -> [PositionedOutcome] {
        let n = request.members.count
        if n == 0 {
            // Still take what the source hands out (nothing), so that it sees this evaluator finish.
            while let chunk = try source.nextChunk() {
                guard chunk.isEmpty else { throw IOError(description: "internal error: positions \(chunk) of an empty request") }
            }
            return []
        }
        return try run(request, queue: WorkQueue(count: n, source: source)).compactMap { slot in
            slot.outcome.map { PositionedOutcome(position: slot.position, outcome: $0) }
        }
    }

    /// Runs the workers over the positions `queue` hands out; returns every position's slot.
    private func run(
        _ request: GenerationRequest<Population>, queue: WorkQueue
    ) throws -> [(position: Int, outcome: MemberOutcome?)] {
        let n = request.members.count
        let slots = UnsafeMutableBufferPointer<MemberOutcome?>.allocate(capacity: n)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize(); slots.deallocate() }
        let threads = min(workers.count, n)
        try workers.withUnsafeMutableBufferPointer { workerBuffer in
            let shared = SharedState(workers: workerBuffer, slots: slots, request: request, queue: queue)
            if threads == 1 {
                shared.work(worker: 0)
            } else {
                let done = DispatchSemaphore(value: 0)
                for w in 0..<threads {
                    let thread = Thread {
                        shared.work(worker: w)
                        done.signal()
                    }
                    thread.stackSize = 8 << 20
                    thread.start()
                }
                for _ in 0..<threads { done.wait() }
            }
            if let error = queue.firstError { throw error }
        }
        return (0..<n).map { ($0, slots[$0]) }
    }

    /// The state the worker threads share. Each slot and each worker is touched by exactly one
    /// thread (slot i by the worker that took index i from the queue; worker w by thread w), which
    /// is what makes the unchecked `Sendable` sound.
    private final class SharedState: @unchecked Sendable {
        let workers: UnsafeMutableBufferPointer<Worker>
        let slots: UnsafeMutableBufferPointer<MemberOutcome?>
        let request: GenerationRequest<Population>
        let queue: WorkQueue

        init(workers: UnsafeMutableBufferPointer<Worker>, slots: UnsafeMutableBufferPointer<MemberOutcome?>,
             request: GenerationRequest<Population>, queue: WorkQueue) {
            self.workers = workers
            self.slots = slots
            self.request = request
            self.queue = queue
        }

        func work(worker w: Int) {
            while let i = queue.next() {
                do {
                    slots[i] = try workers[w].evaluate(
                        member: request.members[i], generation: request.generation,
                        population: request.population, normalization: request.normalization)
                } catch {
                    queue.fail(error)
                    return
                }
            }
        }
    }
}

/// A shared counter handing out indices `0..<count` once each, or the indices of the chunks a
/// ``MemberSource`` hands out (fetched by the thread that finds the current chunk used up, under
/// the lock: one fetch at a time); stops early after a failure.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    /// The end of the current range of indices.
    private var end: Int
    private let count: Int
    private let source: (any MemberSource)?
    private var error: Error?

    init(count: Int) {
        self.count = count
        end = count
        source = nil
    }

    /// Indices from the chunks of `source` (each within `0..<count`).
    init(count: Int, source: any MemberSource) {
        self.count = count
        end = 0
        self.source = source
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil else { return nil }
        while nextIndex >= end {
            guard let source else { return nil }
            do {
                guard let chunk = try source.nextChunk() else { return nil }
                guard chunk.lowerBound >= 0, chunk.upperBound <= count else {
                    throw IOError(description: "internal error: positions \(chunk) outside 0..<\(count)")
                }
                nextIndex = chunk.lowerBound
                end = chunk.upperBound
            } catch let e {
                error = e
                return nil
            }
        }
        defer { nextIndex += 1 }
        return nextIndex
    }

    func fail(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }

    var firstError: Error? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}

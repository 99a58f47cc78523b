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
/// of member indices, calls `PopulationEvaluating.evaluate(_:)` on each rank, all-gathers the
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
        let slots = UnsafeMutableBufferPointer<MemberOutcome?>.allocate(capacity: n)
        slots.initialize(repeating: nil)
        defer { slots.deinitialize(); slots.deallocate() }
        let queue = WorkQueue(count: n)
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
        var out: [MemberOutcome] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            guard let outcome = slots[i] else { throw IOError(description: "internal error: member \(request.members[i]) was not evaluated") }
            out.append(outcome)
        }
        return out
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

/// A shared counter handing out indices `0..<count` once each; stops early after a failure.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private let count: Int
    private var error: Error?

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard error == nil, nextIndex < count else { return nil }
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

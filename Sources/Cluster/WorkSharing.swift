import Foundation
import Training

/// The chunk sizes of the dynamic hand-out of `count` positions to `rankCount` ranks: guided
/// self-scheduling. When `remaining` positions are left, the next chunk has
/// `ceil(remaining / (2 P))` of them (at least `minimumChunk`, at most `remaining`).
///
/// Large chunks first (few requests while much work is left), single positions at the end (the
/// last rank to finish is at most about one member behind the others). For M = 256 members on
/// P = 3 ranks: 25 chunks, of 43, 36, 30, 25, 21, ... 2, 2, 1, 1, 1, 1, 1, 1 members.
///
/// Which rank gets which chunk does not change any result: outcomes land in member-indexed slots,
/// and the statistics are exact integer sums (docs/DISTRIBUTED.md).
public struct ChunkSchedule: Sendable, Equatable {
    /// The positions handed out, `0 ..< count`.
    public let count: Int
    /// The ranks sharing them.
    public let rankCount: Int
    /// The smallest chunk (unless fewer positions are left).
    public let minimumChunk: Int

    /// Edge Cases: throws ``ClusterError/invalidArgument(_:)`` when `count < 0`, `rankCount < 1`
    /// or `minimumChunk < 1`.
    public init(count: Int, rankCount: Int, minimumChunk: Int = 1) throws {
        guard count >= 0 else { throw ClusterError.invalidArgument("position count \(count) < 0") }
        guard rankCount >= 1 else { throw ClusterError.invalidArgument("rank count \(rankCount) < 1") }
        guard minimumChunk >= 1 else { throw ClusterError.invalidArgument("minimum chunk \(minimumChunk) < 1") }
        self.count = count
        self.rankCount = rankCount
        self.minimumChunk = minimumChunk
    }

    /// The size of the next chunk when `remaining` positions are left (0 when none are).
    public func chunkSize(remaining: Int) -> Int {
        guard remaining > 0 else { return 0 }
        let guided = (remaining + 2 * rankCount - 1) / (2 * rankCount)
        return min(remaining, max(minimumChunk, guided))
    }

    /// Every chunk in hand-out order: consecutive ranges covering `0 ..< count`.
    public var chunks: [Range<Int>] {
        var out: [Range<Int>] = []
        var next = 0
        while next < count {
            let size = chunkSize(remaining: count - next)
            out.append(next ..< next + size)
            next += size
        }
        return out
    }
}

/// Hands out the chunks of a ``ChunkSchedule`` in order, to whichever thread asks first
/// (thread-safe); after ``close()`` it hands out nothing more.
public final class ChunkDispenser: MemberSource, @unchecked Sendable {
    public let schedule: ChunkSchedule
    private let lock = NSLock()
    private var next = 0
    private var closed = false

    public init(schedule: ChunkSchedule) { self.schedule = schedule }

    public func nextChunk() -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, next < schedule.count else { return nil }
        let size = schedule.chunkSize(remaining: schedule.count - next)
        defer { next += size }
        return next ..< next + size
    }

    /// Stops the hand-out (after a failure: the other ranks finish quickly and the error surfaces).
    public func close() {
        lock.lock()
        closed = true
        lock.unlock()
    }
}

/// A message in flight to this rank, started by ``ProcessGroup/receive(from:tag:capacity:)``.
public protocol PendingReceive: AnyObject {
    /// The message once it has arrived (then this object is spent), else nil.
    func test() throws -> [UInt8]?
}

extension PendingReceive {
    /// Polls ``test()`` with sleeps growing from 10 microseconds to `maxPause` microseconds (a
    /// waiting rank must not burn the core that the ranks it waits for need).
    public func wait(maxPause: UInt32 = 200) throws -> [UInt8] {
        var pause: UInt32 = 10
        while true {
            if let bytes = try test() { return bytes }
            usleep(pause)
            pause = min(pause * 2, maxPause)
        }
    }
}

/// What this rank did in one ``ProcessGroup/shareWork(count:round:minimumChunk:_:)``.
public struct SharedWorkReport: Sendable, Equatable {
    /// Chunks this rank took.
    public var chunks: Int
    /// Seconds of this rank's `work`.
    public var workSeconds: Double
    /// Rank 0: seconds from the end of its own work to the last rank's final request (waiting for
    /// the slowest rank while it hands out chunks); 0 on the other ranks.
    public var waitSeconds: Double
}

/// The message tags of the hand-out (requests to rank 0, its replies).
enum WorkSharingTag {
    static let request = 7101
    static let reply = 7102
}

extension ProcessGroup {
    /// Shares the positions `0 ..< count` among all ranks dynamically (a collective: every rank
    /// calls it with the same `count` and `round`): `work` takes chunks from the ``MemberSource``
    /// it is given until it returns nil, and a rank that finishes early takes more.
    ///
    /// Rank 0 hands the chunks out (``ChunkSchedule``): its own `work` runs on a separate thread
    /// and takes chunks from the shared ``ChunkDispenser`` directly, while the calling thread
    /// answers the other ranks' requests (point to point, polled with short sleeps; it alone
    /// calls into the transport on rank 0, as `MPI_THREAD_SERIALIZED` requires). Another rank's
    /// source sends a request to rank 0 and waits for the reply (one request at a time, from
    /// whichever of its threads needs a chunk). Every rank returns after its own `work` and, on
    /// rank 0, after every rank received its final empty reply, so no message of a round is
    /// left in flight.
    ///
    /// `round` numbers the calls (every rank counts them the same way); requests and replies
    /// carry it and a mismatch throws ``ClusterError/protocolViolation(_:)``.
    ///
    /// Failure: an error in rank 0's `work` closes the dispenser (the other ranks get empty
    /// replies) and is rethrown once they are done; an error on another rank is thrown there, and
    /// the caller ends the job (`abort`), so rank 0 never waits forever for its final request.
    public func shareWork<T>(
        count: Int, round: Int, minimumChunk: Int = 1, _ work: @escaping (any MemberSource) throws -> T
    ) throws -> (result: T, report: SharedWorkReport) {
        let schedule = try ChunkSchedule(count: count, rankCount: size, minimumChunk: minimumChunk)
        let start = ContinuousClock.now
        if rank != 0 {
            let source = RemoteChunkSource(group: self, round: round, count: count)
            let result = try work(source)
            // The source ends only after rank 0's empty reply; a `work` that stopped earlier is a bug.
            if let chunk = try source.nextChunk() {
                throw ClusterError.protocolViolation("rank \(rank) finished its work with positions \(chunk) still handed to it")
            }
            return (result, SharedWorkReport(chunks: source.chunks, workSeconds: secondsSince(start), waitSeconds: 0))
        }
        let dispenser = ChunkDispenser(schedule: schedule)
        let local = CountingSource(dispenser)
        if size == 1 {
            let result = try work(local)
            return (result, SharedWorkReport(chunks: local.chunks, workSeconds: secondsSince(start), waitSeconds: 0))
        }
        // Rank 0's own work on its own thread (Thread is used, not Dispatch, for an 8 MiB stack:
        // the evaluator may run a member on this thread).
        let box = WorkBox<T>()
        let done = DispatchSemaphore(value: 0)
        let job = UncheckedSendable(work)
        let thread = Thread {
            let result = Result { try job.value(local) }
            if case .failure = result { dispenser.close() }
            box.finish(result)
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        do {
            try serve(dispenser, round: round, count: count)
        } catch {
            dispenser.close()
            done.wait()
            throw error
        }
        done.wait()
        let end = ContinuousClock.now
        let (result, workEnd) = box.take()
        let workSeconds = seconds(workEnd - start)
        let waitSeconds = max(0, seconds(end - workEnd))
        return (try result.get(), SharedWorkReport(chunks: local.chunks, workSeconds: workSeconds, waitSeconds: waitSeconds))
    }

    /// Rank 0: answers every other rank's requests until each has had its final (empty) reply.
    private func serve(_ dispenser: ChunkDispenser, round: Int, count: Int) throws {
        var pending: [Int: any PendingReceive] = [:]
        for r in 1 ..< size { pending[r] = try receive(from: r, tag: WorkSharingTag.request, capacity: 8) }
        var pause: UInt32 = 10
        while !pending.isEmpty {
            var answered = false
            for r in 1 ..< size {
                guard let receiving = pending[r], let message = try receiving.test() else { continue }
                var reader = ByteReader(message)
                let asked = try reader.readInt()
                guard asked == round, reader.isAtEnd else {
                    throw ClusterError.protocolViolation("rank \(r) asked for work of round \(asked) in round \(round)")
                }
                let chunk = dispenser.nextChunk() ?? count ..< count
                // Receive the next request before replying (it is posted before it can arrive).
                pending[r] = chunk.isEmpty ? nil : try receive(from: r, tag: WorkSharingTag.request, capacity: 8)
                var writer = ByteWriter(capacity: 24)
                writer.write(round)
                writer.write(chunk.lowerBound)
                writer.write(chunk.upperBound)
                try send(writer.bytes, to: r, tag: WorkSharingTag.reply)
                answered = true
            }
            if answered {
                pause = 10
            } else {
                usleep(pause)
                pause = min(pause * 2, 500)
            }
        }
    }
}

/// A rank other than 0: each chunk is one request to rank 0 and its reply.
final class RemoteChunkSource: MemberSource, @unchecked Sendable {
    private let group: any ProcessGroup
    private let round: Int
    private let count: Int
    private let lock = NSLock()
    private var exhausted = false
    private var taken = 0

    init(group: any ProcessGroup, round: Int, count: Int) {
        self.group = group
        self.round = round
        self.count = count
    }

    /// Chunks received so far.
    var chunks: Int {
        lock.lock()
        defer { lock.unlock() }
        return taken
    }

    func nextChunk() throws -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard !exhausted else { return nil }
        let reply = try group.receive(from: 0, tag: WorkSharingTag.reply, capacity: 24)
        var request = ByteWriter(capacity: 8)
        request.write(round)
        try group.send(request.bytes, to: 0, tag: WorkSharingTag.request)
        var reader = ByteReader(try reply.wait())
        let answered = try reader.readInt(), lower = try reader.readInt(), upper = try reader.readInt()
        guard answered == round, reader.isAtEnd, 0 <= lower, lower <= upper, upper <= count else {
            throw ClusterError.protocolViolation(
                "rank 0 replied \(lower)..<\(upper) of round \(answered) to a request of round \(round) for \(count) positions")
        }
        if lower == upper {
            exhausted = true
            return nil
        }
        taken += 1
        return lower ..< upper
    }
}

/// Rank 0's own view of the dispenser: counts the chunks it took.
final class CountingSource: MemberSource, @unchecked Sendable {
    private let base: ChunkDispenser
    private let lock = NSLock()
    private var taken = 0

    init(_ base: ChunkDispenser) { self.base = base }

    var chunks: Int {
        lock.lock()
        defer { lock.unlock() }
        return taken
    }

    func nextChunk() -> Range<Int>? {
        guard let chunk = base.nextChunk() else { return nil }
        lock.lock()
        taken += 1
        lock.unlock()
        return chunk
    }
}

/// The result of rank 0's work thread and when it ended; written once, read after the join.
private final class WorkBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, Error>?
    private var end = ContinuousClock.now

    func finish(_ result: Result<T, Error>) {
        lock.lock()
        self.result = result
        end = ContinuousClock.now
        lock.unlock()
    }

    func take() -> (Result<T, Error>, ContinuousClock.Instant) {
        lock.lock()
        defer { lock.unlock() }
        return (result!, end)
    }
}

/// Carries a value to another thread when the caller guarantees that only that thread uses it
/// meanwhile (rank 0's work closure and its evaluator: the calling thread only serves requests).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

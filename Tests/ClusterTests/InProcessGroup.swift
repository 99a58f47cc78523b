import Foundation
@testable import Cluster

/// A test double: P "ranks" as threads of one process, exchanging data through shared memory.
/// Every collective is an all-gather of byte buffers built on a two-phase barrier.
final class InProcessExchange: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var pending: [[UInt8]]
    private var published: [[UInt8]] = []
    private var arrived = 0
    private var round = 0

    init(size: Int) {
        self.size = size
        pending = Array(repeating: [], count: size)
    }

    /// Deposits `bytes` as rank `rank`'s part and returns every rank's part once all have arrived.
    /// The result of round k stays readable until every rank has arrived in round k + 1, which no
    /// rank can do before reading round k's result: so no reader ever sees a later round's data.
    func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        let myRound = round
        pending[rank] = bytes
        arrived += 1
        if arrived == size {
            published = pending
            pending = Array(repeating: [], count: size)
            arrived = 0
            round += 1
            condition.broadcast()
        } else {
            while round == myRound { condition.wait() }
        }
        return published
    }

    // Point to point: one FIFO mailbox per (source, destination, tag).
    private let mailLock = NSLock()
    private var mailboxes: [[Int]: [[UInt8]]] = [:]

    func post(_ bytes: [UInt8], from source: Int, to destination: Int, tag: Int) {
        mailLock.lock()
        mailboxes[[source, destination, tag], default: []].append(bytes)
        mailLock.unlock()
    }

    /// The oldest message from `source` to `destination` with `tag`, if one has arrived.
    func take(from source: Int, to destination: Int, tag: Int) -> [UInt8]? {
        mailLock.lock()
        defer { mailLock.unlock() }
        guard var queue = mailboxes[[source, destination, tag]], !queue.isEmpty else { return nil }
        let first = queue.removeFirst()
        mailboxes[[source, destination, tag]] = queue
        return first
    }

    /// Messages sent and not yet received (none may be left after a hand-out round).
    var undelivered: Int {
        mailLock.lock()
        defer { mailLock.unlock() }
        return mailboxes.values.reduce(0) { $0 + $1.count }
    }
}

/// A receive from an ``InProcessExchange`` mailbox.
final class InProcessPendingReceive: PendingReceive {
    let exchange: InProcessExchange
    let source: Int, destination: Int, tag: Int, capacity: Int
    private var done = false

    init(exchange: InProcessExchange, source: Int, destination: Int, tag: Int, capacity: Int) {
        self.exchange = exchange
        self.source = source
        self.destination = destination
        self.tag = tag
        self.capacity = capacity
    }

    func test() throws -> [UInt8]? {
        guard !done else { throw ClusterError.invalidArgument("tested a completed receive") }
        guard let bytes = exchange.take(from: source, to: destination, tag: tag) else { return nil }
        guard bytes.count <= capacity else { throw ClusterError.malformedMessage("\(bytes.count) bytes for \(capacity)") }
        done = true
        return bytes
    }
}

/// One rank's view of an ``InProcessExchange``.
final class InProcessGroup: ProcessGroup, @unchecked Sendable {
    let rank: Int
    var size: Int { exchange.size }
    private let exchange: InProcessExchange
    private(set) var traffic = TrafficStatistics()

    init(rank: Int, exchange: InProcessExchange) {
        self.rank = rank
        self.exchange = exchange
    }

    func resetTraffic() { traffic = TrafficStatistics() }

    private func gather(_ bytes: [UInt8]) -> [[UInt8]] {
        let parts = exchange.exchange(rank: rank, bytes)
        traffic.collectives += 1
        traffic.bytesSent += bytes.count
        traffic.bytesReceived += parts.reduce(0) { $0 + $1.count }
        return parts
    }

    func barrier() throws { _ = gather([]) }

    func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        guard root >= 0, root < size else { throw ClusterError.invalidArgument("root \(root)") }
        return gather(rank == root ? bytes : [])[root]
    }

    func allGather(bytes: [UInt8]) throws -> [[UInt8]] { gather(bytes) }

    func allGather(doubles values: [Double]) throws -> [Double] {
        let parts = try allGatherVarying(doubles: values)
        guard parts.allSatisfy({ $0.count == values.count }) else {
            throw ClusterError.invalidArgument("unequal counts")
        }
        return parts.flatMap { $0 }
    }

    func allGatherVarying(doubles values: [Double]) throws -> [[Double]] {
        var w = ByteWriter()
        w.write(values)
        return try gather(w.bytes).map { part in
            var r = ByteReader(part)
            return try r.readDoubles()
        }
    }

    func allReduceSum(_ values: [Int64]) throws -> [Int64] {
        var w = ByteWriter()
        w.write(values)
        let parts = try gather(w.bytes).map { part -> [Int64] in
            var r = ByteReader(part)
            return try r.readInt64s()
        }
        guard parts.allSatisfy({ $0.count == values.count }) else {
            throw ClusterError.invalidArgument("unequal counts")
        }
        return (0..<values.count).map { i in parts.reduce(0) { $0 &+ $1[i] } }
    }

    func send(_ bytes: [UInt8], to destination: Int, tag: Int) throws {
        guard destination >= 0, destination < size, destination != rank else { throw ClusterError.invalidArgument("to \(destination)") }
        exchange.post(bytes, from: rank, to: destination, tag: tag)
    }

    func receive(from source: Int, tag: Int, capacity: Int) throws -> any PendingReceive {
        guard source >= 0, source < size, source != rank else { throw ClusterError.invalidArgument("from \(source)") }
        return InProcessPendingReceive(exchange: exchange, source: source, destination: rank, tag: tag, capacity: capacity)
    }

    /// The exchange's messages not yet received.
    var undeliveredMessages: Int { exchange.undelivered }

    func abort(code: Int32, message: String) -> Never { fatalError(message) }
}

/// Runs `body(group)` on `size` threads, one per rank, and returns the results in rank order.
func runRanks<T>(_ size: Int, _ body: @escaping @Sendable (InProcessGroup) throws -> T) throws -> [T] {
    let exchange = InProcessExchange(size: size)
    let box = ResultBox<T>(count: size)
    let lock = NSLock()
    let done = DispatchSemaphore(value: 0)
    for r in 0..<size {
        let thread = Thread {
            let group = InProcessGroup(rank: r, exchange: exchange)
            let result = Result { try body(group) }
            lock.lock(); box.results[r] = result; lock.unlock()
            done.signal()
        }
        thread.start()
    }
    for _ in 0..<size { done.wait() }
    return try box.results.map { try $0!.get() }
}

/// Per-rank results written by the rank threads under a lock.
final class ResultBox<T>: @unchecked Sendable {
    var results: [Result<T, Error>?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
}

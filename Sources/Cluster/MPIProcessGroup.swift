#if MPI
import CMPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ranks of `MPI_COMM_WORLD` as a ``ProcessGroup`` (builds with the package trait `MPI`).
///
/// MPI is initialized with `MPI_THREAD_SERIALIZED`: the collectives may be called from any thread
/// but never from two threads at once. The training loop calls the collectives from its driver
/// thread only; during the work hand-out (``ProcessGroup/shareWork(count:round:minimumChunk:_:)``)
/// rank 0's driver thread alone sends and receives, and on the other ranks the worker thread that
/// needs a chunk asks, under a lock, while the driver thread waits for the workers. The communicator's error handler is `MPI_ERRORS_RETURN`,
/// so a failed peer or connection surfaces as a thrown ``ClusterError/mpi(call:code:message:rank:)``
/// rather than as an abort inside the library.
///
/// Only bytes and exact integers cross the wire; see ``ProcessGroup`` for why.
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm
    private var finalized = false
    private var counters = TrafficStatistics()

    /// True when this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun` with
    /// PMI/PMIx): the environment carries a rank. A plain start is a group of one and should use
    /// ``SingleProcessGroup`` instead of initializing MPI as a singleton.
    public static var launchedByMPI: Bool {
        for name in ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"] where getenv(name) != nil {
            return true
        }
        return false
    }

    /// Initializes MPI (once per process) and returns the world group.
    ///
    /// Edge Cases: throws when MPI was already initialized in this process (a second group would
    /// finalize MPI twice), when the library cannot provide `MPI_THREAD_SERIALIZED`, or when
    /// initialization fails.
    public init() throws {
        var already: Int32 = 0
        MPI_Initialized(&already)
        guard already == 0 else {
            throw ClusterError.invalidArgument("MPI is already initialized in this process; create one MPIProcessGroup")
        }
        var provided: Int32 = 0
        let required = Int32(MPI_THREAD_SERIALIZED)
        let code = MPI_Init_thread(nil, nil, required, &provided)
        guard code == MPI_SUCCESS else {
            throw ClusterError.mpi(call: "MPI_Init_thread", code: code, message: Self.errorString(code), rank: -1)
        }
        comm = satr_mpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_set_errhandler(comm, satr_mpi_errors_return())
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
        guard provided >= required else {
            MPI_Finalize()
            throw ClusterError.invalidArgument(
                "the MPI library provides thread level \(provided), below MPI_THREAD_SERIALIZED (\(required))")
        }
    }

    /// Finalizes MPI. Call once, on every rank, after the last collective.
    public func finalize() throws {
        guard !finalized else { return }
        finalized = true
        try check("MPI_Finalize", MPI_Finalize())
    }

    public var traffic: TrafficStatistics { counters }
    public func resetTraffic() { counters = TrafficStatistics() }

    // MARK: - Collectives

    /// A barrier that does not burn a core while it waits: `MPI_Ibarrier`, then `MPI_Test` with
    /// sleeps growing from 20 microseconds to 1 millisecond. A rank that finished its members early
    /// otherwise spins in MPI's progress loop until the slowest rank arrives, taking CPU time from
    /// the evaluation threads of other ranks or jobs on the same cores (measured: see
    /// docs/DISTRIBUTED.md). Costs at most about 1 ms of latency per barrier.
    public func barrier() throws {
        let start = ContinuousClock.now
        var request: MPI_Request? = nil
        try check("MPI_Ibarrier", MPI_Ibarrier(comm, &request))
        var done: Int32 = 0
        var pause: UInt32 = 20
        while true {
            try check("MPI_Test", MPI_Test(&request, &done, nil))
            if done != 0 { break }
            usleep(pause)
            pause = min(pause * 2, 1000)
        }
        record(start, sent: 0, received: 0)
    }

    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        guard root >= 0, root < size else {
            throw ClusterError.invalidArgument("broadcast root \(root) outside 0..<\(size)")
        }
        let start = ContinuousClock.now
        var count: Int64 = rank == root ? Int64(bytes.count) : 0
        try check("MPI_Bcast", MPI_Bcast(&count, 1, satr_mpi_int64(), Int32(root), comm))
        guard count >= 0, count <= Int64(Int32.max) else {
            throw ClusterError.invalidArgument("broadcast of \(count) bytes exceeds MPI's Int32 count")
        }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        if count > 0 {
            try buffer.withUnsafeMutableBytes { raw in
                try check("MPI_Bcast", MPI_Bcast(raw.baseAddress, Int32(count), satr_mpi_byte(), Int32(root), comm))
            }
        }
        record(start, sent: rank == root ? Int(count) : 0, received: Int(count))
        return buffer
    }

    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] {
        let start = ContinuousClock.now
        let (counts, displacements, total) = try gatherCounts(bytes.count)
        var received = [UInt8](repeating: 0, count: max(total, 1))
        var send = bytes
        if send.isEmpty { send = [0] }
        try send.withUnsafeBytes { s in
            try received.withUnsafeMutableBytes { r in
                try check("MPI_Allgatherv", MPI_Allgatherv(
                    s.baseAddress, Int32(bytes.count), satr_mpi_byte(),
                    r.baseAddress, counts, displacements, satr_mpi_byte(), comm))
            }
        }
        record(start, sent: bytes.count, received: total)
        return (0..<size).map { r in
            let lo = Int(displacements[r])
            return Array(received[lo ..< lo + Int(counts[r])])
        }
    }

    public func allGather(doubles values: [Double]) throws -> [Double] {
        let start = ContinuousClock.now
        let (counts, _, _) = try gatherCounts(values.count)
        guard counts.allSatisfy({ Int($0) == values.count }) else {
            throw ClusterError.invalidArgument(
                "allGather(doubles:) needs equal counts on every rank, got \(counts.map(Int.init))")
        }
        let total = values.count * size
        var received = [Double](repeating: 0, count: max(total, 1))
        var send = values
        if send.isEmpty { send = [0] }
        try send.withUnsafeBytes { s in
            try received.withUnsafeMutableBytes { r in
                try check("MPI_Allgather", MPI_Allgather(
                    s.baseAddress, Int32(values.count), satr_mpi_double(),
                    r.baseAddress, Int32(values.count), satr_mpi_double(), comm))
            }
        }
        record(start, sent: values.count * 8, received: total * 8)
        return Array(received.prefix(total))
    }

    public func allGatherVarying(doubles values: [Double]) throws -> [[Double]] {
        let start = ContinuousClock.now
        let (counts, displacements, total) = try gatherCounts(values.count)
        var received = [Double](repeating: 0, count: max(total, 1))
        var send = values
        if send.isEmpty { send = [0] }
        try send.withUnsafeBytes { s in
            try received.withUnsafeMutableBytes { r in
                try check("MPI_Allgatherv", MPI_Allgatherv(
                    s.baseAddress, Int32(values.count), satr_mpi_double(),
                    r.baseAddress, counts, displacements, satr_mpi_double(), comm))
            }
        }
        record(start, sent: values.count * 8, received: total * 8)
        return (0..<size).map { r in
            let lo = Int(displacements[r])
            return Array(received[lo ..< lo + Int(counts[r])])
        }
    }

    public func allReduceSum(_ values: [Int64]) throws -> [Int64] {
        let start = ContinuousClock.now
        let (counts, _, _) = try gatherCounts(values.count)
        guard counts.allSatisfy({ Int($0) == values.count }) else {
            throw ClusterError.invalidArgument(
                "allReduceSum needs equal counts on every rank, got \(counts.map(Int.init))")
        }
        var received = [Int64](repeating: 0, count: max(values.count, 1))
        var send = values
        if send.isEmpty { send = [0] }
        try send.withUnsafeBytes { s in
            try received.withUnsafeMutableBytes { r in
                try check("MPI_Allreduce", MPI_Allreduce(
                    s.baseAddress, r.baseAddress, Int32(values.count), satr_mpi_int64(),
                    satr_mpi_op_sum(), comm))
            }
        }
        record(start, sent: values.count * 8, received: values.count * 8)
        return Array(received.prefix(values.count))
    }

    public func send(_ bytes: [UInt8], to destination: Int, tag: Int) throws {
        guard destination >= 0, destination < size, destination != rank else {
            throw ClusterError.invalidArgument("send from rank \(rank) to rank \(destination) of \(size)")
        }
        guard bytes.count <= Int(Int32.max) else {
            throw ClusterError.invalidArgument("send of \(bytes.count) bytes exceeds MPI's Int32 count")
        }
        try bytes.withUnsafeBytes { b in
            try check("MPI_Send", MPI_Send(b.baseAddress, Int32(bytes.count), satr_mpi_byte(), Int32(destination), Int32(tag), comm))
        }
    }

    public func receive(from source: Int, tag: Int, capacity: Int) throws -> any PendingReceive {
        guard source >= 0, source < size, source != rank else {
            throw ClusterError.invalidArgument("receive on rank \(rank) from rank \(source) of \(size)")
        }
        guard capacity >= 0, capacity <= Int(Int32.max) else {
            throw ClusterError.invalidArgument("receive of \(capacity) bytes exceeds MPI's Int32 count")
        }
        let pending = MPIPendingReceive(capacity: capacity, rank: rank)
        try check("MPI_Irecv", MPI_Irecv(
            pending.buffer, Int32(capacity), satr_mpi_byte(), Int32(source), Int32(tag), comm, &pending.request))
        pending.started = true
        return pending
    }

    public func abort(code: Int32, message: String) -> Never {
        writeToStandardError(message)
        if !finalized { MPI_Abort(comm, code) }
        exit(code)
    }

    // MARK: - Helpers

    /// Every rank's element count (as MPI's Int32 counts), the displacements of an allgatherv of
    /// them, and their total. Throws when a count or the total does not fit MPI's Int32.
    private func gatherCounts(_ count: Int) throws -> ([Int32], [Int32], Int) {
        var mine = Int64(count)
        var all = [Int64](repeating: 0, count: size)
        try all.withUnsafeMutableBytes { r in
            try check("MPI_Allgather", MPI_Allgather(&mine, 1, satr_mpi_int64(), r.baseAddress, 1, satr_mpi_int64(), comm))
        }
        var displacements = [Int32](repeating: 0, count: size)
        var total: Int64 = 0
        for r in 0..<size {
            guard all[r] >= 0, total + all[r] <= Int64(Int32.max) else {
                throw ClusterError.invalidArgument("gather of \(all) elements exceeds MPI's Int32 counts")
            }
            displacements[r] = Int32(total)
            total += all[r]
        }
        return (all.map { Int32($0) }, displacements, Int(total))
    }

    private func record(_ start: ContinuousClock.Instant, sent: Int, received: Int) {
        counters.collectives += 1
        counters.bytesSent += sent
        counters.bytesReceived += received
        counters.seconds += secondsSince(start)
    }

    private func check(_ call: String, _ code: Int32) throws {
        guard code != MPI_SUCCESS else { return }
        throw ClusterError.mpi(call: call, code: code, message: Self.errorString(code), rank: rank)
    }

    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(satr_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &buffer, &length)
        let bytes = buffer.prefix(Int(max(0, length))).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
/// An `MPI_Irecv` in flight: its buffer and request. Polled with `MPI_Test` (which completes and
/// frees the request once the message is there).
final class MPIPendingReceive: PendingReceive {
    let buffer: UnsafeMutableRawPointer
    let capacity: Int
    let rank: Int
    var request: MPI_Request? = nil
    var started = false
    private var complete = false

    init(capacity: Int, rank: Int) {
        self.capacity = capacity
        self.rank = rank
        buffer = .allocate(byteCount: max(capacity, 1), alignment: 8)
    }

    deinit {
        // A receive still in flight (only after an error, when the job is being ended) may yet
        // write into the buffer: leave it allocated rather than risk that.
        if complete || !started { buffer.deallocate() }
    }

    func test() throws -> [UInt8]? {
        guard !complete else { throw ClusterError.invalidArgument("a completed receive was tested again") }
        var done: Int32 = 0
        var status = MPI_Status()
        let code = MPI_Test(&request, &done, &status)
        guard code == MPI_SUCCESS else {
            throw ClusterError.mpi(call: "MPI_Test", code: code, message: MPIProcessGroup.errorString(code), rank: rank)
        }
        guard done != 0 else { return nil }
        complete = true
        var count: Int32 = 0
        let countCode = MPI_Get_count(&status, satr_mpi_byte(), &count)
        guard countCode == MPI_SUCCESS, count >= 0, Int(count) <= capacity else {
            throw ClusterError.mpi(call: "MPI_Get_count", code: countCode, message: "received count \(count) of at most \(capacity)", rank: rank)
        }
        return Array(UnsafeRawBufferPointer(start: buffer, count: Int(count)))
    }
}
#endif

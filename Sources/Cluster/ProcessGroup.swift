/// A fixed group of cooperating processes ("ranks") that run the same program and exchange data
/// through collective operations. Every rank must call the same collectives in the same order.
///
/// Two implementations exist: ``SingleProcessGroup`` (one rank, always available) and, in builds
/// with the package trait `MPI`, ``MPIProcessGroup`` (the ranks of `MPI_COMM_WORLD`).
///
/// The collectives move bytes and exact integers only; no floating-point value is ever combined
/// by the transport (no `MPI_Allreduce` of doubles, whose summation order depends on the number of
/// ranks and on the MPI implementation's algorithm). Callers gather the per-member values and
/// combine them themselves, in member order, which is what keeps a run bit-identical whatever the
/// number of processes.
public protocol ProcessGroup: AnyObject {
    /// This process's index in the group, `0 ..< size`.
    var rank: Int { get }
    /// The number of processes in the group, at least 1.
    var size: Int { get }

    /// Blocks until every rank has entered the barrier.
    func barrier() throws

    /// Returns `root`'s `bytes` on every rank (the argument is ignored on the other ranks).
    ///
    /// Edge Cases: `root` outside `0 ..< size` throws ``ClusterError/invalidArgument(_:)``.
    func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8]

    /// Concatenation of every rank's `bytes`, returned per rank: `result[r]` is rank r's argument.
    /// The ranks may contribute different lengths (an "allgatherv").
    func allGather(bytes: [UInt8]) throws -> [[UInt8]]

    /// Every rank's `values`, concatenated in rank order. All ranks must pass the same count;
    /// otherwise ``ClusterError/invalidArgument(_:)`` is thrown on every rank.
    ///
    /// Postconditions: the result has `size * values.count` elements, bit-for-bit the inputs.
    func allGather(doubles values: [Double]) throws -> [Double]

    /// Every rank's `values`, returned per rank (`result[r]` is rank r's array; lengths may differ).
    func allGatherVarying(doubles values: [Double]) throws -> [[Double]]

    /// Element-wise exact sum over ranks: `result[i] = sum_r values_r[i]` (two's complement Int64;
    /// integer addition is associative, so the result does not depend on the reduction order).
    /// All ranks must pass the same count.
    func allReduceSum(_ values: [Int64]) throws -> [Int64]

    /// Sends `bytes` to rank `destination` with message tag `tag` (point to point); returns once
    /// the buffer may be reused. For small messages (the work hand-out's requests and replies).
    ///
    /// Edge Cases: `destination` outside `0 ..< size` or equal to `rank` throws
    /// ``ClusterError/invalidArgument(_:)``.
    func send(_ bytes: [UInt8], to destination: Int, tag: Int) throws

    /// Starts receiving the next message of at most `capacity` bytes with tag `tag` from rank
    /// `source` (messages between two ranks with one tag arrive in the order they were sent);
    /// poll it with ``PendingReceive/test()``.
    ///
    /// Edge Cases: `source` outside `0 ..< size` or equal to `rank` throws
    /// ``ClusterError/invalidArgument(_:)``.
    func receive(from source: Int, tag: Int, capacity: Int) throws -> any PendingReceive

    /// Ends every process of the group with exit status `code`, after writing `message` to
    /// standard error. Used when one rank cannot continue and the others would otherwise wait
    /// forever in the next collective.
    func abort(code: Int32, message: String) -> Never

    /// What this rank's collectives have cost since creation or the last ``resetTraffic()``.
    var traffic: TrafficStatistics { get }

    /// Sets ``traffic`` back to zero.
    func resetTraffic()
}

extension ProcessGroup {
    /// True on rank 0, the rank that writes metrics and checkpoints.
    public var isRoot: Bool { rank == 0 }

    /// Every rank's `value`, in rank order (`result[r]` is rank r's value).
    public func allGather(_ value: Double) throws -> [Double] {
        try allGather(doubles: [value])
    }

    /// The exact sum over ranks of one integer.
    public func allReduceSum(_ value: Int64) throws -> Int64 {
        let result = try allReduceSum([value])
        guard result.count == 1 else {
            throw ClusterError.protocolViolation("allReduceSum returned \(result.count) values for 1")
        }
        return result[0]
    }
}

/// Errors of the process-group layer. Their descriptions name the operation, the rank and what
/// to do next.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code (the group runs with `MPI_ERRORS_RETURN`, so failures of
    /// peers and of the network arrive here instead of aborting inside the library).
    case mpi(call: String, code: Int32, message: String, rank: Int)
    /// A caller passed an argument that cannot be valid on this group.
    case invalidArgument(String)
    /// The ranks disagreed about data that must be identical or complete (a bug or a version mix).
    case protocolViolation(String)
    /// Serialized data ended early or had an unexpected shape.
    case malformedMessage(String)

    public var description: String {
        switch self {
        case let .mpi(call, code, message, rank):
            return "rank \(rank): \(call) failed with MPI error \(code): \(message)"
                + " (another process probably died or lost its connection)"
        case let .invalidArgument(text): return "invalid argument: \(text)"
        case let .protocolViolation(text): return "ranks disagree: \(text)"
        case let .malformedMessage(text): return "malformed message: \(text)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The group of one process: every collective returns its own input. This is what a run without
/// `mpirun` (or a build without the `MPI` trait) uses, so one code path serves both cases.
public final class SingleProcessGroup: ProcessGroup, @unchecked Sendable {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }

    /// Always zero: a group of one moves no data.
    public var traffic: TrafficStatistics { TrafficStatistics() }
    public func resetTraffic() {}

    public func barrier() throws {}

    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        guard root == 0 else { throw ClusterError.invalidArgument("broadcast root \(root) in a group of 1") }
        return bytes
    }

    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }

    public func allGather(doubles values: [Double]) throws -> [Double] { values }

    public func allGatherVarying(doubles values: [Double]) throws -> [[Double]] { [values] }

    public func allReduceSum(_ values: [Int64]) throws -> [Int64] { values }

    /// A group of one has no peer to send to.
    public func send(_ bytes: [UInt8], to destination: Int, tag: Int) throws {
        throw ClusterError.invalidArgument("send to rank \(destination) in a group of 1")
    }

    /// A group of one has no peer to receive from.
    public func receive(from source: Int, tag: Int, capacity: Int) throws -> any PendingReceive {
        throw ClusterError.invalidArgument("receive from rank \(source) in a group of 1")
    }

    public func abort(code: Int32, message: String) -> Never {
        writeToStandardError(message)
        exit(code)
    }
}

/// Writes `message` (plus a newline when missing) to file descriptor 2, unbuffered.
func writeToStandardError(_ message: String) {
    var bytes = Array(message.utf8)
    if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written <= 0 { return }
        offset += written
    }
}

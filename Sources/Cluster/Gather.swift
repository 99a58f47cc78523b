/// A per-member result that can cross process boundaries exactly.
public protocol MemberRecord: Sendable {
    /// Appends this record to `writer`; ``decode(from:)`` must read back an identical value.
    func encode(to writer: inout ByteWriter)
    /// Reads one record written by ``encode(to:)``.
    static func decode(from reader: inout ByteReader) throws -> Self
}

extension ProcessGroup {
    /// Gathers member-indexed results from every rank into one array indexed by member.
    ///
    /// Each rank passes the results of the members ``MemberPartition/members(ofRank:)`` assigned
    /// to it, in that order; every rank receives all `partition.memberCount` results, slot k holding
    /// member k's record as its evaluating rank encoded it (bit-identical). Because every rank then
    /// holds the same array, the caller combines it in member order and gets the same result as a
    /// single process would.
    ///
    /// Edge Cases: throws ``ClusterError/invalidArgument(_:)`` when `local.count` differs from this
    /// rank's share or the partition's rank count differs from the group size, and
    /// ``ClusterError/protocolViolation(_:)`` when another rank sent a different number of records.
    public func gatherMembers<Record: MemberRecord>(
        _ local: [Record], partition: MemberPartition
    ) throws -> [Record] {
        guard partition.rankCount == size else {
            throw ClusterError.invalidArgument("partition for \(partition.rankCount) ranks used in a group of \(size)")
        }
        guard local.count == partition.memberCount(ofRank: rank) else {
            throw ClusterError.invalidArgument(
                "rank \(rank) passed \(local.count) results for its \(partition.memberCount(ofRank: rank)) members")
        }
        var writer = ByteWriter()
        writer.write(local.count)
        for record in local { record.encode(to: &writer) }
        let parts = try allGather(bytes: writer.bytes)
        var slots = [Record?](repeating: nil, count: partition.memberCount)
        for (r, part) in parts.enumerated() {
            var reader = ByteReader(part)
            let count = try reader.readInt()
            let members = partition.members(ofRank: r)
            guard count == members.count else {
                throw ClusterError.protocolViolation("rank \(r) sent \(count) results for its \(members.count) members")
            }
            for k in members { slots[k] = try Record.decode(from: &reader) }
            guard reader.isAtEnd else {
                throw ClusterError.protocolViolation("rank \(r) sent \(part.count - reader.offset) trailing bytes")
            }
        }
        return try slots.enumerated().map { k, record in
            guard let record else { throw ClusterError.protocolViolation("no result for member \(k)") }
            return record
        }
    }
}

extension ProcessGroup {
    /// Gathers results that the ranks took dynamically (``shareWork(count:round:minimumChunk:_:)``)
    /// into one array indexed by position: each rank passes its `(position, record)` pairs, and
    /// every rank receives all `count` records, slot k holding the record of position k as its
    /// evaluating rank encoded it (bit-identical). Each record travels with its position (8 bytes
    /// more than ``gatherMembers(_:partition:)``, whose positions follow from the rank).
    ///
    /// Edge Cases: throws ``ClusterError/invalidArgument(_:)`` for a local position outside
    /// `0 ..< count`, and ``ClusterError/protocolViolation(_:)`` when a position arrives twice or
    /// not at all.
    public func gatherPositioned<Record: MemberRecord>(
        _ local: [(position: Int, record: Record)], count: Int
    ) throws -> [Record] {
        var writer = ByteWriter()
        writer.write(local.count)
        for (position, record) in local {
            guard position >= 0, position < count else {
                throw ClusterError.invalidArgument("rank \(rank) passed position \(position) of \(count)")
            }
            writer.write(position)
            record.encode(to: &writer)
        }
        let parts = try allGather(bytes: writer.bytes)
        var slots = [Record?](repeating: nil, count: count)
        for (r, part) in parts.enumerated() {
            var reader = ByteReader(part)
            let n = try reader.readInt()
            guard n >= 0, n <= count else { throw ClusterError.protocolViolation("rank \(r) sent \(n) results for \(count) positions") }
            for _ in 0 ..< n {
                let position = try reader.readInt()
                guard position >= 0, position < count, slots[position] == nil else {
                    throw ClusterError.protocolViolation("rank \(r) sent position \(position) of \(count), out of range or sent before")
                }
                slots[position] = try Record.decode(from: &reader)
            }
            guard reader.isAtEnd else {
                throw ClusterError.protocolViolation("rank \(r) sent \(part.count - reader.offset) trailing bytes")
            }
        }
        return try slots.enumerated().map { k, record in
            guard let record else { throw ClusterError.protocolViolation("no result for position \(k)") }
            return record
        }
    }
}

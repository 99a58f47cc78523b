import XCTest
@testable import Cluster

private struct Sample: MemberRecord, Equatable {
    var member: Int
    var fitness: Double
    var stats: [Double]

    func encode(to writer: inout ByteWriter) {
        writer.write(member)
        writer.write(fitness)
        writer.write(stats)
    }
    static func decode(from reader: inout ByteReader) throws -> Sample {
        Sample(member: try reader.readInt(), fitness: try reader.readDouble(), stats: try reader.readDoubles())
    }
}

final class ByteCodingTests: XCTestCase {
    func testRoundTripIsBitExact() throws {
        let values: [Double] = [-0.0, .nan, Double(bitPattern: 0x7FF8_0000_0000_0123), .leastNonzeroMagnitude, -.infinity, 0.1]
        var w = ByteWriter()
        w.write(values)
        w.write(Int64.min)
        w.write(Float(-1.5))
        w.write(bytes: [1, 2, 3])
        var r = ByteReader(w.bytes)
        XCTAssertEqual(try r.readDoubles().map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(try r.readInt64(), Int64.min)
        XCTAssertEqual(try r.readFloat(), -1.5)
        XCTAssertEqual(try r.readBytes(), [1, 2, 3])
        XCTAssertTrue(r.isAtEnd)
    }

    func testTruncatedAndLyingCountsThrow() {
        var w = ByteWriter()
        w.write([1.0, 2.0])
        var truncated = ByteReader(Array(w.bytes.dropLast()))
        XCTAssertThrowsError(try truncated.readDoubles())
        var lying = ByteWriter()
        lying.write(Int64(1 << 40))
        var reader = ByteReader(lying.bytes)
        XCTAssertThrowsError(try reader.readDoubles())
        var negative = ByteWriter()
        negative.write(Int64(-3))
        var reader2 = ByteReader(negative.bytes)
        XCTAssertThrowsError(try reader2.readBytes())
    }

    func testSingleProcessGatherPutsMembersInSlots() throws {
        let group = SingleProcessGroup()
        let partition = try MemberPartition(memberCount: 4, rankCount: 1)
        let local = (0..<4).map { Sample(member: $0, fitness: Double($0) * 0.5, stats: [Double($0)]) }
        XCTAssertEqual(try group.gatherMembers(local, partition: partition), local)
        XCTAssertThrowsError(try group.gatherMembers(Array(local.prefix(3)), partition: partition))
        let wrongSize = try MemberPartition(memberCount: 4, rankCount: 2)
        XCTAssertThrowsError(try group.gatherMembers(local, partition: wrongSize))
    }

    func testSingleProcessCollectives() throws {
        let group = SingleProcessGroup()
        XCTAssertEqual(group.rank, 0)
        XCTAssertEqual(group.size, 1)
        XCTAssertTrue(group.isRoot)
        XCTAssertEqual(try group.broadcast([1, 2], root: 0), [1, 2])
        XCTAssertThrowsError(try group.broadcast([1], root: 1))
        XCTAssertEqual(try group.allGather(bytes: [7]), [[7]])
        XCTAssertEqual(try group.allGather(2.5), [2.5])
        XCTAssertEqual(try group.allReduceSum(Int64(41)), 41)
        XCTAssertEqual(try group.allGatherVarying(doubles: [1, 2]), [[1, 2]])
    }
}

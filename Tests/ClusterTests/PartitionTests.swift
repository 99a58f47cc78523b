import XCTest
@testable import Cluster

final class PartitionTests: XCTestCase {
    func testEveryMemberExactlyOnce() throws {
        for m in [0, 1, 5, 64, 257] {
            for p in 1...5 {
                let partition = try MemberPartition(memberCount: m, rankCount: p)
                var seen = [Int](repeating: 0, count: m)
                for r in 0..<p {
                    let mine = partition.members(ofRank: r)
                    XCTAssertEqual(mine.count, partition.memberCount(ofRank: r))
                    XCTAssertEqual(mine, mine.sorted())
                    for k in mine {
                        seen[k] += 1
                        XCTAssertEqual(partition.rank(ofMember: k), r)
                    }
                }
                XCTAssertEqual(seen, [Int](repeating: 1, count: m), "M=\(m) P=\(p)")
            }
        }
    }

    func testBadArgumentsThrow() {
        XCTAssertThrowsError(try MemberPartition(memberCount: 4, rankCount: 0))
        XCTAssertThrowsError(try MemberPartition(memberCount: -1, rankCount: 2))
    }
}

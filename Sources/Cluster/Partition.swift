/// Static assignment of a population's members to the ranks of a process group.
///
/// Member k goes to rank `k mod P` (strided, "round robin"). Striding rather than contiguous
/// blocks spreads members of similar index, and mirrored pairs (k, k+1), over all ranks, so
/// long and short episodes mix on every rank; inside a rank the training threads still schedule
/// their share dynamically. docs/DISTRIBUTED.md records the measured load imbalance of this choice.
public struct MemberPartition: Sendable, Equatable {
    /// The population size M.
    public let memberCount: Int
    /// The number of ranks P.
    public let rankCount: Int

    /// Edge Cases: throws ``ClusterError/invalidArgument(_:)`` when `memberCount < 0` or
    /// `rankCount < 1`. More ranks than members is allowed: the extra ranks get no members.
    public init(memberCount: Int, rankCount: Int) throws {
        guard memberCount >= 0 else { throw ClusterError.invalidArgument("member count \(memberCount) < 0") }
        guard rankCount >= 1 else { throw ClusterError.invalidArgument("rank count \(rankCount) < 1") }
        self.memberCount = memberCount
        self.rankCount = rankCount
    }

    /// The rank that evaluates member `member`: `member mod P`.
    public func rank(ofMember member: Int) -> Int { member % rankCount }

    /// The members of `rank` in increasing order: `rank, rank + P, rank + 2P, ... < M`.
    public func members(ofRank rank: Int) -> [Int] {
        guard rank >= 0, rank < rankCount, rank < memberCount else { return [] }
        return Array(stride(from: rank, to: memberCount, by: rankCount))
    }

    /// How many members `rank` evaluates: `ceil((M - rank) / P)` for `rank < M`, else 0.
    public func memberCount(ofRank rank: Int) -> Int {
        guard rank >= 0, rank < rankCount, rank < memberCount else { return 0 }
        return (memberCount - rank + rankCount - 1) / rankCount
    }
}

import CKernels

/// Exact, grouping-independent gradient statistics of a bit population.
///
/// With integer rank weights `a_k = 2 (M - 1) u_k` (`FitnessShaping.integerWeights`), every
/// statistic the bit optimizers need is a polynomial in the per-bit integer sums
///
/// - `weightedCounts[i]        = sum_k a_k   * theta_k,i`
/// - `squaredWeightedCounts[i] = sum_k a_k^2 * theta_k,i`
/// - `firstHalfWeightedCounts[i] = sum_{k in first half} a_k * theta_k,i`
///
/// and the scalars `sum a_k`, `sum a_k^2`, `sum_{first half} a_k`, the member counts (using
/// `theta^2 = theta`):
///
/// - `sum_k u_k (theta_k,i - rho_i) = (weightedCounts[i] - rho_i sum a) / (2 (M - 1))`
/// - `sum_k z_k (theta_k,i - rho_i) = s (weightedCounts[i] - rho_i sum a)`, `s = sqrt(M / sum a^2)`
/// - `sum_k c_k,i^2 = s^2 (squaredWeightedCounts[i] (1 - 2 rho_i) + rho_i^2 sum a^2)`
///
/// All sums are `Int64` (|a| < M, so they stay below `M^3` and cannot overflow for any population
/// that fits in memory). Integer addition is associative, so workers (threads or processes) can
/// fill statistics for disjoint member subsets in any order and `merge` them with a result that is
/// bit-identical to a single sequential pass.
public struct BitStatistics: MergeableStatistics, Equatable, Codable {
    /// d, the number of bits.
    public let dimension: Int
    /// M, the population size the weights belong to.
    public let populationSize: Int
    /// Members with index below this form the "first half" of the split-half estimator.
    public let firstHalfEnd: Int
    /// `sum_k a_k theta_k,i` per bit.
    public private(set) var weightedCounts: [Int64]
    /// `sum_k a_k^2 theta_k,i` per bit.
    public private(set) var squaredWeightedCounts: [Int64]
    /// `sum_{k < firstHalfEnd} a_k theta_k,i` per bit.
    public private(set) var firstHalfWeightedCounts: [Int64]
    /// `sum_k a_k` over the members added.
    public private(set) var weightSum: Int64 = 0
    /// `sum_k a_k^2` over the members added.
    public private(set) var squaredWeightSum: Int64 = 0
    /// `sum_{k < firstHalfEnd} a_k` over the members added.
    public private(set) var firstHalfWeightSum: Int64 = 0
    /// Members added so far.
    public private(set) var memberCount = 0
    /// Members of the first half added so far.
    public private(set) var firstHalfMemberCount = 0

    /// Empty statistics for a population of `populationSize` members over `dimension` bits.
    ///
    /// `firstHalfEnd` defaults to `M / 2`, or to `2 * ((M / 2) / 2)` with mirrored pairs so that a
    /// pair is never split between the halves.
    public init(dimension: Int, populationSize: Int, mirrored: Bool = false) {
        precondition(dimension >= 1 && populationSize >= 1, "empty statistics need d >= 1 and M >= 1")
        self.dimension = dimension
        self.populationSize = populationSize
        self.firstHalfEnd = mirrored ? 2 * ((populationSize / 2) / 2) : populationSize / 2
        weightedCounts = [Int64](repeating: 0, count: dimension)
        squaredWeightedCounts = [Int64](repeating: 0, count: dimension)
        firstHalfWeightedCounts = [Int64](repeating: 0, count: dimension)
    }

    /// Adds member `member` with integer weight `weight` and packed bits `words`.
    ///
    /// Cost: one branch-free pass over the member's words (64 lanes per word: the bit, as an
    /// all-ones or all-zero mask, selects the weight), which the compiler vectorizes.
    public mutating func add(member: Int, weight: Int64, bits words: UnsafeBufferPointer<UInt64>) {
        precondition(words.count >= BitGenome.wordCount(bits: dimension), "member has too few words")
        addScalars(member: member, weight: weight)
        guard let bits = words.baseAddress else { return }
        let entry = MemberBits(weight: weight, inFirstHalf: member < firstHalfEnd, bits: bits)
        let wordCount = BitGenome.wordCount(bits: dimension)
        withSums { sums in
            withUnsafePointer(to: entry) { m in
                Self.addWords(0..<wordCount, of: UnsafeBufferPointer(start: m, count: 1), into: sums)
            }
        }
    }

    /// Counts member `member` with weight `weight` in the scalar sums (the per-bit sums are
    /// `addWords`'s).
    private mutating func addScalars(member: Int, weight: Int64) {
        weightSum += weight
        squaredWeightSum += weight * weight
        memberCount += 1
        if member < firstHalfEnd {
            firstHalfWeightSum += weight
            firstHalfMemberCount += 1
        }
    }

    /// Pointers to the three per-bit sum arrays (unique storage), for `addWords`; threads may
    /// share them because each writes a disjoint word range.
    struct SumPointers: @unchecked Sendable {
        let dimension: Int
        let weighted: UnsafeMutablePointer<Int64>
        let squared: UnsafeMutablePointer<Int64>
        let firstHalf: UnsafeMutablePointer<Int64>
    }

    /// Calls `body` with pointers to the per-bit sums, valid for its duration.
    mutating func withSums<R>(_ body: (SumPointers) -> R) -> R {
        let d = dimension
        return weightedCounts.withUnsafeMutableBufferPointer { a1 in
            squaredWeightedCounts.withUnsafeMutableBufferPointer { a2 in
                firstHalfWeightedCounts.withUnsafeMutableBufferPointer { h in
                    body(SumPointers(dimension: d, weighted: a1.baseAddress!, squared: a2.baseAddress!, firstHalf: h.baseAddress!))
                }
            }
        }
    }

    /// One member's contribution: its integer weight, its half, its packed bits (the C kernel's
    /// `satr_member_bits`).
    typealias MemberBits = satr_member_bits

    /// Adds words `words` (word indices) of every member in `members` to the per-bit sums (the
    /// scalars are the caller's), 16 words at a time over all members, so that the sums of a
    /// block stay in the L1 cache while the members stream past. Different word ranges touch
    /// different sums: threads may fill disjoint ranges of one value concurrently.
    ///
    /// The loop runs in the C kernels (`satr_statistics_add_words`, compiled per CPU level and chosen
    /// at start, docs/PERFORMANCE.md "Runtime dispatch"): for a full word, 64 branch-free lanes (the
    /// bit as an all-ones or all-zero mask selects the weight) that vectorize; for the last,
    /// partial word, the set bits below d one by one. Integer sums: the same on every level.
    static func addWords(_ words: Range<Int>, of members: UnsafeBufferPointer<MemberBits>, into sums: SumPointers) {
        satr_statistics_add_words(
            Int64(words.lowerBound), Int64(words.upperBound), members.baseAddress, Int64(members.count),
            Int64(sums.dimension), sums.weighted, sums.squared, sums.firstHalf)
    }

    /// Every integer sum in one array, for exact reduction across processes (an MPI all-reduce of
    /// Int64 sums): `weightedCounts`, `squaredWeightedCounts`, `firstHalfWeightedCounts` (d each),
    /// then `weightSum`, `squaredWeightSum`, `firstHalfWeightSum`, `memberCount`,
    /// `firstHalfMemberCount`; `3d + 5` values. The element-wise sum of two such arrays is the
    /// `sums` of their `merge`.
    public var sums: [Int64] {
        weightedCounts + squaredWeightedCounts + firstHalfWeightedCounts
            + [weightSum, squaredWeightSum, firstHalfWeightSum, Int64(memberCount), Int64(firstHalfMemberCount)]
    }

    /// Statistics of this shape holding `sums` (the element-wise sum of every part's `sums`),
    /// when they cover the whole population.
    public func reduced(sums: [Int64]) -> BitStatistics? {
        var total = self
        guard total.assign(sums: sums), total.memberCount == populationSize else { return nil }
        return total
    }

    /// Statistics holding `sums` (the layout of `sums`), e.g. the element-wise sum of several
    /// processes' `sums` for disjoint member subsets.
    ///
    /// Returns nil when `sums.count != 3 * dimension + 5` or a member count is out of range.
    public init?(dimension: Int, populationSize: Int, mirrored: Bool = false, sums: [Int64]) {
        guard dimension >= 1, populationSize >= 1, sums.count == 3 * dimension + 5 else { return nil }
        self.init(dimension: dimension, populationSize: populationSize, mirrored: mirrored)
        guard assign(sums: sums) else { return nil }
    }

    /// Replaces every sum with `sums` (the layout of `sums`); false when the member counts are
    /// out of range.
    private mutating func assign(sums: [Int64]) -> Bool {
        let d = dimension
        guard sums.count == 3 * d + 5 else { return false }
        weightedCounts = Array(sums[0 ..< d])
        squaredWeightedCounts = Array(sums[d ..< 2 * d])
        firstHalfWeightedCounts = Array(sums[2 * d ..< 3 * d])
        weightSum = sums[3 * d]
        squaredWeightSum = sums[3 * d + 1]
        firstHalfWeightSum = sums[3 * d + 2]
        guard sums[3 * d + 3] >= 0, sums[3 * d + 3] <= Int64(populationSize),
              sums[3 * d + 4] >= 0, sums[3 * d + 4] <= sums[3 * d + 3] else { return false }
        memberCount = Int(sums[3 * d + 3])
        firstHalfMemberCount = Int(sums[3 * d + 4])
        return true
    }

    /// Adds another worker's statistics (for a disjoint member subset): exact and order-independent.
    public mutating func merge(_ other: BitStatistics) {
        precondition(
            other.dimension == dimension && other.populationSize == populationSize
                && other.firstHalfEnd == firstHalfEnd, "merging statistics of different shapes")
        for i in 0..<dimension {
            weightedCounts[i] &+= other.weightedCounts[i]
            squaredWeightedCounts[i] &+= other.squaredWeightedCounts[i]
            firstHalfWeightedCounts[i] &+= other.firstHalfWeightedCounts[i]
        }
        weightSum += other.weightSum
        squaredWeightSum += other.squaredWeightSum
        firstHalfWeightSum += other.firstHalfWeightSum
        memberCount += other.memberCount
        firstHalfMemberCount += other.firstHalfMemberCount
    }

    /// Fills statistics for `members` (each at most once, any order) of generation `generation`
    /// with `executor`'s threads: each member's bits from `sample` where it kept them, else drawn
    /// again from `distribution` (the sampling rule of `BernoulliDistribution`), 64 members at a
    /// time. The per-bit sums are split by word ranges, one per thread, so no thread shares a sum
    /// and nothing needs merging; the result is the same for any executor and whatever `sample`
    /// kept.
    public mutating func accumulate<Members: Collection<Int>>(
        members: Members, weights: [Int64], distribution: BernoulliDistribution,
        generation: Int, seed: UInt64, mirrored: Bool, sample: PopulationSample<UInt64>? = nil, executor: Executor = .serial
    ) {
        let threads = executor.threads
        precondition(weights.count == populationSize, "one weight per member is required")
        precondition(distribution.dimension == dimension, "the distribution has another dimension")
        let list = Array(members)
        for k in list { addScalars(member: k, weight: weights[k]) }
        let wordCount = distribution.wordsPerMember
        let batchSize = 64
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: Swift.min(batchSize, Swift.max(list.count, 1)) * wordCount)
        defer { scratch.deallocate() }
        let firstHalfEnd = self.firstHalfEnd
        withSums { sums in
            var start = 0
            while start < list.count {
                let batch = list[start ..< Swift.min(start + batchSize, list.count)]
                var entries: [MemberBits] = []
                var missing: [Int] = []
                for k in batch {
                    if sample?.generation == generation, let stored = sample?.kept(member: k), stored.count >= wordCount,
                       let base = stored.baseAddress {
                        entries.append(MemberBits(weight: weights[k], inFirstHalf: k < firstHalfEnd, bits: base))
                    } else {
                        entries.append(MemberBits(
                            weight: weights[k], inFirstHalf: k < firstHalfEnd, bits: scratch + missing.count * wordCount))
                        missing.append(k)
                    }
                }
                let out = SendablePointer(scratch)
                let regenerate = missing
                Parallel.forEach(count: Swift.min(threads, regenerate.count)) { part, parts in
                    let lo = part * regenerate.count / parts, hi = (part + 1) * regenerate.count / parts
                    for slot in lo..<hi {
                        distribution.sample(
                            member: regenerate[slot], generation: generation, seed: seed, mirrored: mirrored,
                            into: UnsafeMutableBufferPointer(start: out.pointer + slot * wordCount, count: wordCount))
                    }
                }
                let blocks = (wordCount + 15) / 16
                let fixedEntries = entries
                Parallel.forEach(count: Swift.min(threads, blocks)) { part, parts in
                    let lo = 16 * (part * blocks / parts), hi = Swift.min(16 * ((part + 1) * blocks / parts), wordCount)
                    fixedEntries.withUnsafeBufferPointer { Self.addWords(lo..<hi, of: $0, into: sums) }
                }
                start += batchSize
            }
        }
    }

    /// Statistics of the whole population, computed on `threads` threads, every member drawn
    /// again; the result does not depend on `threads`.
    public static func compute(
        weights: [Int64], distribution: BernoulliDistribution, generation: Int, seed: UInt64,
        mirrored: Bool, threads: Int = 1
    ) -> BitStatistics {
        var s = BitStatistics(dimension: distribution.dimension, populationSize: weights.count, mirrored: mirrored)
        s.accumulate(
            members: 0..<weights.count, weights: weights, distribution: distribution, generation: generation,
            seed: seed, mirrored: mirrored, executor: Executor(threads: threads))
        return s
    }
}

extension satr_member_bits: @unchecked @retroactive Sendable {}

extension satr_member_bits {
    init(weight: Int64, inFirstHalf: Bool, bits: UnsafePointer<UInt64>) {
        self.init(weight: weight, in_first_half: inFirstHalf ? 1 : 0, bits: bits)
    }
}

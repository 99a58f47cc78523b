import CKernels
import Randomness

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A product of independent Bernoulli distributions over the connection bits of a network.
///
/// Bit `i` is 1 with probability `rho_i`; every `rho_i` is kept in `[bound, 1 - bound]`
/// (`bound` = eps = 1e-3 by default).
///
/// ## Sampling rule (exact)
/// Member `k` of generation `t` (with mirrored pairs, the pair `k / 2`) reads the 32-bit words
/// `W_0, W_1, ...` of `CounterStream(seed: seed, generation: t, member: k', purpose: .connectivity)`;
/// bit `i` uses word `W_i` (block `i / 4`, lane `i % 4`), i.e. the uniform `U_i = W_i * 2^-32`.
///
/// - plain member: `theta_i = (U_i < rho_i)`  <=>  `W_i < ceil(rho_i * 2^32)`
/// - mirrored partner (odd `k`): `theta_i = (U_i >= 1 - rho_i)`  <=>  `W_i >= ceil((1 - rho_i) * 2^32)`
///
/// The thresholds are exact integer forms of the real comparisons (`rho * 2^32` is exact in
/// `Double`), so the realized probability differs from `rho_i` by less than `2^-32`.
public struct BernoulliDistribution: Sendable, Equatable, Codable {
    /// The default probability bound eps: probabilities live in `[eps, 1 - eps]`.
    public static let defaultBound = 1e-3

    /// `rho_i`, the probability that bit `i` is 1.
    public private(set) var probabilities: [Double]
    /// eps: every probability is clipped to `[bound, 1 - bound]`.
    public let bound: Double
    /// Per-bit thresholds `ceil(rho_i * 2^32)` (derived, not encoded), in the lane order of
    /// `PhiloxLanes`: bit `32 g + 4 l + j` is stored at `32 g + 8 j + l` (padding: 0).
    @usableFromInline internal private(set) var thresholds: [UInt32] = []
    /// Per-bit mirrored thresholds `ceil((1 - rho_i) * 2^32)`, same order (padding: 0).
    @usableFromInline internal private(set) var mirroredThresholds: [UInt32] = []

    private enum CodingKeys: String, CodingKey { case probabilities, bound }

    /// The number of bits d.
    public var dimension: Int { probabilities.count }
    /// `ceil(d / 64)`, the words of one member.
    public var wordsPerMember: Int { BitGenome.wordCount(bits: probabilities.count) }

    /// A distribution with every probability equal to `initialProbability` (clipped).
    ///
    /// Preconditions: `dimension >= 1`, `0 <= bound < 0.5`.
    public init(dimension: Int, initialProbability: Double = 0.5, bound: Double = defaultBound) {
        precondition(dimension >= 1, "a Bernoulli distribution needs at least one bit")
        self.init(probabilities: [Double](repeating: initialProbability, count: dimension), bound: bound)
    }

    /// A distribution with the given probabilities, each clipped to `[bound, 1 - bound]`
    /// (a NaN becomes 0.5).
    public init(probabilities: [Double], bound: Double = defaultBound) {
        precondition(bound >= 0 && bound < 0.5, "the probability bound must lie in [0, 0.5)")
        self.bound = bound
        self.probabilities = probabilities
        setProbabilities(probabilities)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let bound = try container.decode(Double.self, forKey: .bound)
        let probabilities = try container.decode(PackedDoubles.self, forKey: .probabilities).wrappedValue
        guard bound >= 0, bound < 0.5 else {
            throw DecodingError.dataCorruptedError(
                forKey: .bound, in: container, debugDescription: "bound \(bound) outside [0, 0.5)")
        }
        guard !probabilities.isEmpty, probabilities.allSatisfy({ $0 >= bound && $0 <= 1 - bound }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .probabilities, in: container,
                debugDescription: "probabilities must be non-empty and lie in [bound, 1 - bound]")
        }
        self.init(probabilities: probabilities, bound: bound)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(bound, forKey: .bound)
        try container.encode(PackedDoubles(wrappedValue: probabilities), forKey: .probabilities)
    }

    /// Replaces the probabilities (clipped to `[bound, 1 - bound]`) and recomputes the thresholds.
    public mutating func setProbabilities(_ newValue: [Double]) {
        let lo = bound, hi = 1 - bound
        probabilities = newValue.map { $0.isNaN ? 0.5 : Swift.min(Swift.max($0, lo), hi) }
        let padded = 32 * ((probabilities.count + 31) / 32)
        thresholds = [UInt32](repeating: 0, count: padded)
        mirroredThresholds = [UInt32](repeating: 0, count: padded)
        for (i, p) in probabilities.enumerated() {
            let group = i >> 5, lane = (i & 31) >> 2, word = i & 3
            let slot = 32 * group + 8 * word + lane
            thresholds[slot] = Self.threshold(for: p)
            mirroredThresholds[slot] = Self.threshold(for: 1 - p)
        }
    }

    /// `ceil(p * 2^32)` clamped to `[0, 2^32 - 1]`: `W < threshold(p)` iff `W * 2^-32 < p`
    /// for every 32-bit word `W` (when `p * 2^32 <= 2^32 - 1`).
    @inlinable
    public static func threshold(for p: Double) -> UInt32 {
        let scaled = (p * 0x1p32).rounded(.up)
        if !(scaled > 0) { return 0 }
        if scaled >= 0x1p32 - 1 { return UInt32.max }
        return UInt32(scaled)
    }

    /// Writes member `member` of generation `generation` into `words` (`wordsPerMember` words),
    /// following the sampling rule above. With `mirrored`, members `2p` and `2p + 1` share the
    /// uniforms of stream `p`: `2p` takes `U < rho`, `2p + 1` takes `U >= 1 - rho`.
    ///
    /// Postconditions: padding bits are zero; the result is a pure function of the arguments and
    /// the probabilities.
    ///
    /// The comparisons run in the C kernels (`satr_bernoulli_sample`, compiled per CPU level and
    /// chosen at start, docs/PERFORMANCE.md "Runtime dispatch"): 16 Philox blocks at a time in
    /// vector lanes, the lane order of `PhiloxLanes`. Integer operations only: the same bits on
    /// every level.
    public func sample(
        member: Int, generation: Int, seed: UInt64, mirrored: Bool = false,
        into words: UnsafeMutableBufferPointer<UInt64>
    ) {
        precondition(words.count >= wordsPerMember, "the output buffer holds fewer than wordsPerMember words")
        let streamMember = mirrored ? member >> 1 : member
        let partner = mirrored && (member & 1 == 1)
        let key = StreamKey(seed: seed, generation: generation, member: streamMember, purpose: .connectivity)
        let d = probabilities.count
        let wordCount = wordsPerMember
        let groups = (d + 31) >> 5
        let table = partner ? mirroredThresholds : thresholds
        table.withUnsafeBufferPointer { t in
            satr_bernoulli_sample(
                key.member, key.generation, key.purpose.rawValue, UInt32(truncatingIfNeeded: key.seed),
                UInt32(truncatingIfNeeded: key.seed >> 32), t.baseAddress, Int64(groups), partner ? 1 : 0,
                words.baseAddress)
        }
        // Clear the padding bits (a mirrored comparison W >= 0 is always true).
        let used = d & 63
        if used != 0 { words[wordCount - 1] &= (UInt64(1) << UInt64(used)) &- 1 }
    }

    /// A reference sampler that compares Float64 uniforms `W_i * 2^-32` with `rho_i` directly
    /// (tests hold `sample` to it).
    public func referenceSample(member: Int, generation: Int, seed: UInt64, mirrored: Bool = false) -> [UInt64] {
        let streamMember = mirrored ? member >> 1 : member
        let partner = mirrored && (member & 1 == 1)
        var stream = CounterStream(seed: seed, generation: generation, member: streamMember, purpose: .connectivity)
        var words = [UInt64](repeating: 0, count: wordsPerMember)
        for i in 0..<dimension {
            let u = Double(stream.nextWord()) * 0x1p-32
            let bit = partner ? (u >= 1 - probabilities[i]) : (u < probabilities[i])
            if bit { words[i >> 6] |= 1 << UInt64(i & 63) }
        }
        return words
    }

    /// Member `member` as a new array of `wordsPerMember` words.
    public func sample(member: Int, generation: Int, seed: UInt64, mirrored: Bool = false) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: wordsPerMember)
        words.withUnsafeMutableBufferPointer {
            sample(member: member, generation: generation, seed: seed, mirrored: mirrored, into: $0)
        }
        return words
    }

    /// Writes the most likely member (the deterministic network): bit `i` is 1 iff `rho_i > 0.5`.
    public func mostLikely(into words: UnsafeMutableBufferPointer<UInt64>) {
        precondition(words.count >= wordsPerMember, "the output buffer holds fewer than wordsPerMember words")
        for w in 0..<wordsPerMember { words[w] = 0 }
        for (i, p) in probabilities.enumerated() where p > 0.5 {
            words[i >> 6] |= 1 << UInt64(i & 63)
        }
    }

    /// The most likely member as a new array: bit `i` is 1 iff `rho_i > 0.5`.
    public var mostLikely: [UInt64] {
        var words = [UInt64](repeating: 0, count: wordsPerMember)
        words.withUnsafeMutableBufferPointer { mostLikely(into: $0) }
        return words
    }

    /// `KL(Bern(p) || Bern(q)) = sum_i p_i ln(p_i / q_i) + (1 - p_i) ln((1 - p_i) / (1 - q_i))`,
    /// in nats, with `0 ln 0 = 0`.
    ///
    /// Summed in `Parallel.orderedSum`'s fixed association (blocks of 8192 bits), so the value
    /// does not depend on the number of threads.
    ///
    /// Preconditions: equal lengths; every `q_i` in (0, 1) (guaranteed for clipped distributions).
    public static func klDivergence(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count, "KL divergence of distributions of different dimension")
        return Parallel.orderedSum(count: p.count) { range in
            var total = 0.0
            for i in range { total += klTerm(p[i], q[i]) }
            return total
        }
    }

    /// One bit's KL(Bern(p) || Bern(q)).
    @inlinable
    public static func klTerm(_ p: Double, _ q: Double) -> Double {
        if p == q { return 0 }
        var t = 0.0
        if p > 0 { t += p * log(p / q) }
        if p < 1 { t += (1 - p) * log((1 - p) / (1 - q)) }
        return t
    }

    /// `KL(self || other)`, the exact Bernoulli KL summed over all bits.
    public func klDivergence(to other: BernoulliDistribution) -> Double {
        Self.klDivergence(probabilities, other.probabilities)
    }

    /// `H = -sum_i rho_i ln rho_i + (1 - rho_i) ln(1 - rho_i)`, in nats (summed like
    /// `klDivergence`).
    public var entropy: Double {
        let rho = probabilities
        return Parallel.orderedSum(count: rho.count) { range in
            var h = 0.0
            for i in range {
                let p = rho[i]
                if p > 0 { h -= p * log(p) }
                if p < 1 { h -= (1 - p) * log(1 - p) }
            }
            return h
        }
    }

    /// `(1/d) sum_i rho_i`: the expected connection density.
    public var meanProbability: Double {
        probabilities.reduce(0, +) / Double(probabilities.count)
    }

    /// `(1/d) sum_i rho_i (1 - rho_i)`: 0.25 at the start; how much exploration is left.
    public var meanVariance: Double {
        probabilities.reduce(0) { $0 + $1 * (1 - $1) } / Double(probabilities.count)
    }
}

import Randomness

/// Sixteen (or eight) Philox4x32-10 blocks at once in SIMD lanes (blocks `first ..< first + 16`
/// of one stream), bit-identical to `Philox4x32.block` lane by lane
/// (`testSIMDPhiloxMatchesScalar`).
///
/// Lane `l` of output `j` is word `j` of block `first + l` (counters wrap modulo 2^32).
///
/// Sampling itself runs in the C kernels now (`satr_bernoulli_sample`, the same lane layout and
/// lane-pair multiply in clang vector types; docs/PERFORMANCE.md, "Runtime dispatch"); this Swift
/// version is the documented lane layout, held to the scalar Philox by the tests.
@usableFromInline
struct PhiloxLanes {
    @usableFromInline let c1: UInt32, c2: UInt32, c3: UInt32
    @usableFromInline let k0: UInt32, k1: UInt32

    @inlinable
    init(key: StreamKey) {
        c1 = key.member
        c2 = key.generation
        c3 = key.purpose.rawValue
        k0 = UInt32(truncatingIfNeeded: key.seed)
        k1 = UInt32(truncatingIfNeeded: key.seed >> 32)
    }

    @inlinable @inline(__always)
    static func mulHiLo(_ a: SIMD16<UInt32>, _ m: UInt32) -> (hi: SIMD16<UInt32>, lo: SIMD16<UInt32>) {
        // Seen as eight 64-bit lanes (little-endian: 32-bit lane 2i is the low half of 64-bit
        // lane i), the even lanes' products are (x & mask) * m and the odd lanes' (x >> 32) * m,
        // both exact 64-bit products (one vpmuludq each); their halves land in place without
        // any lane shuffle.
        let x = unsafeBitCast(a, to: SIMD8<UInt64>.self)
        let low32 = SIMD8<UInt64>(repeating: 0xFFFF_FFFF)
        let multiplier = SIMD8<UInt64>(repeating: UInt64(m))
        let even = (x & low32) &* multiplier
        let odd = (x &>> 32) &* multiplier
        let hi = (even &>> 32) | (odd & ~low32)
        let lo = (even & low32) | (odd &<< 32)
        return (unsafeBitCast(hi, to: SIMD16<UInt32>.self), unsafeBitCast(lo, to: SIMD16<UInt32>.self))
    }

    /// Blocks `first ..< first + 16` (lane `l` of output `j` is word `j` of block `first + l`).
    /// Sixteen lanes are two independent 8-lane multiply chains on AVX-512, which hides the
    /// latency of each round (with the shuffle-free multiply below, sampling a Hopper member ran
    /// 1.4x faster than with 8 lanes: `satr bench search --task hopper --skip-es`).
    @inlinable
    func blocks16(first: UInt32) -> (SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>, SIMD16<UInt32>) {
        var x0 = SIMD16<UInt32>(repeating: first) &+ SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        var x1 = SIMD16<UInt32>(repeating: c1)
        var x2 = SIMD16<UInt32>(repeating: c2)
        var x3 = SIMD16<UInt32>(repeating: c3)
        var key0 = k0, key1 = k1
        for round in 0..<10 {
            if round > 0 {
                key0 &+= 0x9E37_79B9
                key1 &+= 0xBB67_AE85
            }
            let p0 = Self.mulHiLo(x0, 0xD251_1F53)
            let p1 = Self.mulHiLo(x2, 0xCD9E_8D57)
            x0 = p1.hi ^ x1 ^ SIMD16(repeating: key0)
            x1 = p1.lo
            x2 = p0.hi ^ x3 ^ SIMD16(repeating: key1)
            x3 = p0.lo
        }
        return (x0, x1, x2, x3)
    }

    /// Blocks `first ..< first + 8` (the low half of `blocks16`).
    @inlinable
    func blocks(first: UInt32) -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        let r = blocks16(first: first)
        return (r.0.lowHalf, r.1.lowHalf, r.2.lowHalf, r.3.lowHalf)
    }
}

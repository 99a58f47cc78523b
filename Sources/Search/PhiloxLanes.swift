import Randomness

/// Eight Philox4x32-10 blocks at once in SIMD lanes (blocks `first ..< first + 8` of one stream),
/// bit-identical to `Philox4x32.block` lane by lane (`testSIMDPhiloxMatchesScalar`).
///
/// Lane `l` of output `j` is word `j` of block `first + l`.
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
    static func mulHiLo(_ a: SIMD8<UInt32>, _ m: UInt32) -> (hi: SIMD8<UInt32>, lo: SIMD8<UInt32>) {
        let wide = SIMD8<UInt64>(truncatingIfNeeded: a) &* SIMD8<UInt64>(repeating: UInt64(m))
        return (SIMD8<UInt32>(truncatingIfNeeded: wide &>> 32), SIMD8<UInt32>(truncatingIfNeeded: wide))
    }

    @inlinable
    func blocks(first: UInt32) -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        var x0 = SIMD8<UInt32>(repeating: first) &+ SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        var x1 = SIMD8<UInt32>(repeating: c1)
        var x2 = SIMD8<UInt32>(repeating: c2)
        var x3 = SIMD8<UInt32>(repeating: c3)
        var key0 = k0, key1 = k1
        for round in 0..<10 {
            if round > 0 {
                key0 &+= 0x9E37_79B9
                key1 &+= 0xBB67_AE85
            }
            let p0 = Self.mulHiLo(x0, 0xD251_1F53)
            let p1 = Self.mulHiLo(x2, 0xCD9E_8D57)
            x0 = p1.hi ^ x1 ^ SIMD8(repeating: key0)
            x1 = p1.lo
            x2 = p0.hi ^ x3 ^ SIMD8(repeating: key1)
            x3 = p0.lo
        }
        return (x0, x1, x2, x3)
    }
}

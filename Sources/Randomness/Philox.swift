/// The Philox4x32-10 counter-based pseudo-random function.
///
/// Philox maps a 128-bit counter and a 64-bit key to 128 pseudo-random bits with ten rounds of
/// multiply-xor-permute. Any block can be computed directly from its counter, so any thread or
/// process can regenerate any part of any stream without shared state.
///
/// Reference: J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel Random Numbers: As Easy
/// as 1, 2, 3", SC 2011. The known-answer vectors of that paper's Random123 library are pinned in
/// `RandomnessTests`.
public enum Philox4x32 {
    @usableFromInline static let m0: UInt32 = 0xD251_1F53
    @usableFromInline static let m1: UInt32 = 0xCD9E_8D57
    @usableFromInline static let w0: UInt32 = 0x9E37_79B9
    @usableFromInline static let w1: UInt32 = 0xBB67_AE85

    /// The 128-bit output block for `counter` under `key`, after 10 rounds.
    ///
    /// Postconditions: a pure function of its arguments.
    @inlinable
    public static func block(
        counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)
    ) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k.0 &+= w0
                k.1 &+= w1
            }
            let p0 = UInt64(m0) &* UInt64(c.0)
            let p1 = UInt64(m1) &* UInt64(c.2)
            c = (
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0,
                UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1,
                UInt32(truncatingIfNeeded: p0)
            )
        }
        return c
    }
}

/// What a random stream is used for. Streams with different purposes never overlap.
public enum StreamPurpose: UInt32, Sendable, Codable, CaseIterable {
    /// Uniforms that sample a member's connection bits.
    case connectivity = 1
    /// The network's initial membrane potentials.
    case networkInitialState = 2
    /// The environment's reset noise.
    case resetNoise = 3
    /// Episodes of the deterministic network (evaluation).
    case evaluation = 4
    /// Gaussian perturbations of the ES baseline.
    case gaussianPerturbation = 5
    /// Initial parameters of a search distribution.
    case initialization = 6
    /// Free for tests and tools.
    case auxiliary = 7
    /// Connection bits sampled once per run and not searched (a frozen recurrent layer).
    case frozenConnectivity = 8
}

/// The identity of one random stream: (run seed, generation, member, purpose).
///
/// Every random number in a training run is drawn from the stream of such a key, so that results
/// never depend on scheduling, thread count or process count.
public struct StreamKey: Hashable, Sendable, Codable {
    public var seed: UInt64
    public var generation: UInt32
    public var member: UInt32
    public var purpose: StreamPurpose

    public init(seed: UInt64, generation: Int, member: Int, purpose: StreamPurpose) {
        precondition(generation >= 0 && generation <= Int(UInt32.max), "generation out of range")
        precondition(member >= 0 && member <= Int(UInt32.max), "member out of range")
        self.seed = seed
        self.generation = UInt32(generation)
        self.member = UInt32(member)
        self.purpose = purpose
    }
}

/// A counter-based random stream: block `b` of the stream keyed by `key` is
/// `Philox4x32-10(counter: (b, member, generation, purpose), key: seed)`.
///
/// The stream holds 2^32 blocks of four 32-bit words (64 GiB of randomness). Reading it
/// sequentially (`next()`) and reading block `b` directly (`block(_:)`) give the same words, so a
/// long stream can be split among workers.
public struct CounterStream: RandomNumberGenerator, Sendable {
    public let key: StreamKey
    @usableFromInline var blockIndex: UInt32 = 0
    @usableFromInline var buffer: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    @usableFromInline var bufferUsed = 4

    public init(key: StreamKey) {
        self.key = key
    }

    public init(seed: UInt64, generation: Int, member: Int, purpose: StreamPurpose) {
        self.init(key: StreamKey(seed: seed, generation: generation, member: member, purpose: purpose))
    }

    /// Block `index` of this stream: four uniformly distributed 32-bit words.
    @inlinable
    public func block(_ index: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        Philox4x32.block(
            counter: (index, key.member, key.generation, key.purpose.rawValue),
            key: (UInt32(truncatingIfNeeded: key.seed), UInt32(truncatingIfNeeded: key.seed >> 32)))
    }

    /// Repositions the stream so that the next word read is word 0 of block `index`.
    @inlinable
    public mutating func seek(toBlock index: UInt32) {
        blockIndex = index
        bufferUsed = 4
    }

    /// The next 32-bit word of the stream.
    @inlinable
    public mutating func nextWord() -> UInt32 {
        if bufferUsed == 4 {
            buffer = block(blockIndex)
            blockIndex &+= 1
            bufferUsed = 0
        }
        defer { bufferUsed += 1 }
        switch bufferUsed {
        case 0: return buffer.0
        case 1: return buffer.1
        case 2: return buffer.2
        default: return buffer.3
        }
    }

    /// The next 64 bits: two words, the first in the low half.
    @inlinable
    public mutating func next() -> UInt64 {
        let low = UInt64(nextWord())
        return low | (UInt64(nextWord()) << 32)
    }

    /// A uniform Float32 in [0, 1) with 24 random bits: `(word >> 8) * 2^-24`.
    @inlinable
    public mutating func nextUniformFloat() -> Float {
        Float(nextWord() >> 8) * 0x1p-24
    }

    /// A uniform Float64 in [0, 1) with 53 random bits: `(bits >> 11) * 2^-53`.
    @inlinable
    public mutating func nextUniformDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform Float64 in [low, high).
    @inlinable
    public mutating func nextUniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUniformDouble()
    }

    /// A standard normal Float64 by the Box-Muller transform of two uniforms (one value per
    /// pair; the second is discarded so that the stream position never depends on history).
    ///
    /// `sqrt(-2 ln(1 - u1)) * cos(2 pi u2)`, u1, u2 uniform in [0, 1).
    @inlinable
    public mutating func nextNormal() -> Double {
        let u1 = nextUniformDouble()
        let u2 = nextUniformDouble()
        return (-2.0 * _log(1.0 - u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@inlinable internal func _log(_ x: Double) -> Double { log(x) }
@inlinable internal func _cos(_ x: Double) -> Double { cos(x) }

/// Derives a 64-bit seed from a stream key: the first two words of the key's stream.
///
/// Use it to hand a keyed seed to a component that owns its own generator (an environment's
/// `reset(seed:)`).
public func derivedSeed(_ key: StreamKey) -> UInt64 {
    var stream = CounterStream(key: key)
    return stream.next()
}

/// Search distributions, fitness shaping and the SATR / EC / Gaussian-ES update rules
/// (see `docs/SEARCH.md`).
///
/// The module is independent of the network: a bit genome is `BitGenome.wordCount(bits:)` words
/// of `UInt64`, parameter `i` in bit `i & 63` of word `i >> 6`, padding bits zero; a real genome is
/// a `[Float]` of the dense network's parameter count.
public enum Search {}

/// The bit-packed genome layout shared with the `Spiking` module.
///
/// Parameter `i` of a member is bit `i & 63` of word `i >> 6`; the padding bits of the last word
/// (when `bits % 64 != 0`) are zero.
public enum BitGenome {
    /// `ceil(bits / 64)`: the number of `UInt64` words of a member with `bits` parameters.
    @inlinable
    public static func wordCount(bits: Int) -> Int { (bits + 63) >> 6 }

    /// Bit `index` of a packed genome.
    @inlinable
    public static func bit(_ index: Int, of words: UnsafeBufferPointer<UInt64>) -> Bool {
        (words[index >> 6] >> UInt64(index & 63)) & 1 == 1
    }

    /// Unpacks `bits` parameters into an array of 0/1 (tests and tools; never on the hot path).
    public static func unpack(_ words: [UInt64], bits: Int) -> [UInt8] {
        (0..<bits).map { UInt8(truncatingIfNeeded: (words[$0 >> 6] >> UInt64($0 & 63)) & 1) }
    }
}

import Randomness
import Spiking

/// How the genome a search strategy samples becomes the genome a network loads, when part of the
/// network is not searched.
///
/// The searched genome is cut into `pieces`; piece i (elements `searched` of the searched genome)
/// goes to elements `full ..< full + searched.count` of the network's genome, and every other
/// element keeps its value in `template`. Expansion is a copy, so it changes nothing the network
/// computes: a network loaded from `expand(g)` is the network of that full genome.
public struct GenomeExpansion<Element: BitwiseCopyable & Sendable>: Sendable {
    /// One contiguous run of the searched genome and where it lands in the full one.
    public struct Piece: Sendable, Equatable {
        public var searched: Range<Int>
        public var full: Int
    }

    /// The full genome with the unsearched elements in place (the searched ones are overwritten).
    public let template: [Element]
    public let pieces: [Piece]

    /// The length of the searched genome.
    public var searchedCount: Int { pieces.reduce(0) { $0 + $1.searched.count } }

    /// Writes the searched pieces of `searched` into `full`, which must already hold the template
    /// (a copy of `template` whose searched pieces may differ): the unsearched elements are
    /// never written, so a buffer made from the template once serves every member.
    public func place(_ searched: UnsafeBufferPointer<Element>, into full: UnsafeMutableBufferPointer<Element>) {
        precondition(searched.count >= searchedCount && full.count >= template.count, "genome buffers too short for the expansion")
        for piece in pieces {
            for (k, i) in piece.searched.enumerated() { full[piece.full + k] = searched[i] }
        }
    }

    /// The full genome for `searched`.
    public func expand(_ searched: [Element]) -> [Element] {
        var full = template
        searched.withUnsafeBufferPointer { s in full.withUnsafeMutableBufferPointer { place(s, into: $0) } }
        return full
    }
}

extension GenomeExpansion where Element == UInt64 {
    /// A recurrent layer sampled once and frozen (`frozen_recurrent`): the search covers K_in and
    /// K_out only, d' = 2DN + NA bits, as the searched genome `K_in ++ K_out` (both blocks are
    /// word-aligned, `NetworkShape`). K_h, N*N bits, is drawn once per run with every bit 1 with
    /// probability 1/2: word w of K_h is the w-th 64-bit draw (`next()`) of the stream
    /// `(seed, 0, 0, .frozenConnectivity)`. The network's genome is `K_in ++ K_h ++ K_out`, the
    /// ordinary layout, so policy files and every tool that reads them see an ordinary network.
    public static func frozenRecurrent(shape: NetworkShape, seed: UInt64) -> GenomeExpansion {
        let inputWords = shape.recurrentBlockOffset / 64
        let recurrentWords = shape.neurons * shape.neurons / 64
        let readoutWords = shape.wordsPerMember - inputWords - recurrentWords
        var template = [UInt64](repeating: 0, count: shape.wordsPerMember)
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .frozenConnectivity)
        for w in 0..<recurrentWords { template[inputWords + w] = stream.next() }
        return GenomeExpansion(template: template, pieces: [
            Piece(searched: 0..<inputWords, full: 0),
            Piece(searched: inputWords..<(inputWords + readoutWords), full: inputWords + recurrentWords),
        ])
    }
}

extension NetworkShape {
    /// The sizes, in bits, of the blocks a bitset search covers: K_in, K_h and K_out, or K_in and
    /// K_out when the recurrent layer is frozen. Their sum is the search dimension.
    public func searchedBlocks(frozenRecurrent: Bool) -> [Int] {
        let input = recurrentBlockOffset, recurrent = neurons * neurons, readout = neurons * actionSize
        return frozenRecurrent ? [input, readout] : [input, recurrent, readout]
    }

    /// The search dimension: the sum of `searchedBlocks(frozenRecurrent:)` (`parameterCount`
    /// when nothing is frozen).
    public func searchedBitCount(frozenRecurrent: Bool) -> Int {
        searchedBlocks(frozenRecurrent: frozenRecurrent).reduce(0, +)
    }
}

/// The sizes of one bit-connectivity recurrent spiking network and the layout of its
/// `parameterCount` connection bits (docs/NETWORK.md, "Shapes").
///
/// With D = `observationSize`, A = `actionSize`, N = `neurons`:
///
/// - `parameterCount` d = 2DN + N*N + NA connection bits;
/// - the bits of one member are packed little-endian in `wordsPerMember` = d / 64 `UInt64` words:
///   parameter index p is bit `p & 63` of word `p >> 6`;
/// - the blocks follow one another in this order (every block and every row of N bits starts on a
///   word boundary because N is a multiple of 64):
///   1. **K_in** (input), 2D rows of N bits: row r < D is the input `+x_r`, row r >= D is `-x_(r-D)`;
///      bit (r, post j) is p = r*N + j (`inputBit(row:post:)`).
///   2. **K_h** (recurrent), for each post neuron j, N bits over the pre neuron i:
///      p = 2DN + j*N + i (`recurrentBit(pre:post:)`). Column j of `K_h[pre, post]` is therefore
///      N/64 contiguous words, and the recurrent count of neuron j is AND + popcount of those words
///      with the spike words.
///   3. **K_out** (readout), for each action a, N bits over the neuron j: p = 2DN + N*N + a*N + j
///      (`readoutBit(neuron:action:)`).
///
/// This mapping is the one contract between the search distributions (which only know "d bits,
/// packed little-endian in words") and the network kernels; it lives here and only here.
public struct NetworkShape: Sendable, Codable, Hashable, CustomStringConvertible {
    /// D: the length of the (normalized) observation.
    public let observationSize: Int
    /// A: the length of the action (network output).
    public let actionSize: Int
    /// N: the number of recurrent neurons, a positive multiple of 64.
    public let neurons: Int

    /// Errors of `NetworkShape.init`.
    public enum ShapeError: Error, Equatable, CustomStringConvertible {
        case observationSizeNotPositive(Int)
        case actionSizeNotPositive(Int)
        case neuronsNotPositiveMultipleOf64(Int)

        public var description: String {
            switch self {
            case .observationSizeNotPositive(let d):
                return "observation size must be positive (got \(d))"
            case .actionSizeNotPositive(let a):
                return "action size must be positive (got \(a))"
            case .neuronsNotPositiveMultipleOf64(let n):
                return "the number of neurons must be a positive multiple of 64 (got \(n)); try \(max(64, (n + 63) / 64 * 64))"
            }
        }
    }

    /// A network shape.
    ///
    /// - Throws: `ShapeError` unless D > 0, A > 0 and N is a positive multiple of 64.
    public init(observationSize: Int, actionSize: Int, neurons: Int = 256) throws {
        guard observationSize > 0 else { throw ShapeError.observationSizeNotPositive(observationSize) }
        guard actionSize > 0 else { throw ShapeError.actionSizeNotPositive(actionSize) }
        guard neurons > 0, neurons % 64 == 0 else { throw ShapeError.neuronsNotPositiveMultipleOf64(neurons) }
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.neurons = neurons
    }

    private enum CodingKeys: String, CodingKey { case observationSize, actionSize, neurons }

    /// Decodes and validates a shape (the same checks as `init(observationSize:actionSize:neurons:)`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            observationSize: c.decode(Int.self, forKey: .observationSize),
            actionSize: c.decode(Int.self, forKey: .actionSize),
            neurons: c.decode(Int.self, forKey: .neurons))
    }

    public var description: String { "NetworkShape(D: \(observationSize), A: \(actionSize), N: \(neurons))" }

    /// N_E = round(N * 0.5): neurons `0 ..< N_E` are excitatory, `N_E ..< N` inhibitory.
    @inlinable public var excitatoryNeurons: Int { (neurons + 1) / 2 }

    /// d = 2DN + N*N + NA, the number of searchable connection bits.
    @inlinable public var parameterCount: Int {
        2 * observationSize * neurons + neurons * neurons + neurons * actionSize
    }

    /// d / 64: the `UInt64` words that hold one member's connectivity (exact, since N % 64 == 0).
    @inlinable public var wordsPerMember: Int { parameterCount / 64 }

    /// N / 64: the words of one row of N bits (one input row, one K_h column, one readout row).
    @inlinable public var wordsPerRow: Int { neurons / 64 }

    /// The bit index of the first K_in bit: 0.
    @inlinable public var inputBlockOffset: Int { 0 }
    /// The bit index of the first K_h bit: 2DN.
    @inlinable public var recurrentBlockOffset: Int { 2 * observationSize * neurons }
    /// The bit index of the first K_out bit: 2DN + N*N.
    @inlinable public var readoutBlockOffset: Int { 2 * observationSize * neurons + neurons * neurons }

    /// The bit index of K_in[row, post]: `row * N + post`.
    /// `row` in 0 ..< 2D (row < D feeds `+x_row`, row >= D feeds `-x_(row-D)`), `post` in 0 ..< N.
    @inlinable public func inputBit(row: Int, post: Int) -> Int {
        assert(row >= 0 && row < 2 * observationSize && post >= 0 && post < neurons)
        return row * neurons + post
    }

    /// The bit index of K_h[pre, post]: `2DN + post * N + pre` (columns packed over `pre`).
    @inlinable public func recurrentBit(pre: Int, post: Int) -> Int {
        assert(pre >= 0 && pre < neurons && post >= 0 && post < neurons)
        return recurrentBlockOffset + post * neurons + pre
    }

    /// The bit index of K_out[neuron, action]: `2DN + N*N + action * N + neuron`.
    @inlinable public func readoutBit(neuron: Int, action: Int) -> Int {
        assert(neuron >= 0 && neuron < neurons && action >= 0 && action < actionSize)
        return readoutBlockOffset + action * neurons + neuron
    }

    /// Packs connectivity given as three predicates into `wordsPerMember` words (for tests, tools
    /// and hand-made networks; the search samples straight into the words).
    public func packConnectivity(
        input: (_ row: Int, _ post: Int) -> Bool,
        recurrent: (_ pre: Int, _ post: Int) -> Bool,
        readout: (_ neuron: Int, _ action: Int) -> Bool
    ) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: wordsPerMember)
        func set(_ p: Int) { words[p >> 6] |= 1 << UInt64(p & 63) }
        for row in 0..<(2 * observationSize) {
            for post in 0..<neurons where input(row, post) { set(inputBit(row: row, post: post)) }
        }
        for post in 0..<neurons {
            for pre in 0..<neurons where recurrent(pre, post) { set(recurrentBit(pre: pre, post: post)) }
        }
        for action in 0..<actionSize {
            for neuron in 0..<neurons where readout(neuron, action) { set(readoutBit(neuron: neuron, action: action)) }
        }
        return words
    }

    /// Whether bit `index` is set in packed words (little-endian: bit `index & 63` of word `index >> 6`).
    @inlinable public static func bit(_ index: Int, in words: UnsafeBufferPointer<UInt64>) -> Bool {
        (words[index >> 6] >> UInt64(index & 63)) & 1 == 1
    }

    /// The deterministic ("evaluation") network of a Bernoulli distribution: bit p is set exactly
    /// when `probabilities[p] > 0.5` (docs/NETWORK.md, "The deterministic (evaluation) network").
    ///
    /// - Precondition: `probabilities.count == parameterCount`.
    /// - Postconditions: the result has `wordsPerMember` words.
    public func deterministicConnectivity<P: BinaryFloatingPoint>(probabilities: [P]) -> [UInt64] {
        precondition(probabilities.count == parameterCount,
                     "expected \(parameterCount) probabilities, got \(probabilities.count)")
        var words = [UInt64](repeating: 0, count: wordsPerMember)
        for p in 0..<parameterCount where probabilities[p] > 0.5 {
            words[p >> 6] |= 1 << UInt64(p & 63)
        }
        return words
    }

    /// The initial membrane potentials of one member: `v_n = V_r + (V_th - V_r) * u_n`, n = 0 ..< N
    /// in order, where `u_n` is the n-th `nextUniformFloat()` of
    /// `CounterStream(seed:generation:member:purpose: .networkInitialState)`; so
    /// `v_n ~ Uniform[V_r, V_th)`. (The other state variables start at zero.)
    public func initialMembrane(seed: UInt64, generation: Int, member: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: neurons) { buffer, count in
            NetworkConstants.writeInitialMembrane(
                into: UnsafeMutableBufferPointer(rebasing: buffer[0..<neurons]),
                seed: seed, generation: generation, member: member)
            count = neurons
        }
    }
}

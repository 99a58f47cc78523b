/// Operation counts of a bitset network run, accumulated from the recorded spikes of every
/// substep (`BitsetNetwork.step(observation:output:substepSpikes:)`), not from the shape alone.
///
/// With D, N, A, T = 33 substeps per environment step, K_in, K_h, K_out the connection bits
/// (docs/POLICY_FORMAT.md), and `s_t` the set of neurons that fired in substep t:
///
/// - **recurrent accumulates** `sum_t sum_(i in s_(t-1)) fanout(i)`, `fanout(i) = #{j : K_h[i, j] = 1}`:
///   every spike, when it is delivered in the next substep, adds (excitatory) or subtracts
///   (inhibitory) one unit on each connection it drives. The spikes of an episode's last substep
///   are never delivered and are not counted; `s_(-1)` of an episode's first substep is empty.
/// - **input accumulates**, per environment step, `#{(d, j) : K_in[d, j] != K_in[D+d, j]}`: the
///   terms `+x_d` or `-x_d` of `i_in[j] = R_in * sum_d x_d (K_in[d, j] - K_in[D+d, j])` that are not
///   zero by construction (a pair of equal bits cancels and needs no operation).
/// - **readout accumulates**, per environment step, `sum_a #{j : K_out[j, a] = 1}`: the additions
///   of `y[a] = R_out * sum_j r[j] K_out[j, a]` that the implementation performs.
/// - **scaling multiplies**, per environment step, `N + A`: `R_in * sum` once per neuron and
///   `R_out * sum` once per action.
/// - **neuron-update multiply-accumulates**, per substep, `5 N`: `i_syn = a_syn i_syn + R_h c` (2),
///   `v = a_m v + (1 - a_m)(i_syn + i_in)` (2, the inner addition folded in), `r = a_out r + inc` (1).
public struct SynapticOperationCount: Sendable, Codable, Equatable {
    /// Environment steps counted.
    public var envSteps = 0
    /// Substeps counted (T per environment step).
    public var substeps = 0
    /// Spikes emitted (all neurons, all substeps).
    public var spikes = 0
    /// Spikes of excitatory neurons (`0 ..< N_E`).
    public var excitatorySpikes = 0
    /// Recurrent accumulates: delivered spikes times the 1-bits of the K_h rows they drive.
    public var recurrentAccumulates = 0
    /// Input accumulates: nonzero `K_in[d, j] - K_in[D+d, j]` terms, once per environment step.
    public var inputAccumulates = 0
    /// Readout accumulates: 1-bits of K_out, once per environment step.
    public var readoutAccumulates = 0
    /// Scaling multiplies: N + A per environment step.
    public var scalingMultiplies = 0
    /// Neuron-update multiply-accumulates: 5 N per substep.
    public var neuronUpdateMultiplyAccumulates = 0

    public init() {}

    /// All accumulate (addition-only) synaptic operations: recurrent + input + readout.
    public var synapticAccumulates: Int { recurrentAccumulates + inputAccumulates + readoutAccumulates }

    /// Adds another count (episodes of other workers); integer sums, so the order does not matter.
    public static func + (a: SynapticOperationCount, b: SynapticOperationCount) -> SynapticOperationCount {
        var c = a
        c.envSteps += b.envSteps
        c.substeps += b.substeps
        c.spikes += b.spikes
        c.excitatorySpikes += b.excitatorySpikes
        c.recurrentAccumulates += b.recurrentAccumulates
        c.inputAccumulates += b.inputAccumulates
        c.readoutAccumulates += b.readoutAccumulates
        c.scalingMultiplies += b.scalingMultiplies
        c.neuronUpdateMultiplyAccumulates += b.neuronUpdateMultiplyAccumulates
        return c
    }
}

/// Accumulates `SynapticOperationCount` over the environment steps of episodes of one bitset
/// network, from the spike words that `BitsetNetwork.step(observation:output:substepSpikes:)`
/// records (see `SynapticOperationCount` for the definitions).
public struct SynapticOperationCounter: Sendable {
    public let shape: NetworkShape
    /// fanout(i) = #{j : K_h[i, j] = 1}, for each pre neuron i.
    public let recurrentFanout: [Int]
    /// #{(d, j) : K_in[d, j] != K_in[D+d, j]}.
    public let inputTerms: Int
    /// #{(j, a) : K_out[j, a] = 1}.
    public let readoutTerms: Int
    /// The totals so far.
    public private(set) var count = SynapticOperationCount()
    /// The spike words of the last substep counted (delivered in the next substep).
    private var previous: [UInt64]

    /// A counter for the network with `connectivity` (`shape.wordsPerMember` words, `NetworkShape` layout).
    public init(shape: NetworkShape, connectivity: [UInt64]) {
        precondition(connectivity.count == shape.wordsPerMember,
                     "expected \(shape.wordsPerMember) connectivity words, got \(connectivity.count)")
        self.shape = shape
        let n = shape.neurons, d = shape.observationSize, w = shape.wordsPerRow
        var fanout = [Int](repeating: 0, count: n)
        var input = 0, readout = 0
        connectivity.withUnsafeBufferPointer { k in
            // K_h column j (post) is W words over the pre neuron i.
            for post in 0..<n {
                let column = shape.recurrentBlockOffset / 64 + post * w
                for word in 0..<w {
                    var bits = k[column + word]
                    while bits != 0 {
                        fanout[word * 64 + bits.trailingZeroBitCount] += 1
                        bits &= bits - 1
                    }
                }
            }
            for row in 0..<d {
                for word in 0..<w {
                    input += (k[row * w + word] ^ k[(d + row) * w + word]).nonzeroBitCount
                }
            }
            for word in (shape.readoutBlockOffset / 64)..<shape.wordsPerMember {
                readout += k[word].nonzeroBitCount
            }
        }
        recurrentFanout = fanout
        inputTerms = input
        readoutTerms = readout
        previous = [UInt64](repeating: 0, count: w)
    }

    /// Starts an episode: no spikes are pending delivery (the network's reset sets s = 0).
    public mutating func startEpisode() {
        for w in previous.indices { previous[w] = 0 }
    }

    /// Counts one environment step from its T x N/64 recorded spike words.
    public mutating func record(substepSpikes: UnsafeBufferPointer<UInt64>) {
        let w = shape.wordsPerRow, n = shape.neurons, nE = shape.excitatoryNeurons
        let substeps = NetworkConstants.substepsPerEnvStep
        precondition(substepSpikes.count == substeps * w, "expected \(substeps * w) spike words, got \(substepSpikes.count)")
        var recurrent = 0, spikes = 0, excitatory = 0
        for t in 0..<substeps {
            // Delivery in substep t of the spikes of substep t - 1 (the previous step's last one for t = 0).
            for word in 0..<w {
                var bits = t == 0 ? previous[word] : substepSpikes[(t - 1) * w + word]
                while bits != 0 {
                    recurrent += recurrentFanout[word * 64 + bits.trailingZeroBitCount]
                    bits &= bits - 1
                }
            }
            for word in 0..<w {
                let bits = substepSpikes[t * w + word]
                spikes += bits.nonzeroBitCount
                let first = word * 64
                if first + 64 <= nE {
                    excitatory += bits.nonzeroBitCount
                } else if first < nE {
                    excitatory += (bits & ((1 << UInt64(nE - first)) - 1)).nonzeroBitCount
                }
            }
        }
        for word in 0..<w { previous[word] = substepSpikes[(substeps - 1) * w + word] }
        count.envSteps += 1
        count.substeps += substeps
        count.spikes += spikes
        count.excitatorySpikes += excitatory
        count.recurrentAccumulates += recurrent
        count.inputAccumulates += inputTerms
        count.readoutAccumulates += readoutTerms
        count.scalingMultiplies += n + shape.actionSize
        count.neuronUpdateMultiplyAccumulates += 5 * n * substeps
    }
}

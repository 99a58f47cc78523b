import CKernels

/// The bitset kernel shared by `BitsetNetwork` (one member) and `BitsetPopulation` (many).
///
/// Kernel layout of one member (`wordsPerMember` words, the same bits as the `NetworkShape` layout
/// with the K_h block re-ordered word-major):
/// - K_in: unchanged, 2D rows of W = N/64 words;
/// - K_h: word w of column j is at `2DN/64 + w * N + j` (the packed layout has it at
///   `2DN/64 + j * W + w`), so that the popcount loop over post neurons j reads consecutive words
///   and vectorizes (one broadcast spike word, AND, popcount per lane);
/// - K_out: unchanged, A rows of W words.
///
/// State of one member: v, i_syn, r, i_in (N floats each), the spike words S (W words; bit i set
/// when neuron i fired in the last substep; the sign is +1 for i < N_E and -1 otherwise).
@usableFromInline
struct BitsetKernel: Sendable {
    let shape: NetworkShape
    let n: Int
    let d: Int
    let a: Int
    let w: Int
    let nE: Int
    let recurrentWordOffset: Int
    let readoutWordOffset: Int
    let rIn: Float
    let rH: Float
    let rOut: Float
    /// Bit i of word k set when neuron 64k + i is excitatory.
    let excitatoryMask: [UInt64]

    init(shape: NetworkShape) {
        self.shape = shape
        n = shape.neurons
        d = shape.observationSize
        a = shape.actionSize
        w = shape.wordsPerRow
        nE = shape.excitatoryNeurons
        recurrentWordOffset = shape.recurrentBlockOffset / 64
        readoutWordOffset = shape.readoutBlockOffset / 64
        rIn = NetworkConstants.inputScale(observationSize: d)
        rH = NetworkConstants.recurrentScale(neurons: n)
        rOut = NetworkConstants.readoutScale(neurons: n)
        var mask = [UInt64](repeating: 0, count: shape.wordsPerRow)
        for i in 0..<shape.excitatoryNeurons { mask[i >> 6] |= 1 << UInt64(i & 63) }
        excitatoryMask = mask
    }

    /// Copies one member's packed connectivity into the kernel layout, and writes its input
    /// connectivity as D x N signs `K+[d, j] - K-[d, j]` in {-1, 0, +1} (row-major, one byte each) into
    /// `inputSigns`, so that the input current is a plain multiply-add per neuron: the kernel converts
    /// a sign to Float32 exactly and computes `i + x_d * Float(sign)`, the reference's expression.
    /// One byte per connection keeps a member's input at D x N bytes (89 KB at Humanoid size, against
    /// 356 KB as Float32), which the input current reads once per env step.
    func relayout(packed: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>, inputSigns: UnsafeMutablePointer<Int8>) {
        let words = shape.wordsPerMember
        out.update(from: packed, count: words)
        for row in 0..<d {
            let plus = packed + row * w, minus = packed + (d + row) * w
            let signs = inputSigns + row * n
            for j in 0..<n {
                let p = (plus[j >> 6] &>> UInt64(j & 63)) & 1, m = (minus[j >> 6] &>> UInt64(j & 63)) & 1
                signs[j] = Int8(truncatingIfNeeded: Int(p) - Int(m))
            }
        }
        let src = packed + recurrentWordOffset
        let dst = out + recurrentWordOffset
        for j in 0..<n {
            for k in 0..<w {
                dst[k * n + j] = src[j * w + k]
            }
        }
    }

    /// Pointers to one member's state.
    struct State {
        var membrane: UnsafeMutablePointer<Float>
        var synapticCurrent: UnsafeMutablePointer<Float>
        var rateTrace: UnsafeMutablePointer<Float>
        var inputCurrent: UnsafeMutablePointer<Float>
        var spikeWords: UnsafeMutablePointer<UInt64>
    }

    /// Scratch space for one env step (shared by the members one thread runs).
    struct Scratch {
        var counts: UnsafeMutablePointer<Int32>
        /// (1 - alpha_out) * sign_j / dt, the rate-trace increment of a spike of neuron j.
        var rateIncrement: UnsafeMutablePointer<Float>
        /// Popcount groups of the current substep (at most 2W groups of at most 4 words).
        static let maxGroupSize = 4
        var groupWords: UnsafeMutablePointer<Int64>
        var groupMasks: UnsafeMutablePointer<UInt64>
        var groupSizes: UnsafeMutablePointer<Int64>
        var groupUnions: UnsafeMutablePointer<UInt64>
        /// 1 where neuron j fired in the current substep, else 0 (N bytes).
        var fired: UnsafeMutablePointer<UInt8>
        /// The readout's partial sums (`NetworkConstants.readoutLanes` floats).
        var partialSums: UnsafeMutablePointer<Float>
        let n: Int
        let w: Int

        init(n: Int, w: Int, excitatory nE: Int) {
            self.n = n
            self.w = w
            counts = .allocate(capacity: n)
            counts.initialize(repeating: 0, count: n)
            groupWords = .allocate(capacity: 2 * w * Self.maxGroupSize)
            groupMasks = .allocate(capacity: 2 * w * Self.maxGroupSize)
            groupSizes = .allocate(capacity: 2 * w)
            groupUnions = .allocate(capacity: 2 * w)
            rateIncrement = .allocate(capacity: n)
            fired = .allocate(capacity: n)
            fired.initialize(repeating: 0, count: n)
            partialSums = .allocate(capacity: NetworkConstants.readoutLanes)
            partialSums.initialize(repeating: 0, count: NetworkConstants.readoutLanes)
            let dt = NetworkConstants.dt, oneMinusAlphaOut = 1 - NetworkConstants.alphaOut
            for j in 0..<n { rateIncrement[j] = oneMinusAlphaOut * (j < nE ? 1 : -1) / dt }
        }

        func deallocate() {
            counts.deallocate()
            rateIncrement.deallocate()
            groupWords.deallocate()
            groupMasks.deallocate()
            groupSizes.deallocate()
            groupUnions.deallocate()
            fired.deallocate()
            partialSums.deallocate()
        }
    }

    /// The C view of one member's state.
    static func cState(_ state: State) -> satr_network_state {
        satr_network_state(
            membrane: state.membrane, synaptic_current: state.synapticCurrent, rate_trace: state.rateTrace,
            input_current: state.inputCurrent, spike_words: state.spikeWords)
    }

    /// One environment step of one member; returns the number of spikes in it. With `record`, the
    /// spike words after each of the T substeps go to `record[t * W ..< (t + 1) * W]`.
    ///
    /// The step runs in the C kernels (`Sources/CKernels`, the level `KernelDispatch` reports):
    /// the input current as a multiply-add over d = 0 ..< D in order, then T substeps (the
    /// recurrent counts `popcount(S_E & C_E[j]) - popcount(S_I & C_I[j])` with spike words of
    /// disjoint bits sharing one popcount, then the neuron update with the same IEEE operations in
    /// the same order as the reference, nothing fused, and subnormals flushed), then the readout
    /// in the lane-blocked order of `NetworkConstants.readoutLanes`. Bit-identical to
    /// `ReferenceNetwork` on every level.
    func envStep(
        connectivity k: UnsafePointer<UInt64>, inputSigns: UnsafePointer<Int8>, state: State, scratch: Scratch,
        observation x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
        record: UnsafeMutablePointer<UInt64>? = nil
    ) -> Int {
        excitatoryMask.withUnsafeBufferPointer { mask in
            var params = satr_network_params(
                neurons: Int64(n), observation_size: Int64(d), action_size: Int64(a), words_per_row: Int64(w),
                recurrent_word_offset: Int64(recurrentWordOffset), readout_word_offset: Int64(readoutWordOffset),
                substeps: Int64(NetworkConstants.substepsPerEnvStep), excitatory_mask: mask.baseAddress,
                rate_increment: scratch.rateIncrement, input_scale: rIn, recurrent_scale: rH, readout_scale: rOut,
                alpha_synapse: NetworkConstants.alphaSynapse, alpha_membrane: NetworkConstants.alphaMembrane,
                one_minus_alpha_membrane: 1 - NetworkConstants.alphaMembrane, alpha_out: NetworkConstants.alphaOut,
                threshold_voltage: NetworkConstants.thresholdVoltage, reset_voltage: NetworkConstants.resetVoltage,
                zero_increment: (1 - NetworkConstants.alphaOut) * 0 / NetworkConstants.dt)
            let cScratch = satr_network_scratch(
                counts: scratch.counts, group_words: scratch.groupWords, group_masks: scratch.groupMasks,
                group_sizes: scratch.groupSizes, group_unions: scratch.groupUnions, fired: scratch.fired,
                partial_sums: scratch.partialSums)
            return Int(satr_network_env_step(&params, k, inputSigns, Self.cState(state), cScratch, x, y, record))
        }
    }
}

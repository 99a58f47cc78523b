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
    /// connectivity as D x N Float32 signs `K+[d, j] - K-[d, j]` in {-1, 0, +1} (row-major) into
    /// `inputSigns`, so that the input current is a plain multiply-add per neuron.
    func relayout(packed: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>, inputSigns: UnsafeMutablePointer<Float>) {
        let words = shape.wordsPerMember
        out.update(from: packed, count: words)
        for row in 0..<d {
            let plus = packed + row * w, minus = packed + (d + row) * w
            let signs = inputSigns + row * n
            for j in 0..<n {
                let p = (plus[j >> 6] &>> UInt64(j & 63)) & 1, m = (minus[j >> 6] &>> UInt64(j & 63)) & 1
                signs[j] = Float(Int(p) - Int(m))
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
        var groupWords: UnsafeMutablePointer<Int>
        var groupMasks: UnsafeMutablePointer<UInt64>
        var groupSizes: UnsafeMutablePointer<Int>
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

    /// One environment step of one member; returns the number of spikes in it.
    func envStep(
        connectivity k: UnsafePointer<UInt64>, inputSigns: UnsafePointer<Float>, state: State, scratch: Scratch,
        observation x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>
    ) -> Int {
        computeInputCurrent(inputSigns: inputSigns, inputCurrent: state.inputCurrent, observation: x)
        var spikeCount = 0
        for _ in 0..<NetworkConstants.substepsPerEnvStep {
            spikeCount += substep(recurrent: k + recurrentWordOffset, state: state, scratch: scratch)
        }
        readout(connectivity: k, rateTrace: state.rateTrace, partialSums: scratch.partialSums, output: y)
        return spikeCount
    }

    /// i_in[j] = R_in * sum_d x_d * (K+[d, j] - K-[d, j]), summed over d = 0 ..< D in order, with
    /// the signs as Float32 {-1, 0, +1} (`relayout`): x_d * 1 and x_d * -1 are exact and x_d * 0
    /// adds a zero that leaves the sum unchanged, so the result is the reference's bit for bit.
    @inline(__always)
    func computeInputCurrent(inputSigns: UnsafePointer<Float>, inputCurrent iIn: UnsafeMutablePointer<Float>, observation x: UnsafePointer<Float>) {
        let n = self.n, d = self.d
        iIn.update(repeating: 0, count: n)
        for row in 0..<d {
            let xd = x[row]
            let signs = inputSigns + row * n
            for j in 0..<n { iIn[j] = iIn[j] + xd * signs[j] }
        }
        let rIn = self.rIn
        for j in 0..<n { iIn[j] = NetworkConstants.flushSubnormal(rIn * iIn[j]) }
    }

    /// counts[j] += (or -= when `add` is false) popcount(OR over the group's terms t of
    /// (masks[t] & C_j[words[t]])), for a group of 1 to 4 terms with disjoint masks.
    @inline(__always)
    func countPass(
        add: Bool, size: Int, words: UnsafePointer<Int>, masks: UnsafePointer<UInt64>,
        recurrent kh: UnsafePointer<UInt64>, counts: UnsafeMutablePointer<Int32>
    ) {
        let n = self.n
        let m0 = masks[0], c0 = kh + words[0] * n
        @inline(__always) func apply(_ body: (Int) -> UInt64) {
            if add {
                for j in 0..<n { counts[j] &+= Int32(truncatingIfNeeded: body(j).nonzeroBitCount) }
            } else {
                for j in 0..<n { counts[j] &-= Int32(truncatingIfNeeded: body(j).nonzeroBitCount) }
            }
        }
        switch size {
        case 1:
            apply { j in m0 & c0[j] }
        case 2:
            let m1 = masks[1], c1 = kh + words[1] * n
            apply { j in (m0 & c0[j]) | (m1 & c1[j]) }
        case 3:
            let m1 = masks[1], c1 = kh + words[1] * n
            let m2 = masks[2], c2 = kh + words[2] * n
            apply { j in (m0 & c0[j]) | (m1 & c1[j]) | (m2 & c2[j]) }
        default:
            let m1 = masks[1], c1 = kh + words[1] * n
            let m2 = masks[2], c2 = kh + words[2] * n
            let m3 = masks[3], c3 = kh + words[3] * n
            apply { j in (m0 & c0[j]) | (m1 & c1[j]) | (m2 & c2[j]) | (m3 & c3[j]) }
        }
    }

    /// One substep: the recurrent counts by AND + popcount, then the neuron update.
    @inline(__always)
    func substep(recurrent kh: UnsafePointer<UInt64>, state: State, scratch: Scratch) -> Int {
        let n = self.n, w = self.w
        let counts = scratch.counts
        let s = state.spikeWords
        let v = state.membrane, iSyn = state.synapticCurrent, r = state.rateTrace, iIn = state.inputCurrent

        // count[j] = sum_w popcount(S_E[w] & C_j[w]) - popcount(S_I[w] & C_j[w]); words without
        // spikes contribute nothing and are skipped.
        //
        // Words whose masked spike bits occupy disjoint bit positions share one popcount:
        // popcount(a & x) + popcount(b & y) = popcount((a & x) | (b & y)) when a & b == 0. With
        // sparse spikes this roughly halves the popcounts; the counts stay exact integers.
        counts.update(repeating: 0, count: n)
        var groupCount = 0
        let groupWords = scratch.groupWords, groupMasks = scratch.groupMasks
        let groupSizes = scratch.groupSizes, groupUnions = scratch.groupUnions
        for excitatory in [true, false] {
            let firstGroup = groupCount
            for word in 0..<w {
                let mask = s[word] & (excitatory ? excitatoryMask[word] : ~excitatoryMask[word])
                if mask == 0 { continue }
                var g = firstGroup
                while g < groupCount && (groupSizes[g] == Scratch.maxGroupSize || groupUnions[g] & mask != 0) { g += 1 }
                if g == groupCount {
                    groupSizes[g] = 0
                    groupUnions[g] = 0
                    groupCount += 1
                }
                groupWords[g * Scratch.maxGroupSize + groupSizes[g]] = word
                groupMasks[g * Scratch.maxGroupSize + groupSizes[g]] = mask
                groupSizes[g] += 1
                groupUnions[g] |= mask
            }
            for g in firstGroup..<groupCount {
                countPass(
                    add: excitatory, size: groupSizes[g], words: groupWords + g * Scratch.maxGroupSize,
                    masks: groupMasks + g * Scratch.maxGroupSize, recurrent: kh, counts: counts)
            }
        }

        // Neuron update: a plain loop over j that the compiler vectorizes (the same IEEE
        // operations per neuron as the scalar equations, in the same order, nothing fused), then
        // the fired flags (one byte per neuron) packed into the spike words.
        let alphaSyn = NetworkConstants.alphaSynapse
        let alphaM = NetworkConstants.alphaMembrane
        let oneMinusAlphaM = 1 - NetworkConstants.alphaMembrane
        let alphaOut = NetworkConstants.alphaOut
        let vTh = NetworkConstants.thresholdVoltage
        let vR = NetworkConstants.resetVoltage
        let zeroIncrement = (1 - NetworkConstants.alphaOut) * 0 / NetworkConstants.dt
        let rH = self.rH
        let increments = scratch.rateIncrement
        let fired = scratch.fired
        for j in 0..<n {
            let current = NetworkConstants.flushSubnormal(alphaSyn * iSyn[j] + rH * Float(counts[j]))
            iSyn[j] = current
            let potential = alphaM * v[j] + oneMinusAlphaM * (vR + current + iIn[j])
            let spike = potential > vTh
            v[j] = NetworkConstants.flushSubnormal(spike ? vR : potential)
            r[j] = NetworkConstants.flushSubnormal(alphaOut * r[j] + (spike ? increments[j] : zeroIncrement))
            fired[j] = spike ? 1 : 0
        }
        var spikeCount = 0
        let flagWords = UnsafeRawPointer(fired)
        for word in 0..<w {
            var bits: UInt64 = 0
            for chunk in 0..<8 {
                let flags = flagWords.loadUnaligned(fromByteOffset: word * 64 + chunk * 8, as: UInt64.self)
                bits |= ((flags &* 0x0102_0408_1020_4080) >> 56) << UInt64(chunk * 8)
            }
            s[word] = bits
            spikeCount += bits.nonzeroBitCount
        }
        return spikeCount
    }

    /// y[a] = R_out * sum_j r[j] * K_out[j, a] in the lane-blocked order of
    /// `NetworkConstants.readoutLanes` (16 partial sums over j = l, l + 16, l + 32, ..., then
    /// added left to right), as the reference does. Terms r[j] * 0 leave a sum unchanged, so a
    /// partial sum takes r[j] only where the bit is set.
    @inline(__always)
    func readout(
        connectivity k: UnsafePointer<UInt64>, rateTrace r: UnsafePointer<Float>,
        partialSums partial: UnsafeMutablePointer<Float>, output y: UnsafeMutablePointer<Float>
    ) {
        let rOut = self.rOut
        let lanes = NetworkConstants.readoutLanes
        for action in 0..<a {
            let row = k + readoutWordOffset + action * w
            partial.update(repeating: 0, count: lanes)
            for block in 0..<(n / lanes) {
                let bits = UInt32(truncatingIfNeeded: row[block >> 2] &>> UInt64(16 * (block & 3)))
                let values = r + block * lanes
                for l in 0..<16 {
                    let sum = partial[l]
                    partial[l] = (bits &>> UInt32(l)) & 1 == 1 ? sum + values[l] : sum
                }
            }
            var sum: Float = 0
            for l in 0..<lanes { sum = sum + partial[l] }
            y[action] = rOut * sum
        }
    }
}

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

    /// Copies one member's packed connectivity into the kernel layout.
    func relayout(packed: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt64>) {
        let words = shape.wordsPerMember
        out.update(from: packed, count: words)
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
        var fired: UnsafeMutablePointer<UInt8>
        var newSpikeWords: UnsafeMutablePointer<UInt64>
        let n: Int
        let w: Int

        init(n: Int, w: Int) {
            self.n = n
            self.w = w
            counts = .allocate(capacity: n)
            fired = .allocate(capacity: n)
            newSpikeWords = .allocate(capacity: w)
        }

        func deallocate() {
            counts.deallocate()
            fired.deallocate()
            newSpikeWords.deallocate()
        }
    }

    /// One environment step of one member; returns the number of spikes in it.
    func envStep(
        connectivity k: UnsafePointer<UInt64>, state: State, scratch: Scratch,
        observation x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>
    ) -> Int {
        let n = self.n, w = self.w, d = self.d
        let iIn = state.inputCurrent

        // 1. Input current: i_in[j] = R_in * sum_d x_d * (K+[d, j] - K-[d, j]), d in order.
        for j in 0..<n { iIn[j] = 0 }
        for row in 0..<d {
            let xd = x[row]
            let plus = k + row * w
            let minus = k + (d + row) * w
            for word in 0..<w {
                let p = plus[word], m = minus[word]
                if p | m == 0 { continue }  // x_d * 0 added to a sum leaves it unchanged
                let base = iIn + word * 64
                for b in 0..<64 {
                    let coefficient = Float(Int32(truncatingIfNeeded: (p >> UInt64(b)) & 1)
                                            - Int32(truncatingIfNeeded: (m >> UInt64(b)) & 1))
                    base[b] = base[b] + xd * coefficient
                }
            }
        }
        let rIn = self.rIn
        for j in 0..<n { iIn[j] = rIn * iIn[j] }

        // 2. T substeps.
        let kh = k + recurrentWordOffset
        let counts = scratch.counts
        let fired = scratch.fired
        let newS = scratch.newSpikeWords
        let s = state.spikeWords
        let v = state.membrane, iSyn = state.synapticCurrent, r = state.rateTrace
        let alphaSyn = NetworkConstants.alphaSynapse
        let alphaM = NetworkConstants.alphaMembrane
        let oneMinusAlphaM = 1 - NetworkConstants.alphaMembrane
        let alphaOut = NetworkConstants.alphaOut
        let vTh = NetworkConstants.thresholdVoltage
        let vR = NetworkConstants.resetVoltage
        let incrementE = (1 - NetworkConstants.alphaOut) * 1 / NetworkConstants.dt
        let incrementI = (1 - NetworkConstants.alphaOut) * -1 / NetworkConstants.dt
        let zeroIncrement = (1 - NetworkConstants.alphaOut) * 0 / NetworkConstants.dt
        let rH = self.rH
        let nE = self.nE
        var spikeCount = 0
        for _ in 0..<NetworkConstants.substepsPerEnvStep {
            // count[j] = sum_w popcount(S_E[w] & C_j[w]) - popcount(S_I[w] & C_j[w])
            for j in 0..<n { counts[j] = 0 }
            for word in 0..<w {
                let sE = s[word] & excitatoryMask[word]
                let sI = s[word] & ~excitatoryMask[word]
                let column = kh + word * n
                if sE != 0 {
                    for j in 0..<n { counts[j] &+= Int32(truncatingIfNeeded: (sE & column[j]).nonzeroBitCount) }
                }
                if sI != 0 {
                    for j in 0..<n { counts[j] &-= Int32(truncatingIfNeeded: (sI & column[j]).nonzeroBitCount) }
                }
            }
            // Neuron update (elementwise, vectorizable).
            for j in 0..<n {
                let current = alphaSyn * iSyn[j] + rH * Float(counts[j])
                iSyn[j] = current
                let potential = alphaM * v[j] + oneMinusAlphaM * (vR + current + iIn[j])
                let spike = potential > vTh
                v[j] = spike ? vR : potential
                fired[j] = spike ? 1 : 0
                let increment = spike ? (j < nE ? incrementE : incrementI) : zeroIncrement
                r[j] = alphaOut * r[j] + increment
            }
            // Pack the spikes into words.
            for word in 0..<w {
                var bits: UInt64 = 0
                let f = fired + word * 64
                for b in 0..<64 { bits |= UInt64(f[b]) << UInt64(b) }
                newS[word] = bits
                spikeCount += bits.nonzeroBitCount
            }
            for word in 0..<w { s[word] = newS[word] }
        }

        // 3. Readout: y[a] = R_out * sum_j r[j] * K_out[j, a], j in order.
        let rOut = self.rOut
        for action in 0..<a {
            let row = k + readoutWordOffset + action * w
            var sum: Float = 0
            for j in 0..<n {
                let bit = Float(Int32(truncatingIfNeeded: (row[j >> 6] >> UInt64(j & 63)) & 1))
                sum = sum + r[j] * bit
            }
            y[action] = rOut * sum
        }
        return spikeCount
    }
}

/// The plain dense Float32 implementation of the network of docs/NETWORK.md, written for clarity.
///
/// It unpacks the connection bits into Float32 matrices of 0 and 1 and follows the equations of
/// "One environment step" literally. It is the reference that `BitsetNetwork` is tested against
/// bit for bit: every sum here is either an exact integer (the recurrent input) or summed in the
/// same order as the bitset kernel (the input current over d = 0 ..< D, the readout in the
/// lane-blocked order of `NetworkConstants.readoutLanes`), and no multiply-add is fused. State
/// values below 2^-126 are flushed to zero (`NetworkConstants.flushSubnormal`).
public struct ReferenceNetwork: Sendable {
    public let shape: NetworkShape

    /// K_in as 2D x N Float32 zeros and ones, row-major: `inputWeights[row * N + post]`.
    public private(set) var inputWeights: [Float]
    /// K_h as N x N Float32 zeros and ones, `[pre, post]` row-major: `recurrentWeights[pre * N + post]`.
    public private(set) var recurrentWeights: [Float]
    /// K_out as N x A Float32 zeros and ones, `[neuron, action]`: `readoutWeights[neuron * A + action]`.
    public private(set) var readoutWeights: [Float]

    /// v: membrane potentials (N).
    public private(set) var membrane: [Float]
    /// i_syn: synaptic currents (N).
    public private(set) var synapticCurrent: [Float]
    /// r: signed rate traces (N).
    public private(set) var rateTrace: [Float]
    /// s: the last substep's spikes (N values in {-1, 0, +1}).
    public private(set) var spikes: [Float]
    /// i_in: the input current of the last environment step (N).
    public private(set) var inputCurrent: [Float]
    /// The number of spikes (over all neurons and all T substeps) in the last environment step.
    public private(set) var lastStepSpikeCount: Int = 0
    /// When true, `step` keeps the spikes of each of its T substeps in `lastStepSubstepSpikes`
    /// (for tests that count operations from a recorded spike train; off by default).
    public var recordsSubstepSpikes = false
    /// With `recordsSubstepSpikes`: s after substep t (N values in {-1, 0, +1}) at index t of the last step.
    public private(set) var lastStepSubstepSpikes: [[Float]] = []

    /// A network of the given shape with no connections and all state zero.
    public init(shape: NetworkShape) {
        self.shape = shape
        let n = shape.neurons
        inputWeights = [Float](repeating: 0, count: 2 * shape.observationSize * n)
        recurrentWeights = [Float](repeating: 0, count: n * n)
        readoutWeights = [Float](repeating: 0, count: n * shape.actionSize)
        membrane = [Float](repeating: 0, count: n)
        synapticCurrent = membrane
        rateTrace = membrane
        spikes = membrane
        inputCurrent = membrane
    }

    /// Binds one member's packed connectivity (`shape.wordsPerMember` words, layout of `NetworkShape`).
    public mutating func load(connectivity: UnsafeBufferPointer<UInt64>) {
        precondition(connectivity.count == shape.wordsPerMember,
                     "expected \(shape.wordsPerMember) connectivity words, got \(connectivity.count)")
        let n = shape.neurons, d = shape.observationSize, a = shape.actionSize
        for row in 0..<(2 * d) {
            for post in 0..<n {
                inputWeights[row * n + post] = NetworkShape.bit(shape.inputBit(row: row, post: post), in: connectivity) ? 1 : 0
            }
        }
        for pre in 0..<n {
            for post in 0..<n {
                recurrentWeights[pre * n + post] = NetworkShape.bit(shape.recurrentBit(pre: pre, post: post), in: connectivity) ? 1 : 0
            }
        }
        for neuron in 0..<n {
            for action in 0..<a {
                readoutWeights[neuron * a + action] = NetworkShape.bit(shape.readoutBit(neuron: neuron, action: action), in: connectivity) ? 1 : 0
            }
        }
    }

    /// Binds one member's packed connectivity (`shape.wordsPerMember` words).
    public mutating func load(connectivity: [UInt64]) {
        connectivity.withUnsafeBufferPointer { load(connectivity: $0) }
    }

    /// Starts an episode: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: UnsafeBufferPointer<Float>) {
        precondition(initialMembrane.count == shape.neurons, "expected \(shape.neurons) membrane values")
        for n in 0..<shape.neurons {
            membrane[n] = initialMembrane[n]
            synapticCurrent[n] = 0
            rateTrace[n] = 0
            spikes[n] = 0
            inputCurrent[n] = 0
        }
        lastStepSpikeCount = 0
    }

    /// Starts an episode: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: [Float]) {
        initialMembrane.withUnsafeBufferPointer { reset(initialMembrane: $0) }
    }

    /// One environment step (docs/NETWORK.md, "One environment step"): writes y (before the clip, A values)
    /// for the observation x (D values).
    public mutating func step(observation x: UnsafeBufferPointer<Float>, output y: UnsafeMutableBufferPointer<Float>) {
        let n = shape.neurons, d = shape.observationSize, a = shape.actionSize
        precondition(x.count == d && y.count == a, "expected \(d) observation and \(a) output values")
        let rIn = NetworkConstants.inputScale(observationSize: d)
        let rH = NetworkConstants.recurrentScale(neurons: n)
        let rOut = NetworkConstants.readoutScale(neurons: n)
        let alphaSyn = NetworkConstants.alphaSynapse
        let alphaM = NetworkConstants.alphaMembrane
        let alphaOut = NetworkConstants.alphaOut
        let vTh = NetworkConstants.thresholdVoltage
        let vR = NetworkConstants.resetVoltage
        let dt = NetworkConstants.dt
        let nE = shape.excitatoryNeurons

        // 1. i_in[j] = R_in * sum_d x_d * (K_in[d, j] - K_in[D+d, j]), summed over d in order.
        for j in 0..<n {
            var sum: Float = 0
            for k in 0..<d {
                sum = sum + x[k] * (inputWeights[k * n + j] - inputWeights[(d + k) * n + j])
            }
            inputCurrent[j] = NetworkConstants.flushSubnormal(rIn * sum)
        }

        // 2. T substeps.
        var spikeCount = 0
        lastStepSubstepSpikes.removeAll(keepingCapacity: true)
        var recurrentInput = [Float](repeating: 0, count: n)
        for _ in 0..<NetworkConstants.substepsPerEnvStep {
            // sum_i s_i * K_h[i, j] with the previous substep's spikes, accumulated row by row
            // (every partial sum is an exact integer, so the order does not matter).
            for j in 0..<n { recurrentInput[j] = 0 }
            for i in 0..<n {
                let spike = spikes[i]
                for j in 0..<n {
                    recurrentInput[j] = recurrentInput[j] + spike * recurrentWeights[i * n + j]
                }
            }
            for j in 0..<n {
                synapticCurrent[j] = NetworkConstants.flushSubnormal(alphaSyn * synapticCurrent[j] + rH * recurrentInput[j])
                membrane[j] = alphaM * membrane[j] + (1 - alphaM) * (vR + synapticCurrent[j] + inputCurrent[j])
                let fired = membrane[j] > vTh
                if fired {
                    membrane[j] = vR
                    spikeCount += 1
                }
                membrane[j] = NetworkConstants.flushSubnormal(membrane[j])
                spikes[j] = fired ? (j < nE ? 1 : -1) : 0
                rateTrace[j] = NetworkConstants.flushSubnormal(alphaOut * rateTrace[j] + (1 - alphaOut) * spikes[j] / dt)
            }
            if recordsSubstepSpikes { lastStepSubstepSpikes.append(spikes) }
        }
        lastStepSpikeCount = spikeCount

        // 3. y[a] = R_out * sum_j r[j] * K_out[j, a], in the order of
        //    `NetworkConstants.readoutLanes`: 16 partial sums s_l over j = l, l + 16, ..., then
        //    s_0 + s_1 + ... + s_15 left to right.
        let lanes = NetworkConstants.readoutLanes
        for action in 0..<a {
            var partial = [Float](repeating: 0, count: lanes)
            for j in 0..<n {
                partial[j % lanes] = partial[j % lanes] + rateTrace[j] * readoutWeights[j * a + action]
            }
            var sum: Float = 0
            for l in 0..<lanes { sum = sum + partial[l] }
            y[action] = rOut * sum
        }
    }

    /// One environment step: returns y (before the clip) for the observation x.
    public mutating func step(observation: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: shape.actionSize)
        observation.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in step(observation: x, output: y) }
        }
        return output
    }
}

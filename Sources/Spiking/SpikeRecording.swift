/// Recording the spikes of every substep, for analysis (activity and energy reports, rasters, the
/// NIR cross-check). This is a separate entry point beside `BitsetNetwork.step(observation:output:)`:
/// the rollouts of training never call it, and it runs the very same kernel (`BitsetKernel.envStep`
/// with a record buffer), so its outputs and state are bit-identical to the plain step's.
extension BitsetStorage {
    func stepRecording(
        member: Int, observation: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        record: UnsafeMutablePointer<UInt64>
    ) {
        lastStepSpikeCounts[member] = kernel.envStep(
            connectivity: connectivity + member * kernel.shape.wordsPerMember,
            inputSigns: inputSigns + member * kernel.d * kernel.n, state: state(member),
            scratch: scratch, observation: observation, output: output, record: record)
    }
}

extension BitsetNetwork {
    /// The number of `UInt64` words one environment step's spike record holds: T x N/64
    /// (T = `NetworkConstants.substepsPerEnvStep`).
    public var substepSpikeWordCount: Int { NetworkConstants.substepsPerEnvStep * shape.wordsPerRow }

    /// One environment step, exactly as `step(observation:output:)` (same y, same state, bit for
    /// bit), that also records which neurons fired in each substep: after the step,
    /// `substepSpikes[t * W + (i >> 6)] >> (i & 63) & 1` (W = N/64) is 1 exactly when neuron i fired
    /// in substep t, for t = 0 ..< T. (Neurons `0 ..< N_E` are excitatory, the rest inhibitory.)
    ///
    /// - Precondition: `observation.count == D`, `output.count == A`,
    ///   `substepSpikes.count == substepSpikeWordCount`.
    public mutating func step(
        observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
        substepSpikes: UnsafeMutableBufferPointer<UInt64>
    ) {
        precondition(observation.count == shape.observationSize && output.count == shape.actionSize,
                     "expected \(shape.observationSize) observation and \(shape.actionSize) output values")
        precondition(substepSpikes.count == substepSpikeWordCount,
                     "expected \(substepSpikeWordCount) spike words (T x N/64), got \(substepSpikes.count)")
        guard let x = observation.baseAddress, let y = output.baseAddress, let record = substepSpikes.baseAddress else { return }
        uniqueStorage().stepRecording(member: 0, observation: x, output: y, record: record)
    }
}

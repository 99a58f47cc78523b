/// Storage of M members for the bitset kernel: connectivity (kernel layout, M x wordsPerMember
/// contiguous words) and state (M x N floats per variable, M x N/64 spike words), in manually
/// allocated buffers behind copy-on-write value types.
final class BitsetStorage: @unchecked Sendable {
    let kernel: BitsetKernel
    let members: Int
    let connectivity: UnsafeMutablePointer<UInt64>
    /// Per member: K_in as D x N signs in {-1, 0, +1}, one byte each (`BitsetKernel.relayout`).
    let inputSigns: UnsafeMutablePointer<Int8>
    let membrane: UnsafeMutablePointer<Float>
    let synapticCurrent: UnsafeMutablePointer<Float>
    let rateTrace: UnsafeMutablePointer<Float>
    let inputCurrent: UnsafeMutablePointer<Float>
    let spikeWords: UnsafeMutablePointer<UInt64>
    let scratch: BitsetKernel.Scratch
    var lastStepSpikeCounts: [Int]

    init(shape: NetworkShape, members: Int) {
        precondition(members > 0, "a population needs at least one member")
        kernel = BitsetKernel(shape: shape)
        self.members = members
        let n = shape.neurons, w = shape.wordsPerRow
        connectivity = .allocate(capacity: members * shape.wordsPerMember)
        connectivity.initialize(repeating: 0, count: members * shape.wordsPerMember)
        inputSigns = .allocate(capacity: members * shape.observationSize * n)
        inputSigns.initialize(repeating: 0, count: members * shape.observationSize * n)
        membrane = .allocate(capacity: members * n)
        membrane.initialize(repeating: 0, count: members * n)
        synapticCurrent = .allocate(capacity: members * n)
        synapticCurrent.initialize(repeating: 0, count: members * n)
        rateTrace = .allocate(capacity: members * n)
        rateTrace.initialize(repeating: 0, count: members * n)
        inputCurrent = .allocate(capacity: members * n)
        inputCurrent.initialize(repeating: 0, count: members * n)
        spikeWords = .allocate(capacity: members * w)
        spikeWords.initialize(repeating: 0, count: members * w)
        scratch = BitsetKernel.Scratch(n: n, w: w, excitatory: shape.excitatoryNeurons)
        lastStepSpikeCounts = [Int](repeating: 0, count: members)
    }

    func copy() -> BitsetStorage {
        let other = BitsetStorage(shape: kernel.shape, members: members)
        let n = kernel.n, w = kernel.w
        other.connectivity.update(from: connectivity, count: members * kernel.shape.wordsPerMember)
        other.inputSigns.update(from: inputSigns, count: members * kernel.d * n)
        other.membrane.update(from: membrane, count: members * n)
        other.synapticCurrent.update(from: synapticCurrent, count: members * n)
        other.rateTrace.update(from: rateTrace, count: members * n)
        other.inputCurrent.update(from: inputCurrent, count: members * n)
        other.spikeWords.update(from: spikeWords, count: members * w)
        other.lastStepSpikeCounts = lastStepSpikeCounts
        return other
    }

    deinit {
        connectivity.deallocate()
        inputSigns.deallocate()
        membrane.deallocate()
        synapticCurrent.deallocate()
        rateTrace.deallocate()
        inputCurrent.deallocate()
        spikeWords.deallocate()
        scratch.deallocate()
    }

    func state(_ member: Int) -> BitsetKernel.State {
        let n = kernel.n
        return BitsetKernel.State(
            membrane: membrane + member * n, synapticCurrent: synapticCurrent + member * n,
            rateTrace: rateTrace + member * n, inputCurrent: inputCurrent + member * n,
            spikeWords: spikeWords + member * kernel.w)
    }

    func load(member: Int, packed: UnsafePointer<UInt64>) {
        kernel.relayout(
            packed: packed, into: connectivity + member * kernel.shape.wordsPerMember,
            inputSigns: inputSigns + member * kernel.d * kernel.n)
    }

    func reset(member: Int, initialMembrane: UnsafePointer<Float>) {
        let st = state(member), n = kernel.n
        st.membrane.update(from: initialMembrane, count: n)
        st.synapticCurrent.update(repeating: 0, count: n)
        st.rateTrace.update(repeating: 0, count: n)
        st.inputCurrent.update(repeating: 0, count: n)
        st.spikeWords.update(repeating: 0, count: kernel.w)
        lastStepSpikeCounts[member] = 0
    }

    func step(member: Int, observation: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        lastStepSpikeCounts[member] = kernel.envStep(
            connectivity: connectivity + member * kernel.shape.wordsPerMember,
            inputSigns: inputSigns + member * kernel.d * kernel.n, state: state(member),
            scratch: scratch, observation: observation, output: output)
    }

    func floats(_ base: UnsafeMutablePointer<Float>, member: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: base + member * kernel.n, count: kernel.n))
    }

    func spikeSigns(member: Int) -> [Float] {
        let words = spikeWords + member * kernel.w
        return (0..<kernel.n).map { i in
            (words[i >> 6] >> UInt64(i & 63)) & 1 == 0 ? 0 : (i < kernel.nE ? 1 : -1)
        }
    }
}

/// The bitset implementation of the network of docs/NETWORK.md for one member, for rollouts: the spikes
/// and K_h live in 64-bit words and the recurrent input of neuron j is
/// `count[j] = popcount(S_E & C_E[j]) - popcount(S_I & C_I[j])` (summed over the N/64 words),
/// then `i_syn[j] = alpha_syn * i_syn[j] + R_h * Float(count[j])`. The input current (a
/// multiply-add with the K_in signs as Float32) and the readout (masked float sums) run once per
/// environment step.
///
/// It is bit-identical to `ReferenceNetwork` (every y, spike and state variable): the recurrent
/// count is an exact integer, the input current is summed over d = 0 ..< D and the readout in
/// the lane-blocked order of `NetworkConstants.readoutLanes`, as in the reference, and no
/// multiply-add is fused.
///
/// Reuse one value across members and episodes: `load(connectivity:)`, `reset(initialMembrane:)`
/// and `step(observation:output:)` allocate nothing.
public struct BitsetNetwork: Sendable {
    public let shape: NetworkShape
    // Internal (not private): the spike-recording step in SpikeRecording.swift uses it.
    var storage: BitsetStorage

    /// A network of the given shape with no connections and all state zero.
    public init(shape: NetworkShape) {
        self.shape = shape
        storage = BitsetStorage(shape: shape, members: 1)
    }

    mutating func uniqueStorage() -> BitsetStorage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// Binds one member's packed connectivity (`shape.wordsPerMember` words, layout of
    /// `NetworkShape`). The state is left as it is; call `reset(initialMembrane:)` to start an episode.
    public mutating func load(connectivity: UnsafeBufferPointer<UInt64>) {
        precondition(connectivity.count == shape.wordsPerMember,
                     "expected \(shape.wordsPerMember) connectivity words, got \(connectivity.count)")
        guard let base = connectivity.baseAddress else { return }
        uniqueStorage().load(member: 0, packed: base)
    }

    /// Binds one member's packed connectivity (`shape.wordsPerMember` words).
    public mutating func load(connectivity: [UInt64]) {
        connectivity.withUnsafeBufferPointer { load(connectivity: $0) }
    }

    /// Starts an episode: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: UnsafeBufferPointer<Float>) {
        precondition(initialMembrane.count == shape.neurons, "expected \(shape.neurons) membrane values")
        guard let base = initialMembrane.baseAddress else { return }
        uniqueStorage().reset(member: 0, initialMembrane: base)
    }

    /// Starts an episode: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: [Float]) {
        initialMembrane.withUnsafeBufferPointer { reset(initialMembrane: $0) }
    }

    /// One environment step: writes y (before the clip, A values) for the observation x (D values).
    public mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == shape.observationSize && output.count == shape.actionSize,
                     "expected \(shape.observationSize) observation and \(shape.actionSize) output values")
        guard let x = observation.baseAddress, let y = output.baseAddress else { return }
        uniqueStorage().step(member: 0, observation: x, output: y)
    }

    /// One environment step: returns y (before the clip) for the observation x.
    public mutating func step(observation: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: shape.actionSize)
        observation.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in step(observation: x, output: y) }
        }
        return output
    }

    /// v: membrane potentials (N).
    public var membrane: [Float] { storage.floats(storage.membrane, member: 0) }
    /// i_syn: synaptic currents (N).
    public var synapticCurrent: [Float] { storage.floats(storage.synapticCurrent, member: 0) }
    /// r: signed rate traces (N).
    public var rateTrace: [Float] { storage.floats(storage.rateTrace, member: 0) }
    /// i_in: the input current of the last environment step (N).
    public var inputCurrent: [Float] { storage.floats(storage.inputCurrent, member: 0) }
    /// s: the last substep's spikes as N values in {-1, 0, +1}.
    public var spikes: [Float] { storage.spikeSigns(member: 0) }
    /// The number of spikes (all neurons, all T substeps) in the last environment step.
    public var lastStepSpikeCount: Int { storage.lastStepSpikeCounts[0] }
}

/// M members of the bitset network run together: their connectivity is one contiguous block of
/// M x `wordsPerMember` words (member m's bits at words `m * wordsPerMember ..<
/// (m + 1) * wordsPerMember`, `NetworkShape` layout), their states M x N values per variable.
///
/// `step(observations:outputs:)` advances every member by one environment step, member by member
/// (one thread; run several populations on several threads for parallelism). Each member computes
/// exactly what a `BitsetNetwork` with its connectivity computes.
public struct BitsetPopulation: Sendable {
    public let shape: NetworkShape
    public let members: Int
    private var storage: BitsetStorage

    /// A population of `members` networks with no connections and all state zero.
    public init(shape: NetworkShape, members: Int) {
        self.shape = shape
        self.members = members
        storage = BitsetStorage(shape: shape, members: members)
    }

    private mutating func uniqueStorage() -> BitsetStorage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// Binds every member's packed connectivity: `members * shape.wordsPerMember` words.
    public mutating func load(connectivity: UnsafeBufferPointer<UInt64>) {
        precondition(connectivity.count == members * shape.wordsPerMember,
                     "expected \(members * shape.wordsPerMember) connectivity words, got \(connectivity.count)")
        guard let base = connectivity.baseAddress else { return }
        let s = uniqueStorage()
        for m in 0..<members { s.load(member: m, packed: base + m * shape.wordsPerMember) }
    }

    /// Binds one member's packed connectivity (`shape.wordsPerMember` words).
    public mutating func load(member: Int, connectivity: UnsafeBufferPointer<UInt64>) {
        precondition(member >= 0 && member < members, "member \(member) out of 0..<\(members)")
        precondition(connectivity.count == shape.wordsPerMember,
                     "expected \(shape.wordsPerMember) connectivity words, got \(connectivity.count)")
        guard let base = connectivity.baseAddress else { return }
        uniqueStorage().load(member: member, packed: base)
    }

    /// Starts an episode for every member: v = `initialMembrane` (members x N values,
    /// member-major), i_syn = r = s = 0.
    public mutating func reset(initialMembrane: UnsafeBufferPointer<Float>) {
        precondition(initialMembrane.count == members * shape.neurons,
                     "expected \(members * shape.neurons) membrane values")
        guard let base = initialMembrane.baseAddress else { return }
        let s = uniqueStorage()
        for m in 0..<members { s.reset(member: m, initialMembrane: base + m * shape.neurons) }
    }

    /// Starts an episode for one member: v = `initialMembrane` (N values), i_syn = r = s = 0.
    public mutating func reset(member: Int, initialMembrane: UnsafeBufferPointer<Float>) {
        precondition(member >= 0 && member < members, "member \(member) out of 0..<\(members)")
        precondition(initialMembrane.count == shape.neurons, "expected \(shape.neurons) membrane values")
        guard let base = initialMembrane.baseAddress else { return }
        uniqueStorage().reset(member: member, initialMembrane: base)
    }

    /// One environment step of every member: `observations` holds members x D values, `outputs`
    /// receives members x A values of y (before the clip), both member-major.
    public mutating func step(observations: UnsafeBufferPointer<Float>, outputs: UnsafeMutableBufferPointer<Float>) {
        precondition(observations.count == members * shape.observationSize
                     && outputs.count == members * shape.actionSize,
                     "expected \(members * shape.observationSize) observation and \(members * shape.actionSize) output values")
        guard let x = observations.baseAddress, let y = outputs.baseAddress else { return }
        let s = uniqueStorage()
        for m in 0..<members {
            s.step(member: m, observation: x + m * shape.observationSize, output: y + m * shape.actionSize)
        }
    }

    /// One environment step of one member (D observation values in, A output values out).
    public mutating func step(member: Int, observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(member >= 0 && member < members, "member \(member) out of 0..<\(members)")
        precondition(observation.count == shape.observationSize && output.count == shape.actionSize,
                     "expected \(shape.observationSize) observation and \(shape.actionSize) output values")
        guard let x = observation.baseAddress, let y = output.baseAddress else { return }
        uniqueStorage().step(member: member, observation: x, output: y)
    }

    /// v of one member (N).
    public func membrane(member: Int) -> [Float] { storage.floats(storage.membrane, member: member) }
    /// i_syn of one member (N).
    public func synapticCurrent(member: Int) -> [Float] { storage.floats(storage.synapticCurrent, member: member) }
    /// r of one member (N).
    public func rateTrace(member: Int) -> [Float] { storage.floats(storage.rateTrace, member: member) }
    /// s of one member as N values in {-1, 0, +1}.
    public func spikes(member: Int) -> [Float] { storage.spikeSigns(member: member) }
    /// The number of spikes of one member in its last environment step.
    public func lastStepSpikeCount(member: Int) -> Int { storage.lastStepSpikeCounts[member] }
}

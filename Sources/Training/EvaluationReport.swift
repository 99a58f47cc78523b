import Foundation

/// What `satr eval --json` prints: the evaluated returns and lengths of a policy's episodes, and
/// for a bitset policy the counted operations and their energy (`EnergyReport.Figures`).
///
/// Written with the shared `JSONCoding` encoder (sorted keys). A return that is not finite (a
/// diverged episode ranks as -infinity) is written as `null`, as in `metrics.jsonl`; the `seed`
/// is a number, or a string when it does not fit a signed 64-bit integer.
public struct EvaluationReport: Codable, Sendable, Equatable {
    public var task: String
    public var network: String
    public var neurons: Int
    public var episodes: Int
    public var seed: UInt64
    /// Statistics of the returns; nil (null) when not finite.
    public var returnMean: Double?
    public var returnStd: Double?
    public var returnMin: Double?
    public var returnMax: Double?
    public var lengthMean: Double?
    /// Each episode's return; nil (null) when not finite.
    public var returns: [Double?]
    public var lengths: [Int]
    /// Bitset policies: the operations counted in these episodes and their energy.
    public var energy: EnergyReport.Figures?

    public init(task: String, network: String, neurons: Int, seed: UInt64, summary e: EvaluationSummary, energy: EnergyReport?) {
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        self.task = task
        self.network = network
        self.neurons = neurons
        episodes = e.returns.count
        self.seed = seed
        returnMean = finite(e.mean)
        returnStd = finite(e.standardDeviation)
        returnMin = finite(e.minimum)
        returnMax = finite(e.maximum)
        lengthMean = finite(e.meanLength)
        returns = e.returns.map(finite)
        lengths = e.lengths
        self.energy = energy?.figures
    }

    enum CodingKeys: String, CodingKey {
        case task, network, neurons, episodes, seed, returns, lengths, energy
        case returnMean = "return_mean", returnStd = "return_std", returnMin = "return_min", returnMax = "return_max"
        case lengthMean = "length_mean"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        task = try c.decode(String.self, forKey: .task)
        network = try c.decode(String.self, forKey: .network)
        neurons = try c.decode(Int.self, forKey: .neurons)
        episodes = try c.decode(Int.self, forKey: .episodes)
        if let number = try? c.decode(UInt64.self, forKey: .seed) {
            seed = number
        } else {
            let text = try c.decode(String.self, forKey: .seed)
            guard let number = UInt64(text) else {
                throw DecodingError.dataCorruptedError(forKey: .seed, in: c, debugDescription: "not a 64-bit seed: \(text)")
            }
            seed = number
        }
        returnMean = try c.decodeIfPresent(Double.self, forKey: .returnMean)
        returnStd = try c.decodeIfPresent(Double.self, forKey: .returnStd)
        returnMin = try c.decodeIfPresent(Double.self, forKey: .returnMin)
        returnMax = try c.decodeIfPresent(Double.self, forKey: .returnMax)
        lengthMean = try c.decodeIfPresent(Double.self, forKey: .lengthMean)
        returns = try c.decode([Double?].self, forKey: .returns)
        lengths = try c.decode([Int].self, forKey: .lengths)
        energy = try c.decodeIfPresent(EnergyReport.Figures.self, forKey: .energy)
    }

    /// Absent statistics are written as `null` (not left out), so every report has the same keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        try c.encode(network, forKey: .network)
        try c.encode(neurons, forKey: .neurons)
        try c.encode(episodes, forKey: .episodes)
        if seed <= UInt64(Int.max) {
            try c.encode(seed, forKey: .seed)
        } else {
            try c.encode(String(seed), forKey: .seed)
        }
        try c.encode(returnMean, forKey: .returnMean)
        try c.encode(returnStd, forKey: .returnStd)
        try c.encode(returnMin, forKey: .returnMin)
        try c.encode(returnMax, forKey: .returnMax)
        try c.encode(lengthMean, forKey: .lengthMean)
        try c.encode(returns, forKey: .returns)
        try c.encode(lengths, forKey: .lengths)
        try c.encodeIfPresent(energy, forKey: .energy)
    }
}

extension EnergyReport {
    /// The report as one JSON object (the `energy` field of `satr eval --json`): per environment
    /// step figures, the raw totals they come from, and the stated constants.
    public struct Figures: Codable, Sendable, Equatable {
        public var envSteps: Int
        public var substeps: Int
        public var spikes: Int
        public var excitatorySpikes: Int
        public var recurrentAccumulates: Int
        public var inputAccumulates: Int
        public var readoutAccumulates: Int
        public var scalingMultiplies: Int
        public var neuronUpdateMACs: Int
        public var spikesPerNeuronPerSubstep: Double
        public var synapticOpsPerStep: Double
        public var recurrentOpsPerStep: Double
        public var inputOpsPerStep: Double
        public var readoutOpsPerStep: Double
        public var scalingMultipliesPerStep: Double
        public var neuronUpdateMACsPerStep: Double
        public var energySynapticPicojoulesPerStep: Double
        public var energyTotalPicojoulesPerStep: Double
        public var denseANNMACsPerStep: Int
        public var denseANNEnergyPicojoulesPerStep: Double
        public var lstmHidden: Int
        public var lstmMACsPerStep: Int
        public var lstmEnergyPicojoulesPerStep: Double
        public var accumulatePicojoules: Double
        public var multiplyAccumulatePicojoules: Double
        public var energySource: String

        enum CodingKeys: String, CodingKey {
            case envSteps = "env_steps", substeps, spikes, excitatorySpikes = "excitatory_spikes"
            case recurrentAccumulates = "recurrent_accumulates", inputAccumulates = "input_accumulates"
            case readoutAccumulates = "readout_accumulates", scalingMultiplies = "scaling_multiplies"
            case neuronUpdateMACs = "neuron_update_macs"
            case spikesPerNeuronPerSubstep = "spikes_per_neuron_per_substep", synapticOpsPerStep = "synaptic_ops_per_step"
            case recurrentOpsPerStep = "recurrent_ops_per_step", inputOpsPerStep = "input_ops_per_step"
            case readoutOpsPerStep = "readout_ops_per_step", scalingMultipliesPerStep = "scaling_multiplies_per_step"
            case neuronUpdateMACsPerStep = "neuron_update_macs_per_step"
            case energySynapticPicojoulesPerStep = "energy_synaptic_pj_per_step"
            case energyTotalPicojoulesPerStep = "energy_total_pj_per_step"
            case denseANNMACsPerStep = "dense_ann_macs_per_step", denseANNEnergyPicojoulesPerStep = "dense_ann_energy_pj_per_step"
            case lstmHidden = "lstm_hidden", lstmMACsPerStep = "lstm_macs_per_step", lstmEnergyPicojoulesPerStep = "lstm_energy_pj_per_step"
            case accumulatePicojoules = "e_ac_pj", multiplyAccumulatePicojoules = "e_mac_pj", energySource = "energy_source"
        }
    }

    /// This report's figures.
    public var figures: Figures {
        let o = operations
        return Figures(
            envSteps: o.envSteps, substeps: o.substeps, spikes: o.spikes, excitatorySpikes: o.excitatorySpikes,
            recurrentAccumulates: o.recurrentAccumulates, inputAccumulates: o.inputAccumulates,
            readoutAccumulates: o.readoutAccumulates, scalingMultiplies: o.scalingMultiplies,
            neuronUpdateMACs: o.neuronUpdateMultiplyAccumulates,
            spikesPerNeuronPerSubstep: spikesPerNeuronPerSubstep, synapticOpsPerStep: synapticAccumulatesPerStep,
            recurrentOpsPerStep: recurrentAccumulatesPerStep, inputOpsPerStep: inputAccumulatesPerStep,
            readoutOpsPerStep: readoutAccumulatesPerStep, scalingMultipliesPerStep: scalingMultipliesPerStep,
            neuronUpdateMACsPerStep: neuronUpdateMACsPerStep,
            energySynapticPicojoulesPerStep: synapticEnergyPicojoules, energyTotalPicojoulesPerStep: totalEnergyPicojoules,
            denseANNMACsPerStep: denseANNMACs, denseANNEnergyPicojoulesPerStep: denseANNEnergyPicojoules,
            lstmHidden: Self.lstmHiddenSize, lstmMACsPerStep: lstmMACs, lstmEnergyPicojoulesPerStep: lstmEnergyPicojoules,
            accumulatePicojoules: Self.accumulatePicojoules, multiplyAccumulatePicojoules: Self.multiplyAccumulatePicojoules,
            energySource: "Horowitz, ISSCC 2014, 45 nm, 32-bit float: add 0.9 pJ, multiply 3.7 pJ; docs/ENERGY.md")
    }
}

import Environments
import Foundation
import Search
import Spiking

/// The accumulated operation counts of the counting networks of one evaluation (one tally per
/// worker; each is touched only by its worker's thread and read after the workers have joined).
final class OperationTally: @unchecked Sendable {
    var total = SynapticOperationCount()
    var counter: SynapticOperationCounter?
    var words: [UInt64] = []

    /// Everything counted so far.
    var sum: SynapticOperationCount { total + (counter?.count ?? SynapticOperationCount()) }
}

/// The bitset network of a fixed policy that also counts its operations from the spikes of every
/// substep (`BitsetNetwork.step(observation:output:substepSpikes:)`, the same arithmetic as the
/// training rollouts' `BitsetRolloutNetwork`, so the episodes and returns are identical).
struct CountingBitsetRolloutNetwork: RolloutNetwork {
    var network: BitsetNetwork
    let tally: OperationTally
    private var membrane: [Float]
    private var spikeWords: [UInt64]

    init(shape: NetworkShape, tally: OperationTally) {
        network = BitsetNetwork(shape: shape)
        self.tally = tally
        membrane = [Float](repeating: 0, count: shape.neurons)
        spikeWords = [UInt64](repeating: 0, count: NetworkConstants.substepsPerEnvStep * shape.wordsPerRow)
    }

    mutating func load(genome: UnsafeBufferPointer<UInt64>) {
        network.load(connectivity: genome)
        if tally.counter == nil || !tally.words.elementsEqual(genome) {
            if let previous = tally.counter { tally.total = tally.total + previous.count }
            tally.words = Array(genome)
            tally.counter = SynapticOperationCounter(shape: network.shape, connectivity: tally.words)
        }
    }

    mutating func startEpisode(seed: UInt64, generation: Int, member: Int) {
        membrane.withUnsafeMutableBufferPointer {
            NetworkConstants.writeInitialMembrane(into: $0, seed: seed, generation: generation, member: member)
        }
        membrane.withUnsafeBufferPointer { network.reset(initialMembrane: $0) }
        tally.counter?.startEpisode()
    }

    mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        spikeWords.withUnsafeMutableBufferPointer { record in
            network.step(observation: observation, output: output, substepSpikes: record)
            tally.counter?.record(substepSpikes: UnsafeBufferPointer(record))
        }
    }
}

extension PolicyEvaluation {
    /// Runs the same episodes as `evaluate(policy:episodes:seed:generation:threads:options:)` (same
    /// seeds, same returns bit for bit) and also counts the network's operations from the spikes
    /// of every substep (`SynapticOperationCount`). Bitset policies only.
    ///
    /// - Throws: `PolicyError` for a dense (DenseSNN) policy.
    public static func evaluateWithActivity(
        policy: PolicyFile, episodes: Int, seed: UInt64, generation: Int = 0, threads: Int,
        options: EnvironmentOptions = EnvironmentOptions()
    ) throws -> (summary: EvaluationSummary, operations: SynapticOperationCount) {
        precondition(episodes >= 1 && threads >= 1)
        guard policy.network == .bitset else {
            throw PolicyError(description: "operation counts and energy estimates are implemented for bitset (SATR, EC) policies; this policy is \(policy.network.rawValue)")
        }
        let (spec, options) = try policy.evaluationSetting(options: options)
        let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: policy.neurons)
        let words = try policy.connectivityWords()
        var tallies: [OperationTally] = []
        let evaluator = try ThreadedPopulationEvaluator(threads: min(threads, episodes)) {
            let tally = OperationTally()
            tallies.append(tally)
            return try PolicyWorker<CountingBitsetRolloutNetwork>(
                task: spec, options: options, network: CountingBitsetRolloutNetwork(shape: shape, tally: tally),
                genomeCount: shape.wordsPerMember)
        }
        let outcomes = try evaluator.evaluate(GenerationRequest(
            generation: generation, members: Array(0..<episodes), population: .fixed(genome: words, seed: seed),
            normalization: policy.normalization))
        let operations = tallies.reduce(SynapticOperationCount()) { $0 + $1.sum }
        return (EvaluationSummary(generation: generation, returns: outcomes.map(\.fitness), lengths: outcomes.map(\.steps)), operations)
    }
}

/// Energy per action, estimated from counted operations under stated assumptions (docs/ENERGY.md).
///
/// Constants (45 nm CMOS, 32-bit floating point; M. Horowitz, "Computing's energy problem (and
/// what we can do about it)", ISSCC 2014): an addition (accumulate, AC) costs `E_AC = 0.9 pJ`, a
/// multiplication 3.7 pJ, so a multiply-accumulate (MAC) `E_MAC = 3.7 + 0.9 = 4.6 pJ`. Memory
/// access, data movement and control are not counted (for any of the networks compared).
///
/// Per environment step (one action), with the counts of `SynapticOperationCount` averaged over
/// the evaluated steps:
///
/// - spiking network, synaptic: `E_syn = E_AC * (recurrent + input + readout accumulates) + E_MAC * (N + A)`;
/// - spiking network, with neuron updates: `E_total = E_syn + E_MAC * 5 N T`;
/// - dense ANN of the same size (an Elman RNN `h = f(W_in x + W_h h + b)`, `y = W_out h`, D inputs,
///   N hidden units, A outputs, one update per action): `MACs = D N + N^2 + N A`, `E = E_MAC * MACs`;
/// - LSTM policy of the size the PPO-LSTM baselines use (sb3-contrib `RecurrentPPO`,
///   `MlpLstmPolicy` defaults: one LSTM layer of H = 256 units, actor head `[64, 64]` then A
///   outputs): `MACs = 4 H (D + H) + 3 H + 64 H + 64 * 64 + 64 A`, `E = E_MAC * MACs` (the four
///   gates, the cell and output products, the head; biases and nonlinearities not counted).
public struct EnergyReport: Sendable, Equatable {
    /// E_AC, pJ (Horowitz, ISSCC 2014, 45 nm, 32-bit float add).
    public static let accumulatePicojoules = 0.9
    /// E_MAC, pJ (Horowitz, ISSCC 2014, 45 nm, 32-bit float multiply 3.7 pJ + add 0.9 pJ).
    public static let multiplyAccumulatePicojoules = 4.6
    /// The LSTM's hidden size (sb3-contrib RecurrentPPO default `lstm_hidden_size`).
    public static let lstmHiddenSize = 256
    /// The LSTM policy's actor head (stable-baselines3 default `net_arch` for the policy).
    public static let lstmActorHead = [64, 64]

    public let shape: NetworkShape
    public let operations: SynapticOperationCount

    public init(shape: NetworkShape, operations: SynapticOperationCount) {
        self.shape = shape
        self.operations = operations
    }

    private var steps: Double { Double(max(operations.envSteps, 1)) }

    /// Spikes per neuron per substep (the mean firing probability per 0.5 ms).
    public var spikesPerNeuronPerSubstep: Double {
        Double(operations.spikes) / (Double(shape.neurons) * Double(max(operations.substeps, 1)))
    }
    /// Recurrent accumulates per environment step.
    public var recurrentAccumulatesPerStep: Double { Double(operations.recurrentAccumulates) / steps }
    /// Input accumulates per environment step.
    public var inputAccumulatesPerStep: Double { Double(operations.inputAccumulates) / steps }
    /// Readout accumulates per environment step.
    public var readoutAccumulatesPerStep: Double { Double(operations.readoutAccumulates) / steps }
    /// All synaptic accumulates per environment step.
    public var synapticAccumulatesPerStep: Double { Double(operations.synapticAccumulates) / steps }
    /// Scaling multiplies (N + A) per environment step.
    public var scalingMultipliesPerStep: Double { Double(operations.scalingMultiplies) / steps }
    /// Neuron-update MACs (5 N T) per environment step.
    public var neuronUpdateMACsPerStep: Double { Double(operations.neuronUpdateMultiplyAccumulates) / steps }

    /// E_syn per action, pJ.
    public var synapticEnergyPicojoules: Double {
        Self.accumulatePicojoules * synapticAccumulatesPerStep + Self.multiplyAccumulatePicojoules * scalingMultipliesPerStep
    }
    /// E_total per action (synaptic plus neuron updates), pJ.
    public var totalEnergyPicojoules: Double {
        synapticEnergyPicojoules + Self.multiplyAccumulatePicojoules * neuronUpdateMACsPerStep
    }
    /// MACs per action of the equally sized dense ANN: D N + N^2 + N A.
    public var denseANNMACs: Int {
        let d = shape.observationSize, n = shape.neurons, a = shape.actionSize
        return d * n + n * n + n * a
    }
    /// Energy per action of the dense ANN, pJ.
    public var denseANNEnergyPicojoules: Double { Self.multiplyAccumulatePicojoules * Double(denseANNMACs) }
    /// MACs per action of the PPO-LSTM-sized policy: 4 H (D + H) + 3 H + head.
    public var lstmMACs: Int {
        let h = Self.lstmHiddenSize, d = shape.observationSize, a = shape.actionSize
        var head = 0, width = h
        for layer in Self.lstmActorHead { head += width * layer; width = layer }
        head += width * a
        return 4 * h * (d + h) + 3 * h + head
    }
    /// Energy per action of the LSTM policy, pJ.
    public var lstmEnergyPicojoules: Double { Self.multiplyAccumulatePicojoules * Double(lstmMACs) }
}

extension EnergyReport {
    /// A few lines for `satr eval`'s human output.
    public var humanReport: String {
        func pj(_ v: Double) -> String {
            v >= 1e6 ? String(format: "%.2f uJ", v / 1e6) : v >= 1e3 ? String(format: "%.1f nJ", v / 1e3) : String(format: "%.0f pJ", v)
        }
        func count(_ v: Double) -> String { String(format: "%.0f", v) }
        return """
        activity (per env step, counted over \(operations.envSteps) steps): \
        \(String(format: "%.4f", spikesPerNeuronPerSubstep)) spikes/neuron/substep, \
        \(count(synapticAccumulatesPerStep)) synaptic ops (recurrent \(count(recurrentAccumulatesPerStep)), \
        input \(count(inputAccumulatesPerStep)), readout \(count(readoutAccumulatesPerStep)))
        energy per action (45 nm: AC 0.9 pJ, MAC 4.6 pJ; docs/ENERGY.md): SNN synaptic \(pj(synapticEnergyPicojoules)), \
        with neuron updates \(pj(totalEnergyPicojoules)); dense ANN \(denseANNMACs) MACs \(pj(denseANNEnergyPicojoules)); \
        LSTM-\(Self.lstmHiddenSize) \(lstmMACs) MACs \(pj(lstmEnergyPicojoules))
        """
    }
}

extension PolicyFile {
    /// The bitset network's shape (D, A from the file, N).
    ///
    /// - Throws: `PolicyError` for a dense policy, `NetworkShape.ShapeError` for invalid sizes.
    public func networkShape() throws -> NetworkShape {
        guard network == .bitset else { throw PolicyError(description: "this is a \(network.rawValue) policy, not a bitset network") }
        return try NetworkShape(observationSize: observationSize, actionSize: actionSize, neurons: neurons)
    }
}

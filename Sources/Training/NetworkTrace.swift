import Environments
import Foundation
import Randomness
import Spiking

/// One evaluation episode of a bitset policy with everything the network did: the observations,
/// the spikes of every substep, the network outputs and the actions (for `satr raster`, and as the
/// reference the NIR cross-check replays).
public struct NetworkTrace: Sendable, Codable {
    public var task: String
    public var neurons: Int
    public var excitatoryNeurons: Int
    /// T, the substeps per environment step.
    public var substeps: Int
    /// The network's initial membrane potentials (v at the episode start; i_syn = r = s = 0).
    public var initialMembrane: [Float]
    /// The raw observation of each step (before normalization).
    public var observations: [[Double]]
    /// The normalized observation x the network saw at each step (Float32).
    public var normalized: [[Float]]
    /// `spikes[k][t]`: the neurons (ascending) that fired in substep t of environment step k.
    public var spikes: [[[Int]]]
    /// y (before the clip) of each step.
    public var outputs: [[Float]]
    /// The action sent to the environment at each step.
    public var actions: [[Double]]
    /// The reward of each step.
    public var rewards: [Double]

    enum CodingKeys: String, CodingKey {
        case task, neurons, excitatoryNeurons = "excitatory_neurons", substeps, initialMembrane = "initial_membrane"
        case observations, normalized, spikes, outputs, actions, rewards
    }

    /// Runs evaluation episode `episode` of `policy` (the seeds of `satr eval --seed seed`: episode
    /// e of `evaluationEpisodeSeeds(runSeed: seed, generation: 0, episode: e)`) for at most
    /// `maxSteps` steps, recording every substep's spikes. The episode is the one `satr eval` runs
    /// (same network arithmetic, same seeds), cut at `maxSteps`.
    ///
    /// - Throws: `PolicyError` for a dense policy; environment errors.
    public static func record(
        policy: PolicyFile, seed: UInt64, episode: Int = 0, maxSteps: Int, options: EnvironmentOptions? = nil
    ) throws -> NetworkTrace {
        precondition(maxSteps >= 1)
        let shape = try policy.networkShape()
        let (spec, options) = try policy.evaluationSetting(options: options ?? policy.environmentOptions)
        var network = BitsetNetwork(shape: shape)
        network.load(connectivity: try policy.connectivityWords())
        let seeds = evaluationEpisodeSeeds(runSeed: seed, generation: 0, episode: episode)
        let membrane = shape.initialMembrane(seed: seeds.networkSeed, generation: 0, member: 0)
        network.reset(initialMembrane: membrane)
        var env = try TaskRegistry.make(id: policy.task, options: options)
        var observation = [Double](repeating: 0, count: spec.observationSize)
        try observation.withUnsafeMutableBufferPointer { try env.reset(seed: seeds.resetSeed, observation: $0) }
        let map = ActionMap(low: spec.actionLow, high: spec.actionHigh)
        let normalization = policy.normalization
        let w = shape.wordsPerRow, t = NetworkConstants.substepsPerEnvStep
        var record = [UInt64](repeating: 0, count: network.substepSpikeWordCount)
        var trace = NetworkTrace(
            task: policy.task, neurons: shape.neurons, excitatoryNeurons: shape.excitatoryNeurons, substeps: t,
            initialMembrane: membrane, observations: [], normalized: [], spikes: [], outputs: [], actions: [], rewards: [])
        var y = [Float](repeating: 0, count: shape.actionSize)
        var action = [Double](repeating: 0, count: spec.actionSize)
        for _ in 0..<maxSteps {
            let x = normalization.apply(observation)
            trace.observations.append(observation)
            trace.normalized.append(x)
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    record.withUnsafeMutableBufferPointer { network.step(observation: xb, output: yb, substepSpikes: $0) }
                }
            }
            trace.spikes.append((0..<t).map { s in
                var fired: [Int] = []
                for word in 0..<w {
                    var bits = record[s * w + word]
                    while bits != 0 {
                        fired.append(word * 64 + bits.trailingZeroBitCount)
                        bits &= bits - 1
                    }
                }
                return fired
            })
            y.withUnsafeBufferPointer { yb in action.withUnsafeMutableBufferPointer { map.apply(yb, into: $0) } }
            trace.outputs.append(y)
            trace.actions.append(action)
            let result = try action.withUnsafeBufferPointer { a in
                try observation.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
            }
            trace.rewards.append(result.reward)
            if result.terminated || result.truncated { break }
        }
        return trace
    }

    /// Steps recorded.
    public var steps: Int { outputs.count }
}

import XCTest
import Environments
import Randomness
import Spiking
@testable import Training

/// `satr eval`'s operation counts and energy report, from the evaluation path, against a direct
/// count from the spike train of an independent replay of the same episodes.
final class ActivityReportTests: XCTestCase {
    static func randomPolicy(task: String, neurons: Int, seed: UInt64) throws -> (PolicyFile, NetworkShape) {
        let spec = try TaskRegistry.spec(id: task)
        let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: neurons)
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .networkInitialState)
        var words = [UInt64](repeating: 0, count: shape.wordsPerMember)
        for p in 0..<shape.parameterCount where stream.nextUniform(0, 1) < 0.5 { words[p >> 6] |= 1 << UInt64(p & 63) }
        let policy = PolicyFile(
            spec: spec, shape: shape, words: words,
            normalization: FrozenNormalization(mean: [Double](repeating: 0, count: spec.observationSize),
                                               standardDeviation: [Double](repeating: 0.2, count: spec.observationSize)),
            training: .init(algo: "satr", seed: seed, generation: 0, envSteps: 0, evalReturnMean: nil))
        return (policy, shape)
    }

    func testEvaluationCountsEqualADirectCountFromTheReplayedSpikeTrain() throws {
        let (policy, shape) = try Self.randomPolicy(task: "InvertedPendulum-v5", neurons: 64, seed: 5)
        let episodes = 3, seed: UInt64 = 11
        let counted = try PolicyEvaluation.evaluateWithActivity(policy: policy, episodes: episodes, seed: seed, threads: 2)
        let plain = try PolicyEvaluation.evaluate(policy: policy, episodes: episodes, seed: seed, threads: 1)
        XCTAssertEqual(counted.summary, plain, "counting changes no episode")

        // Replay every episode with the Float32 reference network, recording its substep spikes.
        let spec = try TaskRegistry.spec(id: policy.task)
        var reference = ReferenceNetwork(shape: shape)
        reference.load(connectivity: try policy.connectivityWords())
        reference.recordsSubstepSpikes = true
        let n = shape.neurons
        let fanout = (0..<n).map { i in (0..<n).reduce(0) { $0 + Int(reference.recurrentWeights[i * n + $1]) } }
        let map = ActionMap(low: spec.actionLow, high: spec.actionHigh)
        var directRecurrent = 0, directSpikes = 0, steps = 0
        for e in 0..<episodes {
            let seeds = evaluationEpisodeSeeds(runSeed: seed, generation: 0, episode: e)
            reference.reset(initialMembrane: shape.initialMembrane(seed: seeds.networkSeed, generation: 0, member: 0))
            var env = try TaskRegistry.make(id: policy.task, options: policy.environmentOptions)
            var observation = [Double](repeating: 0, count: spec.observationSize)
            try observation.withUnsafeMutableBufferPointer { try env.reset(seed: seeds.resetSeed, observation: $0) }
            var previous = [Float](repeating: 0, count: n)
            var action = [Double](repeating: 0, count: spec.actionSize)
            while true {
                let y = reference.step(observation: policy.normalization.apply(observation))
                for spikes in reference.lastStepSubstepSpikes {
                    for i in 0..<n where previous[i] != 0 { directRecurrent += fanout[i] }
                    directSpikes += spikes.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
                    previous = spikes
                }
                y.withUnsafeBufferPointer { yb in action.withUnsafeMutableBufferPointer { map.apply(yb, into: $0) } }
                let result = try action.withUnsafeBufferPointer { a in
                    try observation.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
                }
                steps += 1
                if result.terminated || result.truncated { break }
            }
        }
        XCTAssertEqual(steps, plain.lengths.reduce(0, +))
        XCTAssertGreaterThan(directSpikes, 0)
        XCTAssertEqual(counted.operations.recurrentAccumulates, directRecurrent)
        XCTAssertEqual(counted.operations.spikes, directSpikes)
        XCTAssertEqual(counted.operations.envSteps, steps)

        let report = EnergyReport(shape: shape, operations: counted.operations)
        XCTAssertEqual(report.synapticAccumulatesPerStep,
                       Double(counted.operations.recurrentAccumulates + counted.operations.inputAccumulates + counted.operations.readoutAccumulates) / Double(steps))
        XCTAssertEqual(report.synapticEnergyPicojoules,
                       0.9 * report.synapticAccumulatesPerStep + 4.6 * Double(n + spec.actionSize), accuracy: 1e-6)
        // D = 4, N = 64, A = 1: 256 + 4096 + 64 MACs; LSTM-256: 4*256*260 + 768 + 256*64 + 64*64 + 64.
        XCTAssertEqual(report.denseANNMACs, 4_416)
        XCTAssertEqual(report.lstmMACs, 266_240 + 768 + 16_384 + 4_096 + 64)
    }

    func testDensePoliciesAreRefusedWithAMessage() throws {
        let spec = try TaskRegistry.spec(id: "InvertedPendulum-v5")
        let shape = try DenseSNNShape(observationSize: 4, actionSize: 1, neurons: 64)
        let policy = PolicyFile(
            spec: spec, shape: shape, weights: [Float](repeating: 0, count: shape.parameterCount),
            normalization: .identity(size: 4), training: .init(algo: "es", seed: 0, generation: 0, envSteps: 0, evalReturnMean: nil))
        XCTAssertThrowsError(try PolicyEvaluation.evaluateWithActivity(policy: policy, episodes: 1, seed: 0, threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("bitset"), "\(error)")
        }
    }
}

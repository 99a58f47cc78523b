import XCTest
import Randomness
@testable import Spiking

/// The operation counts of `SynapticOperationCounter` against a direct count from the spike train
/// that the Float32 reference records, on tiny networks.
final class SynapticOperationTests: XCTestCase {
    /// Random connection bits with probability `density`, from a counter stream.
    static func randomConnectivity(_ shape: NetworkShape, density: Double, seed: UInt64) -> [UInt64] {
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .networkInitialState)
        var words = [UInt64](repeating: 0, count: shape.wordsPerMember)
        for p in 0..<shape.parameterCount where stream.nextUniform(0, 1) < density {
            words[p >> 6] |= 1 << UInt64(p & 63)
        }
        return words
    }

    func testCountsEqualADirectCountFromTheReferenceSpikeTrain() throws {
        // N = 192: N_E = 96 ends inside the second word, so the excitatory split is exercised.
        for (neurons, seed) in [(64, UInt64(3)), (192, UInt64(7))] {
            let shape = try NetworkShape(observationSize: 3, actionSize: 2, neurons: neurons)
            let words = Self.randomConnectivity(shape, density: 0.5, seed: seed)
            var bitset = BitsetNetwork(shape: shape)
            bitset.load(connectivity: words)
            var reference = ReferenceNetwork(shape: shape)
            reference.load(connectivity: words)
            reference.recordsSubstepSpikes = true
            var plain = BitsetNetwork(shape: shape)
            plain.load(connectivity: words)
            var counter = SynapticOperationCounter(shape: shape, connectivity: words)

            let n = shape.neurons, d = shape.observationSize, w = shape.wordsPerRow, t = NetworkConstants.substepsPerEnvStep
            // Direct counts from the dense 0/1 matrices.
            let fanout = (0..<n).map { i in (0..<n).reduce(0) { $0 + Int(reference.recurrentWeights[i * n + $1]) } }
            var inputTerms = 0
            for k in 0..<d { for j in 0..<n where reference.inputWeights[k * n + j] != reference.inputWeights[(d + k) * n + j] { inputTerms += 1 } }
            let readoutTerms = Int(reference.readoutWeights.reduce(0, +))

            var directRecurrent = 0, directSpikes = 0, directExcitatory = 0, steps = 0
            var record = [UInt64](repeating: 0, count: bitset.substepSpikeWordCount)
            var stream = CounterStream(seed: seed, generation: 1, member: 0, purpose: .networkInitialState)
            for episode in 0..<2 {
                let membrane = shape.initialMembrane(seed: seed, generation: episode, member: 0)
                bitset.reset(initialMembrane: membrane)
                plain.reset(initialMembrane: membrane)
                reference.reset(initialMembrane: membrane)
                counter.startEpisode()
                var previous = [Float](repeating: 0, count: n)
                for _ in 0..<25 {
                    let x = (0..<d).map { _ in Float(stream.nextUniform(-3, 3)) }
                    var y = [Float](repeating: 0, count: shape.actionSize)
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            record.withUnsafeMutableBufferPointer { bitset.step(observation: xb, output: yb, substepSpikes: $0) }
                        }
                    }
                    counter.record(substepSpikes: record.withUnsafeBufferPointer { $0 })
                    let yReference = reference.step(observation: x)
                    XCTAssertEqual(y, yReference, "the recording step computes the reference's y")
                    XCTAssertEqual(y, plain.step(observation: x), "the recording step computes the plain step's y")
                    XCTAssertEqual(bitset.lastStepSpikeCount, reference.lastStepSpikeCount)
                    XCTAssertEqual(reference.lastStepSubstepSpikes.count, t)
                    for (s, spikes) in reference.lastStepSubstepSpikes.enumerated() {
                        for i in 0..<n {
                            let recorded = (record[s * w + (i >> 6)] >> UInt64(i & 63)) & 1 == 1
                            XCTAssertEqual(recorded, spikes[i] != 0, "neuron \(i) substep \(s)")
                        }
                        // Spikes of the previous substep are delivered now: each over its K_h row.
                        for i in 0..<n where previous[i] != 0 { directRecurrent += fanout[i] }
                        for i in 0..<n where spikes[i] != 0 {
                            directSpikes += 1
                            if i < shape.excitatoryNeurons { directExcitatory += 1 }
                        }
                        previous = spikes
                    }
                    steps += 1
                }
            }
            let c = counter.count
            XCTAssertGreaterThan(directSpikes, 100, "the test network must spike")
            XCTAssertGreaterThan(directExcitatory, 0)
            XCTAssertLessThan(directExcitatory, directSpikes)
            XCTAssertEqual(c.recurrentAccumulates, directRecurrent)
            XCTAssertEqual(c.spikes, directSpikes)
            XCTAssertEqual(c.excitatorySpikes, directExcitatory)
            XCTAssertEqual(c.envSteps, steps)
            XCTAssertEqual(c.substeps, steps * t)
            XCTAssertEqual(c.inputAccumulates, steps * inputTerms)
            XCTAssertEqual(c.readoutAccumulates, steps * readoutTerms)
            XCTAssertEqual(c.scalingMultiplies, steps * (n + shape.actionSize))
            XCTAssertEqual(c.neuronUpdateMultiplyAccumulates, steps * 5 * n * t)
        }
    }
}

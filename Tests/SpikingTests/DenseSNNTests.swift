import XCTest
import Randomness
@testable import Spiking

final class DenseSNNTests: XCTestCase {
    func testShapeLayoutAndScales() throws {
        let s = try DenseSNNShape(observationSize: 11, actionSize: 3, neurons: 256)
        XCTAssertEqual(s.parameterCount, 11 * 256 + 256 * 256 + 256 * 3)
        XCTAssertEqual(s.inputWeightIndex(input: 2, post: 5), 2 * 256 + 5)
        XCTAssertEqual(s.recurrentWeightIndex(pre: 3, post: 4), 11 * 256 + 3 * 256 + 4)
        XCTAssertEqual(s.readoutWeightIndex(neuron: 255, action: 2), s.parameterCount - 1)
        XCTAssertEqual(s.recurrentScale, 0.1767767, accuracy: 1e-7)
        XCTAssertEqual(s.readoutScale, 0.3125)
        XCTAssertEqual(s.inputScale, Float((2.0 / 11).squareRoot()), accuracy: 1e-7)
        XCTAssertThrowsError(try DenseSNNShape(observationSize: 11, actionSize: 3, neurons: 0))
        XCTAssertNoThrow(try DenseSNNShape(observationSize: 11, actionSize: 3, neurons: 100))
    }

    func testZeroWeightsOnlyDecay() throws {
        try forEveryKernelLevel {
            let s = try DenseSNNShape(observationSize: 4, actionSize: 2, neurons: 64)
            var net = DenseSNN(shape: s)
            let v0 = s.initialMembrane(seed: 1, generation: 0, member: 0)
            net.reset(initialMembrane: v0)
            let y = net.step(observation: [1, 2, 3, 4])
            XCTAssertEqual(y, [0, 0])
            XCTAssertEqual(net.lastStepSpikeCount, 0)
            for j in 0..<64 {
                var v = v0[j]
                for _ in 0..<33 { v = NetworkConstants.alphaMembrane * v + (1 - NetworkConstants.alphaMembrane) * 0 }
                XCTAssertEqual(net.membrane[j], v, accuracy: 1e-7)
            }
        }
    }

    /// The SIMD kernel against a scalar transcription of docs/NETWORK.md's DenseSNN: the state is
    /// bit-identical (every sum runs over rows in order and nothing is fused); y agrees to
    /// Float32 rounding (the readout dot product is summed in 16 lanes).
    func testAgreesWithAScalarTranscription() throws {
        try forEveryKernelLevel {
            for (n, d, a) in [(256, 11, 3), (100, 5, 2), (64, 17, 6)] {
                let s = try DenseSNNShape(observationSize: d, actionSize: a, neurons: n)
                var stream = CounterStream(seed: 5, generation: 0, member: 0, purpose: .auxiliary)
                let w = (0..<s.parameterCount).map { _ in Float(stream.nextNormal()) }
                var net = DenseSNN(shape: s)
                net.load(weights: w)
                var v = s.initialMembrane(seed: 5, generation: 0, member: 1)
                net.reset(initialMembrane: v)
                var iSyn = [Float](repeating: 0, count: n), r = iSyn, spikes = iSyn
                var totalSpikes = 0
                for _ in 0..<30 {
                    let x = (0..<d).map { _ in Float(stream.nextUniform(-2, 2)) }
                    var iIn = [Float](repeating: 0, count: n)
                    for j in 0..<n {
                        var sum: Float = 0
                        for k in 0..<d { sum = sum + x[k] * w[s.inputWeightIndex(input: k, post: j)] }
                        iIn[j] = s.inputScale * sum
                    }
                    var count = 0
                    for _ in 0..<33 {
                        var rec = [Float](repeating: 0, count: n)
                        for j in 0..<n {
                            var sum: Float = 0
                            for i in 0..<n { sum = sum + spikes[i] * w[s.recurrentWeightIndex(pre: i, post: j)] }
                            rec[j] = sum
                        }
                        for j in 0..<n {
                            iSyn[j] = NetworkConstants.alphaSynapse * iSyn[j] + s.recurrentScale * rec[j]
                            v[j] = NetworkConstants.alphaMembrane * v[j]
                                + (1 - NetworkConstants.alphaMembrane) * (NetworkConstants.resetVoltage + iSyn[j] + iIn[j])
                            let fired = v[j] > NetworkConstants.thresholdVoltage
                            if fired { v[j] = NetworkConstants.resetVoltage; count += 1 }
                            spikes[j] = fired ? 1 : 0
                            r[j] = NetworkConstants.alphaOut * r[j] + (1 - NetworkConstants.alphaOut) * spikes[j] / NetworkConstants.dt
                        }
                    }
                    var y = [Float](repeating: 0, count: a)
                    for k in 0..<a {
                        var sum: Float = 0
                        for j in 0..<n { sum = sum + r[j] * w[s.readoutWeightIndex(neuron: j, action: k)] }
                        y[k] = s.readoutScale * sum
                    }
                    let yNet = net.step(observation: x)
                    XCTAssertEqual(net.lastStepSpikeCount, count)
                    XCTAssertEqual(net.membrane, v)
                    XCTAssertEqual(net.synapticCurrent, iSyn)
                    XCTAssertEqual(net.rateTrace, r)
                    XCTAssertEqual(net.spikes, spikes)
                    for k in 0..<a { XCTAssertEqual(yNet[k], y[k], accuracy: 1e-5 * max(1, abs(y[k]))) }
                    totalSpikes += count
                }
                XCTAssertGreaterThan(totalSpikes, 0, "\(s) never spiked: the test would be vacuous")
            }
        }
    }
}

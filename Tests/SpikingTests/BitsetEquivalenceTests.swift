import XCTest
import Randomness
@testable import Spiking

/// The bitset kernel must equal the dense Float32 reference bit for bit: every y, every spike and
/// every state variable after every environment step.
final class BitsetEquivalenceTests: XCTestCase {
    /// Random connectivity with `density` of the bits set (uniform draws from an auxiliary stream).
    static func randomConnectivity(_ shape: NetworkShape, density: Float, seed: UInt64) -> [UInt64] {
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .auxiliary)
        var words = [UInt64](repeating: 0, count: shape.wordsPerMember)
        for p in 0..<shape.parameterCount where stream.nextUniformFloat() < density {
            words[p >> 6] |= 1 << UInt64(p & 63)
        }
        return words
    }

    static func observations(_ d: Int, steps: Int, seed: UInt64) -> [[Float]] {
        var stream = CounterStream(seed: seed, generation: 1, member: 0, purpose: .auxiliary)
        return (0..<steps).map { _ in (0..<d).map { _ in Float(stream.nextUniform(-2.5, 2.5)) } }
    }

    static func bitPatterns(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    /// Runs both implementations side by side and compares everything; returns the total spikes.
    @discardableResult
    func assertIdentical(
        _ shape: NetworkShape, connectivity: [UInt64], steps: Int = 50, seed: UInt64,
        file: StaticString = #filePath, line: UInt = #line
    ) -> Int {
        var reference = ReferenceNetwork(shape: shape)
        var bitset = BitsetNetwork(shape: shape)
        reference.load(connectivity: connectivity)
        bitset.load(connectivity: connectivity)
        let v0 = shape.initialMembrane(seed: seed, generation: 3, member: 5)
        reference.reset(initialMembrane: v0)
        bitset.reset(initialMembrane: v0)
        var total = 0
        for (step, x) in Self.observations(shape.observationSize, steps: steps, seed: seed).enumerated() {
            let yRef = reference.step(observation: x)
            let yBit = bitset.step(observation: x)
            let context = "\(shape) step \(step)"
            guard Self.bitPatterns(yRef) == Self.bitPatterns(yBit) else {
                XCTFail("y differs at \(context): \(yRef) vs \(yBit)", file: file, line: line); return total
            }
            guard reference.lastStepSpikeCount == bitset.lastStepSpikeCount,
                  reference.spikes == bitset.spikes,
                  Self.bitPatterns(reference.membrane) == Self.bitPatterns(bitset.membrane),
                  Self.bitPatterns(reference.synapticCurrent) == Self.bitPatterns(bitset.synapticCurrent),
                  Self.bitPatterns(reference.rateTrace) == Self.bitPatterns(bitset.rateTrace),
                  Self.bitPatterns(reference.inputCurrent) == Self.bitPatterns(bitset.inputCurrent)
            else {
                XCTFail("state differs at \(context)", file: file, line: line); return total
            }
            total += bitset.lastStepSpikeCount
        }
        return total
    }

    func testRandomConnectivityAcrossSizesAndDensities() throws {
        try forEveryKernelLevel {
            let cases: [(n: Int, d: Int, a: Int, densities: [Float])] = [
                (64, 1, 1, [0.01, 0.2, 0.5, 0.8, 0.99]),
                (64, 5, 2, [0.05, 0.35, 0.65, 0.95]),
                (128, 3, 4, [0.01, 0.3, 0.5, 0.7, 0.99]),
                (128, 17, 6, [0.1, 0.5, 0.9]),
                (256, 11, 3, [0.01, 0.25, 0.5, 0.75, 0.99]),
                (512, 7, 5, [0.02, 0.5, 0.98]),
            ]
            var seed: UInt64 = 100
            for c in cases {
                let shape = try NetworkShape(observationSize: c.d, actionSize: c.a, neurons: c.n)
                for density in c.densities {
                    seed += 1
                    let spikes = assertIdentical(shape, connectivity: Self.randomConnectivity(shape, density: density, seed: seed), seed: seed)
                    if density >= 0.2 && density <= 0.8 {
                        XCTAssertGreaterThan(spikes, 0, "\(shape) density \(density) never spiked: the test would be vacuous")
                    }
                }
            }
        }
    }

    func testAllZeroAndAllOneConnectivity() throws {
        try forEveryKernelLevel {
            for (n, d, a) in [(64, 2, 1), (128, 11, 3), (256, 17, 6), (512, 4, 2)] {
                let shape = try NetworkShape(observationSize: d, actionSize: a, neurons: n)
                assertIdentical(shape, connectivity: [UInt64](repeating: 0, count: shape.wordsPerMember), seed: 7)
                assertIdentical(shape, connectivity: [UInt64](repeating: ~0, count: shape.wordsPerMember), seed: 8)
            }
        }
    }

    /// Without input or connections, v decays by alpha_m per substep; IEEE arithmetic alone would
    /// leave it stuck on small subnormal values (k * 2^-149 * alpha_m rounds back to itself for
    /// small k). `NetworkConstants.flushSubnormal` takes every state value below 2^-126 to +0, in
    /// both implementations, so after 100 env steps (3300 substeps) every membrane is exactly 0.
    func testSilentNeuronsDecayToExactZeroWithoutSubnormals() throws {
        try forEveryKernelLevel {
            let shape = try NetworkShape(observationSize: 3, actionSize: 2, neurons: 128)
            let silent = [UInt64](repeating: 0, count: shape.wordsPerMember)
            var reference = ReferenceNetwork(shape: shape)
            var bitset = BitsetNetwork(shape: shape)
            reference.load(connectivity: silent)
            bitset.load(connectivity: silent)
            let v0 = shape.initialMembrane(seed: 4, generation: 0, member: 0)
            reference.reset(initialMembrane: v0)
            bitset.reset(initialMembrane: v0)
            let x: [Float] = [0.5, -1, 2]
            var sawSubnormalRange = false
            for _ in 0..<100 {
                _ = reference.step(observation: x)
                _ = bitset.step(observation: x)
                XCTAssertEqual(Self.bitPatterns(reference.membrane), Self.bitPatterns(bitset.membrane))
                for v in bitset.membrane + reference.membrane {
                    XCTAssertFalse(v.isSubnormal, "membrane value \(v) is subnormal")
                    if v != 0 && v < 1e-30 { sawSubnormalRange = true }
                }
            }
            XCTAssertTrue(sawSubnormalRange, "the decay never came near the subnormal range: the test would be vacuous")
            XCTAssertEqual(bitset.membrane, [Float](repeating: 0, count: shape.neurons))
            XCTAssertEqual(reference.membrane, [Float](repeating: 0, count: shape.neurons))
        }
    }

    func testHumanoidSize() throws {
        try forEveryKernelLevel {
            let shape = try NetworkShape(observationSize: 348, actionSize: 17, neurons: 256)
            let spikes = assertIdentical(shape, connectivity: Self.randomConnectivity(shape, density: 0.5, seed: 9), seed: 9)
            XCTAssertGreaterThan(spikes, 0)
        }
    }

    func testPopulationEqualsSingleMembers() throws {
        try forEveryKernelLevel {
            let shape = try NetworkShape(observationSize: 5, actionSize: 3, neurons: 128)
            let members = 4
            var all: [UInt64] = []
            var membrane: [Float] = []
            for m in 0..<members {
                all += Self.randomConnectivity(shape, density: 0.2 + 0.2 * Float(m), seed: UInt64(40 + m))
                membrane += shape.initialMembrane(seed: 1, generation: 0, member: m)
            }
            var population = BitsetPopulation(shape: shape, members: members)
            all.withUnsafeBufferPointer { population.load(connectivity: $0) }
            membrane.withUnsafeBufferPointer { population.reset(initialMembrane: $0) }
            var singles = (0..<members).map { m -> BitsetNetwork in
                var net = BitsetNetwork(shape: shape)
                net.load(connectivity: Array(all[(m * shape.wordsPerMember)..<((m + 1) * shape.wordsPerMember)]))
                net.reset(initialMembrane: Array(membrane[(m * shape.neurons)..<((m + 1) * shape.neurons)]))
                return net
            }
            let xs = Self.observations(members * shape.observationSize, steps: 20, seed: 3)
            for x in xs {
                var y = [Float](repeating: .nan, count: members * shape.actionSize)
                x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { population.step(observations: xb, outputs: $0) } }
                for m in 0..<members {
                    let ySingle = singles[m].step(observation: Array(x[(m * shape.observationSize)..<((m + 1) * shape.observationSize)]))
                    XCTAssertEqual(Self.bitPatterns(ySingle), Self.bitPatterns(Array(y[(m * shape.actionSize)..<((m + 1) * shape.actionSize)])))
                    XCTAssertEqual(Self.bitPatterns(singles[m].membrane), Self.bitPatterns(population.membrane(member: m)))
                    XCTAssertEqual(singles[m].spikes, population.spikes(member: m))
                    XCTAssertEqual(singles[m].lastStepSpikeCount, population.lastStepSpikeCount(member: m))
                }
            }
        }
    }

    func testCopiesAreIndependentValues() throws {
        try forEveryKernelLevel {
            let shape = try NetworkShape(observationSize: 3, actionSize: 2, neurons: 64)
            var a = BitsetNetwork(shape: shape)
            a.load(connectivity: Self.randomConnectivity(shape, density: 0.5, seed: 2))
            a.reset(initialMembrane: shape.initialMembrane(seed: 2, generation: 0, member: 0))
            var b = a
            _ = b.step(observation: [1, -1, 0.5])
            XCTAssertEqual(a.synapticCurrent, [Float](repeating: 0, count: 64), "stepping a copy changed the original")
            XCTAssertNotEqual(a.membrane, b.membrane)
        }
    }
}

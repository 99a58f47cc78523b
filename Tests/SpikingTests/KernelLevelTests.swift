import XCTest
@testable import Spiking

/// Runs `body` once per kernel level this CPU supports (`KernelLevel.withEachSupported`), naming
/// the level in the log: the equivalence tests hold every level to the reference.
/// (An `invokeTest` override cannot do this: swift-corelibs-xctest traps when a test runs twice.)
func forEveryKernelLevel(_ body: () throws -> Void) rethrows {
    try KernelLevel.withEachSupported { print("kernel level \($0)"); try body() }
}

final class KernelLevelTests: XCTestCase {
    func testBaselineIsAlwaysSupportedAndTheActiveLevelIsSupported() {
        XCTAssertTrue(KernelLevel.baseline.isSupported)
        XCTAssertTrue(KernelLevel.active.isSupported)
        XCTAssertTrue(KernelLevel.best.isSupported)
        XCTAssertEqual(KernelLevel.supported.last, KernelLevel.best)
        #if !arch(x86_64)
        XCTAssertEqual(KernelLevel.supported, [.baseline], "other architectures have one level")
        #endif
    }

    func testSelectRefusesAnUnsupportedLevelAndWithRestores() {
        let before = KernelLevel.active
        for level in KernelLevel.allCases where !level.isSupported {
            XCTAssertFalse(KernelLevel.select(level))
            XCTAssertEqual(KernelLevel.active, before)
        }
        for level in KernelLevel.supported {
            XCTAssertEqual(KernelLevel.with(level) { KernelLevel.active }, level)
            XCTAssertEqual(KernelLevel.active, before)
        }
    }

    /// Every level gives the same bits as the baseline level (outputs, spikes, state, spike counts,
    /// the per-substep spike record) over many steps of a population at two sizes.
    func testLevelsAreBitIdentical() throws {
        for (d, n, a) in [(11, 256, 3), (348, 128, 17)] {
            let shape = try NetworkShape(observationSize: d, actionSize: a, neurons: n)
            let members = 3
            var rng = SplitMix(seed: UInt64(d * 1000 + n))
            let connectivity = (0..<(members * shape.wordsPerMember)).map { _ in rng.next() & rng.next() | rng.next() & 0x0101_0101_0101_0101 }
            let membrane = (0..<(members * n)).map { _ in Float(Int(rng.next() % 2000)) / 1000 - 1 }
            let observations = (0..<(40 * members * d)).map { _ in Float(Int(rng.next() % 4001)) / 1000 - 2 }

            func run() -> [[UInt32]] {
                var population = BitsetPopulation(shape: shape, members: members)
                connectivity.withUnsafeBufferPointer { population.load(connectivity: $0) }
                membrane.withUnsafeBufferPointer { population.reset(initialMembrane: $0) }
                var trace: [[UInt32]] = []
                var outputs = [Float](repeating: 0, count: members * a)
                for step in 0..<40 {
                    observations[(step * members * d)..<((step + 1) * members * d)].withUnsafeBufferPointer { x in
                        outputs.withUnsafeMutableBufferPointer { population.step(observations: x, outputs: $0) }
                    }
                    trace.append(outputs.map(\.bitPattern))
                    for m in 0..<members {
                        trace.append((population.membrane(member: m) + population.synapticCurrent(member: m)
                            + population.rateTrace(member: m) + population.spikes(member: m)).map(\.bitPattern))
                        trace.append([UInt32(population.lastStepSpikeCount(member: m))])
                    }
                }
                var single = BitsetNetwork(shape: shape)
                single.load(connectivity: Array(connectivity[0..<shape.wordsPerMember]))
                single.reset(initialMembrane: Array(membrane[0..<n]))
                var record = [UInt64](repeating: 0, count: single.substepSpikeWordCount)
                var y = [Float](repeating: 0, count: a)
                Array(observations[0..<d]).withUnsafeBufferPointer { x in
                    y.withUnsafeMutableBufferPointer { out in
                        record.withUnsafeMutableBufferPointer { single.step(observation: x, output: out, substepSpikes: $0) }
                    }
                }
                trace.append(record.flatMap { [UInt32(truncatingIfNeeded: $0), UInt32(truncatingIfNeeded: $0 >> 32)] })
                trace.append(y.map(\.bitPattern))
                return trace
            }

            let baseline = try XCTUnwrap(KernelLevel.with(.baseline, run))
            XCTAssertTrue(baseline.joined().contains { $0 != 0 }, "the run should do something")
            for level in KernelLevel.supported where level != .baseline {
                XCTAssertEqual(KernelLevel.with(level, run), baseline, "level \(level) differs from baseline (D \(d), N \(n))")
            }
        }
    }
}

/// SplitMix64, for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

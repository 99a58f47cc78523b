import XCTest
import Randomness
@testable import Search
import Spiking

/// Runs `body` once per kernel level this CPU supports (`KernelLevel.withEachSupported`), naming
/// the level in the log: the sampler and statistics tests hold every level to their references.
/// (An `invokeTest` override cannot do this: swift-corelibs-xctest traps when a test runs twice.)
func forEveryKernelLevel(_ body: () throws -> Void) rethrows {
    try KernelLevel.withEachSupported { print("kernel level \($0)"); try body() }
}

final class KernelLevelSearchTests: XCTestCase {
    /// Sampling (plain and mirrored, dimensions with a partial last group and word) and the
    /// statistics give the same bits on every level as on the baseline level.
    func testSamplingAndStatisticsAreBitIdenticalAcrossLevels() throws {
        for d in [1, 31, 32, 33, 64, 100, 4097, 71936] {
            let probabilities: [Double] = (0..<d).map { (i: Int) -> Double in
                let k = Double((i &* 2_654_435_761) % 1000)
                return 0.02 + 0.96 * k / 1000
            }
            let distribution = BernoulliDistribution(probabilities: probabilities)
            let weights: [Int64] = (0..<10).map { Int64(($0 * 7) % 19) - 9 }

            func run() -> ([[UInt64]], [Int64]) {
                var samples: [[UInt64]] = []
                for member in 0..<6 {
                    for mirrored in [false, true] {
                        samples.append(distribution.sample(member: member, generation: 3, seed: 0xDEAD_BEEF, mirrored: mirrored))
                    }
                }
                let statistics = BitStatistics.compute(
                    weights: weights, distribution: distribution, generation: 5, seed: 42, mirrored: true, threads: 2)
                return (samples, statistics.sums)
            }

            let baseline = try XCTUnwrap(KernelLevel.with(.baseline, run))
            for member in 0..<6 {
                XCTAssertEqual(baseline.0[2 * member], distribution.referenceSample(member: member, generation: 3, seed: 0xDEAD_BEEF))
            }
            for level in KernelLevel.supported where level != .baseline {
                let other = try XCTUnwrap(KernelLevel.with(level, run))
                XCTAssertEqual(other.0, baseline.0, "samples differ on level \(level), d = \(d)")
                XCTAssertEqual(other.1, baseline.1, "statistics differ on level \(level), d = \(d)")
            }
        }
    }
}

import Foundation
import XCTest
@testable import Search

/// SATR's `blockwise` option (docs/SEARCH.md, "Block-wise trust regions") and the state formats
/// of earlier versions.
final class SATRVariantTests: XCTestCase {
    /// States and hyperparameters written before blocks existed (one `signalAverage`), and those
    /// written while the removed pooling existed (`poolWhileStill` false, per-block counts),
    /// decode unchanged; a state that pooled is refused.
    func testStatesOfEarlierFormatsDecode() throws {
        var satr = SATRStrategy(dimension: 300, populationSize: 16, seed: 2)
        SyntheticRun.run(&satr, problem: LinearBitProblem.pureNoise(dimension: 300, seed: 2), generations: 3)
        let current = try JSONSerialization.jsonObject(with: JSONEncoder().encode(satr.state)) as! [String: Any]
        XCTAssertNil(current["signalCounts"], "the pooling counts are no longer written")
        var tree = current
        tree["signalAverage"] = (tree["signalAverages"] as! NSArray)[0]
        for key in ["blockSizes", "signalAverages"] { tree[key] = nil }
        var h = tree["hyperparameters"] as! [String: Any]
        h["blockwise"] = nil
        tree["hyperparameters"] = h
        let beforeBlocks = try JSONDecoder().decode(SATRStrategy.State.self, from: JSONSerialization.data(withJSONObject: tree))
        XCTAssertEqual(beforeBlocks.blockSizes, [300])
        XCTAssertTrue(beforeBlocks == satr.state, "the decoded state differs from the encoded one")

        var pooling = current
        pooling["signalCounts"] = [9.0]
        pooling["directionCounts"] = [0.0]
        h = pooling["hyperparameters"] as! [String: Any]
        h["poolWhileStill"] = false
        pooling["hyperparameters"] = h
        let whilePooling = try JSONDecoder().decode(SATRStrategy.State.self, from: JSONSerialization.data(withJSONObject: pooling))
        XCTAssertTrue(whilePooling == satr.state, "a state written while pooling existed, pooling off, decodes to the same state")
        h["poolWhileStill"] = true
        pooling["hyperparameters"] = h
        XCTAssertThrowsError(try JSONDecoder().decode(SATRStrategy.State.self, from: JSONSerialization.data(withJSONObject: pooling))) {
            XCTAssertTrue("\($0)".contains("pool_while_still"), "\($0)")
        }
    }

    /// A damaged state whose blocks do not partition the bits is refused.
    func testStateWithBadBlocksIsRefused() throws {
        let satr = SATRStrategy(dimension: 300, populationSize: 16, seed: 2)
        var tree = try JSONSerialization.jsonObject(with: JSONEncoder().encode(satr.state)) as! [String: Any]
        tree["blockSizes"] = [100, 100]
        XCTAssertThrowsError(try JSONDecoder().decode(SATRStrategy.State.self, from: JSONSerialization.data(withJSONObject: tree))) {
            XCTAssertTrue("\($0)".contains("partition"), "\($0)")
        }
    }

    /// Block-wise regions with a single block, or `blockwise` off, follow the one-region rule
    /// bit for bit.
    func testOneBlockIsTheWholeRegion() {
        let problem = LinearBitProblem.prototype(noisy: false, seed: 3)
        let d = problem.dimension
        for estimator in SignalEstimator.allCases {
            let betaD = estimator == .evolutionPath ? 0 : 0.9
            var h = SATRStrategy.Hyperparameters(trustRadius: 0.01, etaMax: 5, signalEstimator: estimator, directionMomentum: betaD)
            var whole = SATRStrategy(dimension: d, populationSize: 64, seed: 3, hyperparameters: h)
            var off = SATRStrategy(dimension: d, populationSize: 64, seed: 3, hyperparameters: h, blocks: [d / 2, d - d / 2])
            h.blockwise = true
            var one = SATRStrategy(dimension: d, populationSize: 64, seed: 3, hyperparameters: h, blocks: [d])
            SyntheticRun.run(&whole, problem: problem, generations: 20)
            SyntheticRun.run(&off, problem: problem, generations: 20)
            SyntheticRun.run(&one, problem: problem, generations: 20)
            XCTAssertTrue(off.distribution.probabilities == whole.distribution.probabilities, estimator.rawValue)
            XCTAssertTrue(one.distribution.probabilities == whole.distribution.probabilities, estimator.rawValue)
            let moved = whole.distribution.probabilities.filter { $0 != 0.5 }.count
            XCTAssertGreaterThan(moved, 0, "\(estimator.rawValue): no bit moved in 20 generations")
        }
    }

    /// With the signal confined to a small block beside a large block of irrelevant bits, the
    /// block-wise regions put the budget where the signal is: the small block's share of the
    /// movement is larger than with one region over both, and every step stays within the summed
    /// budget.
    func testBlockwiseRegionsFollowTheBlockWithTheSignal() {
        let small = 1024, large = 15_360, d = small + large, m = 64
        let problem = LinearBitProblem(
            dimension: d, relevantBits: Array(0..<128), weights: (0..<128).map { 1 + Double($0 % 9) }, noiseSD: 20, seed: 6)
        func run(_ blockwise: Bool) -> (small: Double, large: Double, overBudget: Int) {
            var h = SATRStrategy.Hyperparameters(trustRadius: 0.01, etaMax: 5, signalEstimator: .directionCoherence, directionMomentum: 0.9)
            h.blockwise = blockwise
            var satr = SATRStrategy(dimension: d, populationSize: m, seed: 6, hyperparameters: h, blocks: [small, large])
            var overBudget = 0
            SyntheticRun.run(&satr, problem: problem, generations: 60) {
                if $0.diagnostics["realizedKL"]! > $0.diagnostics["klBudget"]! * (1 + 1e-12) { overBudget += 1 }
            }
            let rho = satr.distribution.probabilities
            let moved = rho.map { abs($0 - 0.5) }
            return (moved[0..<small].reduce(0, +) / Double(small), moved[small...].reduce(0, +) / Double(large), overBudget)
        }
        let whole = run(false), blocks = run(true)
        let report = "mean |rho - 0.5|: one region small \(whole.small) large \(whole.large); blockwise small \(blocks.small) large \(blocks.large)"
        XCTAssertEqual(blocks.overBudget, 0, report)
        XCTAssertGreaterThan(blocks.small / blocks.large, 1.5 * whole.small / whole.large, report)
    }
}

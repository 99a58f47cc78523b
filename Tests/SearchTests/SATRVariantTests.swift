import Foundation
import XCTest
@testable import Search

/// SATR's `poolWhileStill` and `blockwise` options (docs/SEARCH.md, "Pooling while still", "Block-wise trust regions").
final class SATRVariantTests: XCTestCase {
    static func pooled(_ estimator: SignalEstimator, trustRadius: Double, betaD: Double) -> SATRStrategy.Hyperparameters {
        SATRStrategy.Hyperparameters(
            trustRadius: trustRadius, etaMax: 50, signalEstimator: estimator, directionMomentum: betaD, poolWhileStill: true)
    }

    /// While the distribution never moves (trust radius 0), the pooled direction is the plain mean
    /// of every generation's gradient and the signal average is the plain mean of the raw estimates
    /// behind the EMA's nine zero-valued pseudo-generations.
    func testStillDistributionGivesRunningMeans() {
        let d = 2048, m = 64, generations = 40
        let problem = LinearBitProblem(
            dimension: d, relevantBits: Array(0..<40), weights: (0..<40).map { 1 + Double($0 % 7) }, noiseSD: 3, seed: 4)
        var satr = SATRStrategy(dimension: d, populationSize: m, seed: 4, hyperparameters: Self.pooled(.directionCoherence, trustRadius: 0, betaD: 0.9))
        var gradientSum = [Double](repeating: 0, count: d)
        var rawSum = 0.0
        for _ in 0..<generations {
            SyntheticRun.run(&satr, problem: problem, generations: 1) { rawSum += $0.diagnostics["rawSignal"]! }
            for i in 0..<d { gradientSum[i] += satr.state.previousGradient[i] }
        }
        let prior = SATRStrategy.emaCount(0.9)
        XCTAssertEqual(satr.state.signalCounts[0], prior + Double(generations))
        XCTAssertEqual(satr.state.directionCounts[0], Double(generations))
        XCTAssertEqual(satr.state.signalAverages[0], rawSum / (prior + Double(generations)), accuracy: 1e-12 * max(1, abs(rawSum)))
        var worst = 0.0
        for i in 0..<d { worst = max(worst, abs(satr.state.evolutionPath[i] - gradientSum[i] / Double(generations))) }
        XCTAssertLessThan(worst, 1e-12, "largest difference between the pooled direction and the mean gradient")
        XCTAssertEqual(satr.distribution.probabilities, [Double](repeating: 0.5, count: d))
        XCTAssertGreaterThan(satr.state.signalAverages[0], 0, "40 still generations of a clear linear signal")
    }

    /// Once the distribution moves every generation, the pooled signal average is exactly the EMA
    /// with factor beta, its count sits at its cap, and the direction's count never exceeds its own.
    func testMovingDistributionFallsBackToTheEMA() {
        let d = 512, m = 64
        let problem = LinearBitProblem(
            dimension: d, relevantBits: Array(0..<64), weights: (0..<64).map { Double(1 + $0 % 5) }, noiseSD: 0, seed: 8)
        var satr = SATRStrategy(dimension: d, populationSize: m, seed: 8, hyperparameters: Self.pooled(.lagOneCoherence, trustRadius: 0.05, betaD: 0.8))
        var moved = 0, previousMoved = false
        for _ in 0..<30 {
            let before = satr.state.signalAverages[0]
            var raw = 0.0, eta = 0.0
            SyntheticRun.run(&satr, problem: problem, generations: 1) {
                raw = $0.diagnostics["rawSignal"]!
                eta = $0.diagnostics["stepSize"]!
            }
            if previousMoved {
                XCTAssertEqual(satr.state.signalAverages[0], 0.9 * before + 0.1 * raw, accuracy: 1e-12)
            }
            if eta > 0 {
                moved += 1
                XCTAssertEqual(satr.state.signalCounts[0], SATRStrategy.emaCount(0.9))
                XCTAssertLessThanOrEqual(satr.state.directionCounts[0], SATRStrategy.emaCount(0.8))
            }
            previousMoved = eta > 0
        }
        XCTAssertGreaterThan(moved, 20, "a noise-free linear signal should move SATR in most generations")
    }

    /// States and hyperparameters written before the option existed decode unchanged.
    func testStatesWithoutPoolingFieldsDecode() throws {
        var satr = SATRStrategy(dimension: 300, populationSize: 16, seed: 2)
        SyntheticRun.run(&satr, problem: LinearBitProblem.pureNoise(dimension: 300, seed: 2), generations: 3)
        var tree = try JSONSerialization.jsonObject(with: JSONEncoder().encode(satr.state)) as! [String: Any]
        // The format before blocks and pooling: one `signalAverage`.
        tree["signalAverage"] = (tree["signalAverages"] as! NSArray)[0]
        for key in ["blockSizes", "signalAverages", "signalCounts", "directionCounts"] { tree[key] = nil }
        var h = tree["hyperparameters"] as! [String: Any]
        h["poolWhileStill"] = nil
        h["blockwise"] = nil
        tree["hyperparameters"] = h
        let old = try JSONDecoder().decode(SATRStrategy.State.self, from: JSONSerialization.data(withJSONObject: tree))
        XCTAssertEqual(old.blockSizes, [300])
        XCTAssertEqual(old.signalAverages, satr.state.signalAverages)
        XCTAssertEqual(old.signalCounts, satr.state.signalCounts)
        XCTAssertEqual(old.directionCounts, satr.state.directionCounts)
        XCTAssertTrue(old == satr.state, "the decoded state differs from the encoded one")
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

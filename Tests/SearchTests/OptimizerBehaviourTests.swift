import Foundation
import XCTest
import Randomness
@testable import Search

/// Tests that would catch a wrong optimizer (issue 6, item 5). Sizes follow the numpy prototype of
/// SATR's rule (docs/SEARCH.md, "Synthetic results") where it has one (d = 20,000); every failure
/// message carries the measured numbers.
final class OptimizerBehaviourTests: XCTestCase {
    static let threads = 2

    /// Pure-noise fitness: SATR's signal stays near 0, its realized KL per generation stays small
    /// and exploration (mean rho(1 - rho)) stays above 0.2 after 100 generations, while EC's Adam
    /// collapses toward the bounds.
    func testPureNoiseSATRHoldsStillWhileECCollapses() {
        let problem = LinearBitProblem.pureNoise(dimension: 20_000, seed: 11)
        var ec = ECStrategy(dimension: problem.dimension, populationSize: 128, seed: 11)
        var satr = SATRStrategy(dimension: problem.dimension, populationSize: 128, seed: 11, hyperparameters: .prototype)
        var ecKL = 0.0
        let ecEnd = SyntheticRun.run(&ec, problem: problem, generations: 100, threads: Self.threads) {
            ecKL += $0.diagnostics["realizedKL"]!
        }
        var kl: [Double] = [], signal: [Double] = [], overBudget = 0
        let satrEnd = SyntheticRun.run(&satr, problem: problem, generations: 100, threads: Self.threads) {
            kl.append($0.diagnostics["realizedKL"]!)
            signal.append($0.diagnostics["signalEnergy"]!)
            if $0.diagnostics["realizedKL"]! > $0.diagnostics["klBudget"]! { overBudget += 1 }
        }
        let ecVariance = ecEnd.diagnostics["meanVariance"]!, satrVariance = satrEnd.diagnostics["meanVariance"]!
        let meanKL = kl.reduce(0, +) / 100, maxKL = kl.max()!, meanSignal = signal.reduce(0, +) / 100
        let report = """
            after 100 generations of pure noise (d = 20000, M = 128): \
            EC mean rho(1-rho) \(ecVariance), mean KL/gen \(ecKL / 100); \
            SATR mean rho(1-rho) \(satrVariance), mean KL/gen \(meanKL), max KL \(maxKL), \
            mean S \(meanSignal), max S \(signal.max()!)
            """
        XCTAssertGreaterThan(satrVariance, 0.2, report)
        XCTAssertLessThan(ecVariance, 0.1, report)
        XCTAssertLessThan(meanSignal, 0.15, report)
        XCTAssertLessThan(meanKL, 5, report)
        XCTAssertGreaterThan(ecKL / 100, 10 * meanKL, report)
        XCTAssertEqual(overBudget, 0, "SATR exceeded its KL budget in \(overBudget) generations")
    }

    /// The prototype table: 500 relevant bits of 20,000 with N(0, 1) weights, noise sd 2 sqrt(500),
    /// 150 generations; SATR ends closer to the optimum than EC at M = 64 and 256 (mean over three
    /// seeds), and never exceeds its KL budget.
    func testNoisyLinearSATRBeatsEC() {
        for m in [64, 256] {
            var ecFound: [Double] = [], satrFound: [Double] = [], overBudget = 0
            for seed: UInt64 in [1, 2, 3] {
                let problem = LinearBitProblem.prototype(noisy: true, seed: seed)
                var ec = ECStrategy(dimension: problem.dimension, populationSize: m, seed: seed)
                var satr = SATRStrategy(dimension: problem.dimension, populationSize: m, seed: seed, hyperparameters: .prototype)
                ecFound.append(SyntheticRun.run(&ec, problem: problem, generations: 150, threads: Self.threads).foundOverOptimum)
                satrFound.append(SyntheticRun.run(&satr, problem: problem, generations: 150, threads: Self.threads) {
                    if $0.diagnostics["realizedKL"]! > $0.diagnostics["klBudget"]! { overBudget += 1 }
                }.foundOverOptimum)
            }
            let ecMean = ecFound.reduce(0, +) / 3, satrMean = satrFound.reduce(0, +) / 3
            let report = "noisy linear, M = \(m): EC found/optimum \(ecFound) (mean \(ecMean)), SATR \(satrFound) (mean \(satrMean))"
            print(report)
            XCTAssertGreaterThan(satrMean, ecMean + 0.05, report)
            XCTAssertEqual(overBudget, 0, "SATR exceeded its KL budget in \(overBudget) generations; \(report)")
        }
    }

    /// Noise-free sparse linear problems (100 relevant bits of 20,000 and of 100,000, M = 64):
    /// both optimizers reach the exact optimum (the most likely member is optimal on every
    /// relevant bit) within 200 generations, and SATR never exceeds its KL budget.
    func testSATRAndECReachTheOptimum() {
        let cases: [(d: Int, seed: UInt64)] = [(20_000, 1), (20_000, 2), (20_000, 3), (100_000, 4)]
        for (d, seed) in cases {
            let problem = LinearBitProblem.prototype(dimension: d, relevantCount: 100, noisy: false, seed: seed)
            var ec = ECStrategy(dimension: d, populationSize: 64, seed: seed)
            var satr = SATRStrategy(dimension: d, populationSize: 64, seed: seed, hyperparameters: .prototype)
            let ecEnd = SyntheticRun.run(&ec, problem: problem, generations: 200, threads: Self.threads, stopAtOptimum: true)
            var overBudget = 0
            let satrEnd = SyntheticRun.run(&satr, problem: problem, generations: 200, threads: Self.threads, stopAtOptimum: true) {
                if $0.diagnostics["realizedKL"]! > $0.diagnostics["klBudget"]! { overBudget += 1 }
            }
            let report = """
                d = \(d), seed \(seed): EC optimal \(ecEnd.optimal) at generation \(ecEnd.generation) \
                (found/optimum \(ecEnd.foundOverOptimum)); SATR optimal \(satrEnd.optimal) at generation \
                \(satrEnd.generation) (found/optimum \(satrEnd.foundOverOptimum))
                """
            print(report)
            XCTAssertTrue(ecEnd.optimal, report)
            XCTAssertTrue(satrEnd.optimal, report)
            XCTAssertEqual(overBudget, 0, "SATR exceeded its KL budget in \(overBudget) generations")
        }
    }

    /// The signal estimate is on the absolute scale the spec claims: with the distribution held
    /// still (trust radius 0), every estimator averages near 1 when the fitness is an exact linear
    /// function of five bits (distinct power-of-two weights, so ranks have no ties) and near 0 for
    /// pure noise.
    func testSignalEstimateScale() {
        let d = 64, m = 256
        let linear = LinearBitProblem(
            dimension: d, relevantBits: [3, 17, 30, 41, 60], weights: [1, 2, 4, 8, 16], noiseSD: 0, seed: 1)
        let noise = LinearBitProblem.pureNoise(dimension: d, seed: 1)
        for estimator in SignalEstimator.allCases {
            for (name, problem, low, high) in [("linear", linear, 0.85, 1.1), ("noise", noise, -0.1, 0.1)] {
                let h = SATRStrategy.Hyperparameters(
                    trustRadius: 0, signalEstimator: estimator, directionMomentum: estimator == .directionCoherence ? 0.9 : 0)
                var satr = SATRStrategy(dimension: d, populationSize: m, seed: 5, hyperparameters: h)
                var raw: [Double] = []
                SyntheticRun.run(&satr, problem: problem, generations: 80) { raw.append($0.diagnostics["rawSignal"]!) }
                // Average the raw estimate after 30 generations (the evolution path starts at zero and
                // needs ~1 / (1 - beta) generations to reach its stationary mean; the others are
                // unbiased from the second generation on).
                let tail = raw.dropFirst(30)
                let mean = tail.reduce(0, +) / Double(tail.count)
                XCTAssertTrue(
                    mean > low && mean < high,
                    "\(estimator.rawValue) on \(name): mean raw signal estimate \(mean), expected in (\(low), \(high))")
                XCTAssertEqual(satr.distribution.probabilities, [Double](repeating: 0.5, count: d))
            }
        }
    }

    /// The direction-coherence estimate `<g_t, m_{t-1}>_F` is unbiased under pure noise like lag1,
    /// with a fraction of its spread (about sqrt((1 - beta_d) / (1 + beta_d)) = 0.23 for 0.9).
    func testDirectionCoherenceHasLessNoiseThanLagOne() {
        let d = 4096, m = 64
        let noise = LinearBitProblem.pureNoise(dimension: d, seed: 2)
        func spread(_ estimator: SignalEstimator, _ betaD: Double) -> (mean: Double, sd: Double) {
            let h = SATRStrategy.Hyperparameters(trustRadius: 0, signalEstimator: estimator, directionMomentum: betaD)
            var satr = SATRStrategy(dimension: d, populationSize: m, seed: 7, hyperparameters: h)
            var raw: [Double] = []
            SyntheticRun.run(&satr, problem: noise, generations: 200) { raw.append($0.diagnostics["rawSignal"]!) }
            let tail = Array(raw.dropFirst(30))
            let mean = tail.reduce(0, +) / Double(tail.count)
            return (mean, (tail.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(tail.count)).squareRoot())
        }
        let lag = spread(.lagOneCoherence, 0), direction = spread(.directionCoherence, 0.9)
        XCTAssertLessThan(direction.sd, 0.5 * lag.sd, "lag1 \(lag), direction \(direction)")
        XCTAssertLessThan(abs(direction.mean), 3 * direction.sd / Double(170).squareRoot() + 0.05, "unbiased: \(direction)")
    }

    /// Gaussian ES (antithetic pairs, rank-difference weights, AdamW) improves a smooth objective:
    /// `f(x) = -||x - c||^2` over 200 weights, from the N(0, 1) initialization.
    func testGaussianESImprovesSmoothObjective() {
        let n = 200
        var stream = CounterStream(seed: 3, generation: 0, member: 0, purpose: .auxiliary)
        let target = (0..<n).map { _ in 0.5 * stream.nextNormal() }
        func objective(_ x: [Float]) -> Double {
            var s = 0.0
            for j in 0..<n { let e = Double(x[j]) - target[j]; s -= e * e }
            return s
        }
        var es = GaussianESStrategy(parameterCount: n, populationSize: 32, seed: 3)
        let start = objective(es.mostLikely())
        for _ in 0..<100 {
            let f = (0..<es.populationSize).map { objective(es.sampleMember($0)) }
            _ = es.tell(fitnesses: f, threads: 2)
        }
        let end = objective(es.mostLikely())
        XCTAssertGreaterThan(end, 0.25 * start, "ES objective went from \(start) to \(end) in 100 generations")
    }
}

import Foundation
import XCTest
import Randomness
@testable import Search

final class StatisticsTests: XCTestCase {
    /// Random fitnesses (with ties and a NaN) for a population of `m`.
    func fitnesses(_ m: Int, seed: UInt64) -> [Double] {
        var s = CounterStream(seed: seed, generation: 0, member: 0, purpose: .auxiliary)
        var f = (0..<m).map { _ in (s.nextUniformDouble() * 20).rounded() }
        f[m / 3] = .nan
        return f
    }

    /// Statistics filled in any grouping and order are identical to one sequential pass.
    func testMergeIsGroupingIndependent() {
        forEveryKernelLevel {
            let d = 1000, m = 37
            var stream = CounterStream(seed: 2, generation: 0, member: 0, purpose: .auxiliary)
            let dist = BernoulliDistribution(probabilities: (0..<d).map { _ in stream.nextUniformDouble() })
            let weights = FitnessShaping.integerWeights(fitnesses(m, seed: 1))
            for mirrored in [false, true] {
                let mm = mirrored ? 36 : m
                let w = Array(weights[0..<mm])
                let single = BitStatistics.compute(weights: w, distribution: dist, generation: 4, seed: 8, mirrored: mirrored)
                for threads in [2, 3, 5] {
                    let parallel = BitStatistics.compute(
                        weights: w, distribution: dist, generation: 4, seed: 8, mirrored: mirrored, threads: threads)
                    XCTAssertEqual(parallel, single, "threads \(threads), mirrored \(mirrored)")
                }
                // Odd subsets merged in reverse.
                var evens = BitStatistics(dimension: d, populationSize: mm, mirrored: mirrored)
                var odds = evens
                for k in stride(from: mm - 1, through: 0, by: -1) {
                    let bits = dist.sample(member: k, generation: 4, seed: 8, mirrored: mirrored)
                    bits.withUnsafeBufferPointer {
                        if k % 2 == 0 { evens.add(member: k, weight: w[k], bits: $0) } else { odds.add(member: k, weight: w[k], bits: $0) }
                    }
                }
                odds.merge(evens)
                XCTAssertEqual(odds, single, "odd/even grouping, mirrored \(mirrored)")
            }
        }
    }

    /// The integer-sum formulas give the same g and sample variances as a direct Float64 pass.
    func testIntegerFormulasMatchDirectComputation() {
        forEveryKernelLevel {
            let d = 300, m = 24
            var stream = CounterStream(seed: 5, generation: 0, member: 0, purpose: .auxiliary)
            let dist = BernoulliDistribution(probabilities: (0..<d).map { _ in stream.nextUniformDouble() })
            let f = fitnesses(m, seed: 3)
            let weights = FitnessShaping.integerWeights(f)
            let stats = BitStatistics.compute(weights: weights, distribution: dist, generation: 0, seed: 1, mirrored: false)
            let z = FitnessShaping.standardizedRanks(f)
            let u = FitnessShaping.centeredRanks(f)
            let s = (Double(m) / Double(stats.squaredWeightSum)).squareRoot()
            let bits = (0..<m).map { BitGenome.unpack(dist.sample(member: $0, generation: 0, seed: 1), bits: d) }
            let rho = dist.probabilities
            for i in 0..<d {
                var gz = 0.0, gu = 0.0, c2 = 0.0
                for k in 0..<m {
                    let c = z[k] * (Double(bits[k][i]) - rho[i])
                    gz += c; c2 += c * c
                    gu += u[k] * (Double(bits[k][i]) - rho[i])
                }
                let integerG = s / Double(m) * (Double(stats.weightedCounts[i]) - rho[i] * Double(stats.weightSum))
                XCTAssertEqual(integerG, gz / Double(m), accuracy: 1e-12)
                let integerC2 = s * s * (Double(stats.squaredWeightedCounts[i]) * (1 - 2 * rho[i]) + rho[i] * rho[i] * Double(stats.squaredWeightSum))
                XCTAssertEqual(integerC2, c2, accuracy: 1e-10)
                let ecG = (Double(stats.weightedCounts[i]) - rho[i] * Double(stats.weightSum)) / (2 * Double(m - 1) * Double(m))
                XCTAssertEqual(ecG, gu / Double(m), accuracy: 1e-14)
            }
            XCTAssertEqual(stats.weightSum, 0)
        }
    }

    /// Statistics from the genomes kept during the rollouts (all, some, or those of another
    /// generation, which must be ignored) equal the statistics that regenerate every member.
    func testStoredGenomesGiveIdenticalStatistics() {
        forEveryKernelLevel {
            let d = 1000, m = 12
            var h = SATRStrategy.Hyperparameters()
            h.mirrored = true
            var strategy = SATRStrategy(dimension: d, populationSize: m, seed: 4, hyperparameters: h)
            _ = strategy.tell(fitnesses: fitnesses(m, seed: 7))
            let f = fitnesses(m, seed: 8)
            let reference = strategy.statistics(fitnesses: f, threads: 1)
            let genomes = MemberGenomes<UInt64>(members: m, genomeCount: strategy.genomeCount)
            let sample = strategy.ask(keepingIn: genomes)
            XCTAssertEqual(strategy.statistics(of: sample, fitnesses: f, executor: Executor(threads: 2)), reference, "nothing kept")
            var scratch = [UInt64](repeating: 0, count: strategy.genomeCount)
            for k in stride(from: 1, to: m, by: 3) {
                scratch.withUnsafeMutableBufferPointer { sample.draw(member: k, into: $0) }
            }
            XCTAssertEqual(sample.keptMembers, [1, 4, 7, 10])
            XCTAssertEqual(strategy.statistics(of: sample, fitnesses: f, executor: Executor(threads: 3)), reference, "some members kept")
            for k in 0..<m {
                scratch.withUnsafeMutableBufferPointer { sample.draw(member: k, into: $0) }
            }
            XCTAssertEqual(strategy.statistics(of: sample, fitnesses: f, executor: Executor(threads: 2)), reference, "all members kept")
            // Genomes of another generation are never used: garbage stored under generation 0.
            genomes.begin(generation: 0)
            let garbage = [UInt64](repeating: 0xDEAD_BEEF, count: strategy.genomeCount)
            for k in 0..<m { garbage.withUnsafeBufferPointer { genomes.store(member: k, genome: $0) } }
            XCTAssertNil(sample.kept(member: 0))
            XCTAssertEqual(strategy.statistics(of: sample, fitnesses: f, executor: .serial), reference, "stale store")
            // Shares of several parts merge to the whole: two processes' kept members (even, odd), or
            // three regenerated blocks.
            var halves: BitStatistics? = nil
            for part in 0..<2 {
                let kept = strategy.ask(keepingIn: MemberGenomes<UInt64>(members: m, genomeCount: strategy.genomeCount))
                for k in stride(from: part, to: m, by: 2) { scratch.withUnsafeMutableBufferPointer { kept.draw(member: k, into: $0) } }
                let share = strategy.statistics(of: kept, fitnesses: f, share: StatisticsShare(part: part, of: 2), executor: .serial)
                if halves == nil { halves = share } else { halves?.merge(share) }
            }
            XCTAssertEqual(halves, reference, "kept members of two processes merged")
            halves = strategy.statistics(of: strategy.ask(), fitnesses: f, share: StatisticsShare(part: 0, of: 3), executor: .serial)
            for part in 1..<3 {
                halves?.merge(strategy.statistics(of: strategy.ask(), fitnesses: f, share: StatisticsShare(part: part, of: 3), executor: .serial))
            }
            XCTAssertEqual(halves, reference, "three blocks merged")
        }
    }

    /// Gaussian ES statistics split by parameter blocks merge (or reduce through their sums) to
    /// the whole statistics bit for bit, for any executor.
    func testGaussianESSharesMergeExactly() {
        var es = GaussianESStrategy(parameterCount: 37, populationSize: 8, seed: 3)
        _ = es.tell(fitnesses: fitnesses(8, seed: 1))
        let f = fitnesses(8, seed: 2)
        let whole = es.statistics(of: es.ask(), fitnesses: f, executor: Executor(threads: 3))
        XCTAssertEqual(es.statistics(fitnesses: f, threads: 1), whole)
        let parts = (0..<4).map { es.statistics(of: es.ask(), fitnesses: f, share: StatisticsShare(part: $0, of: 4), executor: Executor(threads: 2)) }
        var merged = parts[2]
        for i in [0, 3, 1] { merged.merge(parts[i]) }
        XCTAssertEqual(merged, whole)
        var sums = [Int64](repeating: 0, count: 38)
        for part in parts { for (i, v) in part.sums.enumerated() { sums[i] &+= v } }
        XCTAssertEqual(parts[0].reduced(sums: sums), whole)
        XCTAssertNil(parts[0].reduced(sums: parts[0].sums), "one share does not cover every parameter")
    }

    /// `PackedDoubles` round-trips every value bit for bit and still reads plain number arrays.
    func testPackedDoublesRoundTripExactly() throws {
        let values: [Double] = [0, -0.0, 1, -1.5, .pi, 1e-310, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF8_0000_0000_1234)]
        let data = try JSONEncoder().encode(PackedDoubles(wrappedValue: values))
        let back = try JSONDecoder().decode(PackedDoubles.self, from: data).wrappedValue
        XCTAssertEqual(back.map(\.bitPattern), values.map(\.bitPattern))
        let plain = try JSONDecoder().decode(PackedDoubles.self, from: Data("[0.25, -3, 1e300]".utf8)).wrappedValue
        XCTAssertEqual(plain, [0.25, -3, 1e300])
        XCTAssertThrowsError(try JSONDecoder().decode(PackedDoubles.self, from: Data("\"AAAA\"".utf8)), "3 bytes are no double")
        XCTAssertThrowsError(try JSONDecoder().decode(PackedDoubles.self, from: Data("\"not base64!\"".utf8)))
    }
}

final class OptimizerStateTests: XCTestCase {
    /// EC's first Adam step moves every rho from 0.5 to 0.35 or 0.65: exactly
    /// `0.5 +- 0.15 |g| / (|g| + 1e-8)` (Adam's epsilon), i.e. within 1e-6 whenever |g| > 1.5e-3
    /// and within 2e-5 for the smallest non-zero |g| = 1 / (2 (M - 1) M); a bit whose integer
    /// gradient sum is exactly zero stays at 0.5.
    func testECFirstStep() {
        forEveryKernelLevel {
            let d = 5000, m = 64
            var ec = ECStrategy(dimension: d, populationSize: m, seed: 7)
            var s = CounterStream(seed: 1, generation: 0, member: 0, purpose: .auxiliary)
            let f = (0..<m).map { _ in s.nextNormal() }
            let stats = ec.statistics(fitnesses: f)
            let g = ec.gradient(from: stats)
            _ = ec.update(with: stats)
            var wrong = 0, zero = 0, within1e6 = 0, worst = 0.0
            for i in 0..<d {
                let p = ec.distribution.probabilities[i]
                if g[i] == 0 { zero += 1; if p != 0.5 { wrong += 1 }; continue }
                let target = g[i] > 0 ? 0.65 : 0.35
                let deviation = abs(p - target)
                worst = max(worst, deviation)
                if deviation <= 1e-6 { within1e6 += 1 }
                let allowed = 0.15 * 1e-8 / abs(g[i]) + 1e-15
                if deviation > allowed || deviation > 2e-5 { wrong += 1 }
            }
            XCTAssertEqual(wrong, 0, "\(wrong) of \(d) bits did not move to 0.35/0.65 (worst deviation \(worst), \(zero) zero gradients)")
            XCTAssertGreaterThan(within1e6, d * 9 / 10, "only \(within1e6) of \(d) bits within 1e-6 of 0.35/0.65")
            XCTAssertLessThan(zero, d / 50, "too many exactly-zero gradients: \(zero)")
        }
    }

    func roundTrip<S: SearchStrategy>(_ strategy: S, fitness: (Int, Int) -> Double) throws {
        var a = strategy
        for t in 0..<3 { _ = a.tell(fitnesses: (0..<a.populationSize).map { fitness(t, $0) }) }
        let json = try JSONDecoder().decode(S.State.self, from: JSONEncoder().encode(a.state))
        XCTAssertEqual(json, a.state, "JSON round trip changed the state")
        let plist = PropertyListEncoder()
        plist.outputFormat = .binary
        let binary = try PropertyListDecoder().decode(S.State.self, from: plist.encode(a.state))
        XCTAssertEqual(binary, a.state, "binary round trip changed the state")
        var b = S(state: json)
        for t in 3..<5 {
            let f = (0..<a.populationSize).map { fitness(t, $0) }
            let da = a.tell(fitnesses: f, threads: 1)
            let db = b.tell(fitnesses: f, threads: 2)
            XCTAssertEqual(da, db)
        }
        XCTAssertEqual(a.state, b.state, "resumed run diverged")
    }

    func testCheckpointRoundTripsAreBitIdentical() throws {
        try forEveryKernelLevel {
            let noise: (Int, Int) -> Double = { t, k in
                var s = CounterStream(seed: 99, generation: t, member: k, purpose: .auxiliary)
                return s.nextNormal()
            }
            try roundTrip(ECStrategy(dimension: 777, populationSize: 16, seed: 3), fitness: noise)
            for estimator in SignalEstimator.allCases {
                let h = SATRStrategy.Hyperparameters(trustRadius: 0.05, signalEstimator: estimator, mirrored: true)
                try roundTrip(SATRStrategy(dimension: 777, populationSize: 16, seed: 3, hyperparameters: h), fitness: noise)
            }
            try roundTrip(GaussianESStrategy(parameterCount: 101, populationSize: 8, seed: 3), fitness: noise)
        }
    }
}

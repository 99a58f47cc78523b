import Foundation
import XCTest
import Randomness
@testable import Search

final class BernoulliDistributionTests: XCTestCase {
    func testLayoutAndPadding() {
        forEveryKernelLevel {
            XCTAssertEqual(BitGenome.wordCount(bits: 1), 1)
            XCTAssertEqual(BitGenome.wordCount(bits: 64), 1)
            XCTAssertEqual(BitGenome.wordCount(bits: 65), 2)
            XCTAssertEqual(BitGenome.wordCount(bits: 71_936), 1124)
            // rho at the upper bound: every real bit is almost surely 1, padding bits must stay 0.
            let dist = BernoulliDistribution(dimension: 70, initialProbability: 1)
            XCTAssertEqual(dist.probabilities[0], 1 - 1e-3)
            for k in 0..<20 {
                let w = dist.sample(member: k, generation: 0, seed: 5)
                XCTAssertEqual(w.count, 2)
                XCTAssertEqual(w[1] >> 6, 0, "padding bits of member \(k) are not zero: \(String(w[1], radix: 2))")
            }
        }
    }

    /// The threshold sampler equals the direct comparison `W * 2^-32 < rho` for every bit, on
    /// probabilities that include the bounds and values right at representable thresholds.
    func testFastSamplerEqualsReference() {
        forEveryKernelLevel {
            var stream = CounterStream(seed: 3, generation: 0, member: 0, purpose: .auxiliary)
            var p = (0..<1001).map { _ in stream.nextUniformDouble() }
            p[0] = 0; p[1] = 1; p[2] = 0.5; p[3] = 1e-3; p[4] = 1 - 1e-3; p[5] = 0.25
            let dist = BernoulliDistribution(probabilities: p)
            for mirrored in [false, true] {
                for k in 0..<6 {
                    let fast = dist.sample(member: k, generation: 2, seed: 11, mirrored: mirrored)
                    let reference = dist.referenceSample(member: k, generation: 2, seed: 11, mirrored: mirrored)
                    XCTAssertEqual(fast, reference, "member \(k) mirrored \(mirrored)")
                }
            }
        }
    }

    func testMarginalsAndMirroring() {
        forEveryKernelLevel {
            let d = 2000
            var stream = CounterStream(seed: 4, generation: 0, member: 0, purpose: .auxiliary)
            let p = (0..<d).map { _ in 0.05 + 0.9 * stream.nextUniformDouble() }
            let dist = BernoulliDistribution(probabilities: p)
            let members = 400
            var counts = [Int](repeating: 0, count: d), mirrorCounts = counts
            var bothOnes = 0, expectedBoth = 0.0
            for pair in 0..<(members / 2) {
                let a = BitGenome.unpack(dist.sample(member: 2 * pair, generation: 1, seed: 9, mirrored: true), bits: d)
                let b = BitGenome.unpack(dist.sample(member: 2 * pair + 1, generation: 1, seed: 9, mirrored: true), bits: d)
                for i in 0..<d {
                    counts[i] += Int(a[i]); mirrorCounts[i] += Int(b[i])
                    if a[i] == 1 && b[i] == 1 { bothOnes += 1 }
                }
            }
            for i in 0..<d { expectedBoth += Double(members / 2) * max(0, 2 * p[i] - 1) }
            // Each of the two members of a pair is Bernoulli(rho): check the z-score of the total count.
            let expected = p.reduce(0, +) * Double(members / 2)
            let sd = (p.reduce(0) { $0 + $1 * (1 - $1) } * Double(members / 2)).squareRoot()
            let total = Double(counts.reduce(0, +)), totalMirror = Double(mirrorCounts.reduce(0, +))
            XCTAssertLessThan(abs(total - expected) / sd, 5, "plain members: \(total) ones, expected \(expected)")
            XCTAssertLessThan(abs(totalMirror - expected) / sd, 5, "mirrored members: \(totalMirror), expected \(expected)")
            // U < rho and U >= 1 - rho are both 1 with probability max(0, 2 rho - 1): a deterministic coupling.
            XCTAssertLessThan(
                abs(Double(bothOnes) - expectedBoth), 5 * expectedBoth.squareRoot() + 5,
                "pairs with both bits set: \(bothOnes), expected \(expectedBoth)")
        }
    }

    func testMostLikelyKLEntropy() {
        forEveryKernelLevel {
            let dist = BernoulliDistribution(probabilities: [0.2, 0.5, 0.7, 0.9999, 0.0])
            XCTAssertEqual(BitGenome.unpack(dist.mostLikely, bits: 5), [0, 0, 1, 1, 0])
            XCTAssertEqual(dist.probabilities[3], 0.999)
            XCTAssertEqual(dist.probabilities[4], 0.001)
            let q = BernoulliDistribution(dimension: 5)
            var expected = 0.0
            for p: Double in [0.2, 0.5, 0.7, 0.999, 0.001] {
                let one: Double = p * log(p / 0.5)
                let zero: Double = (1 - p) * log((1 - p) / 0.5)
                expected += one + zero
            }
            XCTAssertEqual(dist.klDivergence(to: q), expected, accuracy: 1e-14)
            XCTAssertEqual(q.klDivergence(to: q), 0)
            XCTAssertEqual(q.entropy, 5 * log(2), accuracy: 1e-12)
            XCTAssertEqual(q.meanVariance, 0.25)
            XCTAssertEqual(dist.meanProbability, (0.2 + 0.5 + 0.7 + 0.999 + 0.001) / 5, accuracy: 1e-15)
        }
    }

    func testCodableRoundTrip() throws {
        var stream = CounterStream(seed: 1, generation: 0, member: 0, purpose: .auxiliary)
        let dist = BernoulliDistribution(probabilities: (0..<300).map { _ in stream.nextUniformDouble() })
        let json = try JSONDecoder().decode(BernoulliDistribution.self, from: JSONEncoder().encode(dist))
        XCTAssertEqual(json, dist)
        XCTAssertEqual(json.sample(member: 3, generation: 1, seed: 2), dist.sample(member: 3, generation: 1, seed: 2))
        let bad = #"{"bound":0.001,"probabilities":[0.5,1.5]}"#.data(using: .utf8)!
        XCTAssertThrowsError(try JSONDecoder().decode(BernoulliDistribution.self, from: bad))
    }
}

final class FitnessShapingTests: XCTestCase {
    func testRanksTiesAndNonFinite() {
        let f: [Double] = [3, .nan, 1, 3, -.infinity, .infinity, -5]
        // Non-finite lowest (by index: 1, 4, 5), then -5, 1, 3 (index 0), 3 (index 3).
        XCTAssertEqual(FitnessShaping.ranks(f), [5, 0, 4, 6, 1, 2, 3])
        let u = FitnessShaping.centeredRanks(f)
        XCTAssertEqual(u, [5, 0, 4, 6, 1, 2, 3].map { Double($0) / 6 - 0.5 })
        XCTAssertEqual(FitnessShaping.integerWeights(f), [4, -6, 2, 6, -4, -2, 0])
        let z = FitnessShaping.standardizedRanks(f)
        XCTAssertEqual(z.reduce(0, +), 0, accuracy: 1e-12)
        XCTAssertEqual(z.reduce(0) { $0 + $1 * $1 } / 7, 1, accuracy: 1e-12)
        XCTAssertEqual(FitnessShaping.centeredRanks([7]), [0])
        XCTAssertEqual(FitnessShaping.centeredRanks([1, 1]), [-0.5, 0.5])
    }
}

final class PhiloxLanesTests: XCTestCase {
    func testSIMDPhiloxMatchesScalar() {
        for key in [
            StreamKey(seed: 0, generation: 0, member: 0, purpose: .connectivity),
            StreamKey(seed: 0xdead_beef_1234_5678, generation: 77, member: 1234, purpose: .connectivity),
            StreamKey(seed: .max, generation: Int(UInt32.max), member: Int(UInt32.max), purpose: .auxiliary),
        ] {
            let lanes = PhiloxLanes(key: key)
            let stream = CounterStream(key: key)
            for first: UInt32 in [0, 8, 4096, UInt32.max - 7, UInt32.max - 15] {
                let r = lanes.blocks(first: first)
                let wide = lanes.blocks16(first: first)
                for l in 0..<16 {
                    let b = stream.block(first &+ UInt32(l))
                    XCTAssertEqual([wide.0[l], wide.1[l], wide.2[l], wide.3[l]], [b.0, b.1, b.2, b.3], "16 lanes: block \(first) + \(l)")
                    if l < 8 {
                        XCTAssertEqual([r.0[l], r.1[l], r.2[l], r.3[l]], [b.0, b.1, b.2, b.3], "8 lanes: block \(first) + \(l)")
                    }
                }
            }
        }
    }
}

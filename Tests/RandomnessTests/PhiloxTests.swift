import XCTest
@testable import Randomness

final class PhiloxTests: XCTestCase {
    /// Known-answer vectors of Random123 (kat_vectors, philox4x32 with 10 rounds).
    func testKnownAnswerVectors() {
        let zero = Philox4x32.block(counter: (0, 0, 0, 0), key: (0, 0))
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = Philox4x32.block(
            counter: (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), key: (0xffff_ffff, 0xffff_ffff))
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let pi = Philox4x32.block(
            counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), key: (0xa409_3822, 0x299f_31d0))
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    func testSequentialEqualsRandomAccess() {
        var stream = CounterStream(seed: 42, generation: 3, member: 7, purpose: .connectivity)
        var words: [UInt32] = []
        for _ in 0..<40 { words.append(stream.nextWord()) }
        let direct = CounterStream(seed: 42, generation: 3, member: 7, purpose: .connectivity)
        for b in 0..<10 {
            let blk = direct.block(UInt32(b))
            XCTAssertEqual(Array(words[4 * b..<4 * b + 4]), [blk.0, blk.1, blk.2, blk.3])
        }
        var seeked = direct
        seeked.seek(toBlock: 5)
        XCTAssertEqual(seeked.nextWord(), words[20])
    }

    func testReproducibleAndKeysDiffer() {
        func firstWords(_ key: StreamKey) -> [UInt64] {
            var s = CounterStream(key: key)
            return (0..<8).map { _ in s.next() }
        }
        let base = StreamKey(seed: 1, generation: 0, member: 0, purpose: .connectivity)
        XCTAssertEqual(firstWords(base), firstWords(base))
        var others = [base]
        others.append(StreamKey(seed: 2, generation: 0, member: 0, purpose: .connectivity))
        others.append(StreamKey(seed: 1, generation: 1, member: 0, purpose: .connectivity))
        others.append(StreamKey(seed: 1, generation: 0, member: 1, purpose: .connectivity))
        others.append(StreamKey(seed: 1, generation: 0, member: 0, purpose: .resetNoise))
        let outputs = Set(others.map(firstWords))
        XCTAssertEqual(outputs.count, others.count)
    }

    /// Moments of uniforms and normals, and the correlation of neighbouring members' streams.
    func testStatisticalSanity() {
        let n = 200_000
        var a = CounterStream(seed: 9, generation: 0, member: 0, purpose: .auxiliary)
        var b = CounterStream(seed: 9, generation: 0, member: 1, purpose: .auxiliary)
        var sum = 0.0, sumSq = 0.0, cross = 0.0
        for _ in 0..<n {
            let u = a.nextUniformDouble(), v = b.nextUniformDouble()
            XCTAssert(u >= 0 && u < 1)
            sum += u; sumSq += u * u; cross += (u - 0.5) * (v - 0.5)
        }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        XCTAssertEqual(mean, 0.5, accuracy: 4 * (1.0 / 12 / Double(n)).squareRoot())
        XCTAssertEqual(variance, 1.0 / 12, accuracy: 0.002)
        // Correlation of neighbouring keys: sd of the estimate is 1/sqrt(n).
        XCTAssertLessThan(abs(cross / Double(n) * 12), 4 / Double(n).squareRoot())

        var g = CounterStream(seed: 9, generation: 0, member: 0, purpose: .gaussianPerturbation)
        var nSum = 0.0, nSq = 0.0, nQuart = 0.0
        for _ in 0..<n {
            let z = g.nextNormal()
            nSum += z; nSq += z * z; nQuart += z * z * z * z
        }
        XCTAssertEqual(nSum / Double(n), 0, accuracy: 4 / Double(n).squareRoot())
        XCTAssertEqual(nSq / Double(n), 1, accuracy: 0.015)
        XCTAssertEqual(nQuart / Double(n), 3, accuracy: 0.1)

        var f = CounterStream(seed: 9, generation: 0, member: 0, purpose: .auxiliary)
        var fSum: Float = 0
        for _ in 0..<10_000 {
            let u = f.nextUniformFloat()
            XCTAssert(u >= 0 && u < 1)
            fSum += u
        }
        XCTAssertEqual(fSum / 10_000, 0.5, accuracy: 0.015)
    }
}

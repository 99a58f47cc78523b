import XCTest
import Randomness
@testable import Spiking

final class NetworkShapeTests: XCTestCase {
    func testShapeValidation() {
        XCTAssertThrowsError(try NetworkShape(observationSize: 11, actionSize: 3, neurons: 100)) { error in
            XCTAssertEqual(error as? NetworkShape.ShapeError, .neuronsNotPositiveMultipleOf64(100))
        }
        XCTAssertThrowsError(try NetworkShape(observationSize: 11, actionSize: 3, neurons: 0))
        XCTAssertThrowsError(try NetworkShape(observationSize: 0, actionSize: 3, neurons: 64))
        XCTAssertThrowsError(try NetworkShape(observationSize: 11, actionSize: 0, neurons: 64))
        XCTAssertNoThrow(try NetworkShape(observationSize: 1, actionSize: 1, neurons: 64))
    }

    func testCountsAndOffsets() throws {
        let s = try NetworkShape(observationSize: 11, actionSize: 3, neurons: 256)
        XCTAssertEqual(s.parameterCount, 2 * 11 * 256 + 256 * 256 + 256 * 3)
        XCTAssertEqual(s.wordsPerMember, s.parameterCount / 64)
        XCTAssertEqual(s.excitatoryNeurons, 128)
        XCTAssertEqual(try NetworkShape(observationSize: 1, actionSize: 1, neurons: 64).excitatoryNeurons, 32)
        XCTAssertEqual(s.inputBit(row: 0, post: 0), 0)
        XCTAssertEqual(s.inputBit(row: 12, post: 5), 12 * 256 + 5)
        XCTAssertEqual(s.recurrentBit(pre: 1, post: 2), 2 * 11 * 256 + 2 * 256 + 1)
        XCTAssertEqual(s.readoutBit(neuron: 7, action: 2), 2 * 11 * 256 + 256 * 256 + 2 * 256 + 7)
        XCTAssertEqual(s.readoutBit(neuron: 255, action: 2), s.parameterCount - 1)
    }

    func testPackingPutsEachBitWhereTheMappingSays() throws {
        let s = try NetworkShape(observationSize: 2, actionSize: 2, neurons: 64)
        let words = s.packConnectivity(
            input: { r, j in r == 3 && j == 63 }, recurrent: { i, j in i == 5 && j == 9 }, readout: { j, a in j == 1 && a == 1 })
        var set: [Int] = []
        words.withUnsafeBufferPointer { b in
            for p in 0..<s.parameterCount where NetworkShape.bit(p, in: b) { set.append(p) }
        }
        XCTAssertEqual(set, [3 * 64 + 63, 256 + 9 * 64 + 5, 256 + 4096 + 64 + 1])
        XCTAssertEqual(words[3], 1 << 63)
    }

    func testDeterministicConnectivity() throws {
        let s = try NetworkShape(observationSize: 1, actionSize: 1, neurons: 64)
        var rho = [Double](repeating: 0.5, count: s.parameterCount)
        rho[0] = 0.51; rho[64] = 0.9; rho[65] = 0.49; rho[s.parameterCount - 1] = 1
        let words = s.deterministicConnectivity(probabilities: rho)
        XCTAssertEqual(words[0], 1)
        XCTAssertEqual(words[1], 1)
        XCTAssertEqual(words[s.wordsPerMember - 1], 1 << 63)
        XCTAssertEqual(words.map(\.nonzeroBitCount).reduce(0, +), 3)
    }

    func testInitialMembraneComesFromTheStateStream() throws {
        let s = try NetworkShape(observationSize: 3, actionSize: 1, neurons: 128)
        let v = s.initialMembrane(seed: 42, generation: 7, member: 3)
        var stream = CounterStream(seed: 42, generation: 7, member: 3, purpose: .networkInitialState)
        for n in 0..<128 { XCTAssertEqual(v[n], stream.nextUniformFloat()) }
        XCTAssertTrue(v.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertNotEqual(v, s.initialMembrane(seed: 42, generation: 7, member: 4))
    }

    func testCodableRoundTripAndValidation() throws {
        let s = try NetworkShape(observationSize: 17, actionSize: 6, neurons: 192)
        let data = try JSONEncoder().encode(s)
        XCTAssertEqual(try JSONDecoder().decode(NetworkShape.self, from: data), s)
        let bad = Data(#"{"observationSize": 17, "actionSize": 6, "neurons": 100}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(NetworkShape.self, from: bad))
    }
}

final class ActionTests: XCTestCase {
    func testClipThenScale() {
        XCTAssertEqual(Spiking.action(fromOutput: [-3, -0.5, 0, 0.25, 1.5]), [-1, -0.5, 0, 0.25, 1])
        XCTAssertEqual(Spiking.action(fromOutput: [2, -0.5], scale: 0.4), [0.4, -0.2])
        XCTAssertTrue(Spiking.action(fromOutput: [.nan])[0].isNaN)
    }
}

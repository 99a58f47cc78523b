import XCTest
@testable import Spiking

/// The cross-check vector of docs/NETWORK.md (independent of any implementation).
final class CrossCheckTests: XCTestCase {
    static let shape = try! NetworkShape(observationSize: 11, actionSize: 3, neurons: 256)

    static func bits(_ i: Int, _ j: Int, _ a: Int, _ b: Int, _ m: Int, _ t: Int) -> Bool {
        (i * a + j * b) % m < t
    }

    static var connectivity: [UInt64] {
        shape.packConnectivity(
            input: { row, post in bits(row, post, 3, 5, 7, 3) },
            recurrent: { pre, post in bits(pre, post, 3, 11, 7, 3) },
            readout: { neuron, action in bits(neuron, action, 5, 3, 4, 2) })
    }

    static var observation: [Float] { (0..<11).map { d in Float(2 * sin(0.7 * Double(d) + 0.3) + 0.5) } }
    static var initialMembrane: [Float] { (0..<256).map { n in Float((37 * n) % 100) / 100 } }

    static let expectedY: [[Float]] = [
        [0.050810, -0.160188, -0.041250],
        [0.069205, -0.197835, -0.038127],
        [0.092661, -0.217335, -0.038521],
        [0.065426, -0.152816, -0.034423],
        [0.070679, -0.157571, -0.033579],
    ]
    static let expectedSpikes = [131, 145, 145, 108, 145]
    static let expectedRateSumAfterStep0: Float = 0.021631

    func testScalesMatchTheTable() {
        XCTAssertEqual(NetworkConstants.inputScale(observationSize: 11), 0.6030227, accuracy: 1e-7)
        XCTAssertEqual(NetworkConstants.recurrentScale(neurons: 256), 0.25)
        XCTAssertEqual(NetworkConstants.readoutScale(neurons: 256), 0.441941738, accuracy: 1e-7)
        XCTAssertEqual(NetworkConstants.alphaSynapse, 0.904837418, accuracy: 1e-7)
        XCTAssertEqual(NetworkConstants.alphaMembrane, 0.951229425, accuracy: 1e-7)
        XCTAssertEqual(NetworkConstants.substepsPerEnvStep, 33)
        XCTAssertEqual(Self.shape.parameterCount, 71_936)
        XCTAssertEqual(Self.shape.excitatoryNeurons, 128)
    }

    func testReferenceReproducesTheVector() {
        checkVector(ReferenceNetwork.self)
    }

    func testBitsetReproducesTheVector() {
        forEveryKernelLevel { checkVector(BitsetNetwork.self) }
    }

    /// Five env steps of `Network` from the vector's start: outputs, spike counts, and the rate
    /// trace's sum after the first step.
    private func checkVector<Network: CrossCheckedNetwork>(_: Network.Type, file: StaticString = #filePath, line: UInt = #line) {
        var net = Network(shape: Self.shape)
        net.load(connectivity: Self.connectivity)
        net.reset(initialMembrane: Self.initialMembrane)
        for step in 0..<5 {
            let y = net.step(observation: Self.observation)
            for a in 0..<3 { XCTAssertEqual(y[a], Self.expectedY[step][a], accuracy: 1e-5, "step \(step) action \(a)", file: file, line: line) }
            XCTAssertEqual(net.lastStepSpikeCount, Self.expectedSpikes[step], "spikes at env step \(step)", file: file, line: line)
            if step == 0 {
                XCTAssertEqual(net.rateTrace.reduce(0, +), Self.expectedRateSumAfterStep0, accuracy: 1e-5, file: file, line: line)
            }
        }
    }
}

/// What the cross-check vector needs of a network: the reference and the bitset network both have it.
protocol CrossCheckedNetwork {
    init(shape: NetworkShape)
    mutating func load(connectivity: [UInt64])
    mutating func reset(initialMembrane: [Float])
    mutating func step(observation: [Float]) -> [Float]
    var lastStepSpikeCount: Int { get }
    var rateTrace: [Float] { get }
}

extension ReferenceNetwork: CrossCheckedNetwork {}
extension BitsetNetwork: CrossCheckedNetwork {}

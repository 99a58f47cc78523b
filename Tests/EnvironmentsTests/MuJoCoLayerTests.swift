import XCTest

@testable import Environments

/// The Swift layer over MuJoCo: loading from memory and files, errors as Swift errors, instability
/// detection.
final class MuJoCoLayerTests: XCTestCase {
    /// A falling box on a plane with one slide actuator.
    static let boxXML = """
        <mujoco model="box">
          <option timestep="0.01"/>
          <worldbody>
            <geom name="floor" type="plane" size="5 5 0.1"/>
            <body name="box" pos="0 0 1">
              <joint name="slide" type="slide" axis="1 0 0"/>
              <joint name="lift" type="slide" axis="0 0 1"/>
              <geom type="box" size="0.1 0.1 0.1" mass="1"/>
            </body>
          </worldbody>
          <actuator>
            <motor joint="slide" ctrllimited="true" ctrlrange="-1 1" gear="10"/>
          </actuator>
        </mujoco>
        """

    func testLoadsInMemoryXMLAndSteps() throws {
        let model = try MuJoCoModel(xml: Self.boxXML)
        XCTAssertEqual(model.nq, 2)
        XCTAssertEqual(model.nv, 2)
        XCTAssertEqual(model.nu, 1)
        XCTAssertEqual(model.nbody, 2)
        XCTAssertEqual(model.timestep, 0.01)
        XCTAssertEqual(model.bodyID(named: "box"), 1)
        XCTAssertNil(model.bodyID(named: "nope"))
        XCTAssertEqual(model.actuatorCtrlRange, [-1, 1])
        let data = try MuJoCoData(model: model)
        try data.setCtrl([1])
        try data.step(count: 10)
        XCTAssertEqual(data.time, 0.1, accuracy: 1e-12)
        // Gravity pulls the box down, the motor pushes it along +x.
        XCTAssertLessThan(data.qpos[1], 0)
        XCTAssertGreaterThan(data.qpos[0], 0)
        try data.reset()
        XCTAssertEqual(data.qpos, [0, 0])
        XCTAssertEqual(data.time, 0)
    }

    func testBadXMLIsASwiftErrorWithMuJoCosMessage() {
        XCTAssertThrowsError(try MuJoCoModel(xml: "<mujoco><worldbody><body><geom type=\"sphere\"/></body></mujoco>")) {
            error in
            guard case MuJoCoError.loadFailed(let source, let message) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(source, "<in-memory XML>")
            XCTAssertFalse(message.isEmpty)
        }
        XCTAssertThrowsError(try MuJoCoModel(xml: "")) { error in
            guard case MuJoCoError.loadFailed = error else { return XCTFail("unexpected error \(error)") }
        }
        // The 2.2.2 pitfall: a range without `limited` is rejected, not silently accepted.
        let unlimited = Self.boxXML.replacingOccurrences(of: "ctrllimited=\"true\" ", with: "")
        XCTAssertThrowsError(try MuJoCoModel(xml: unlimited))
    }

    func testMissingFileIsASwiftError() {
        XCTAssertThrowsError(try MuJoCoModel(contentsOf: URL(fileURLWithPath: "/nonexistent/model.xml"))) { error in
            guard case MuJoCoError.loadFailed(let source, _) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertEqual(source, "/nonexistent/model.xml")
        }
    }

    func testMuJoCoFatalErrorBecomesASwiftErrorNotAnExit() throws {
        // A 10-number stack is too small even for the compiler's own mj_forward: a load error.
        let tiny = Self.boxXML.replacingOccurrences(of: "<option timestep=\"0.01\"/>", with: "<option timestep=\"0.01\"/><size nstack=\"10\"/>")
        XCTAssertThrowsError(try MuJoCoModel(xml: tiny)) { error in
            guard case MuJoCoError.loadFailed(_, let message) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(message.contains("Stack overflow"), message)
        }
        // 50 numbers compile (MuJoCo 2.2.2) but overflow once the box touches the floor: MuJoCo calls
        // mju_error ("Stack overflow"), which by default exits the process. Here it is a Swift error.
        let small = Self.boxXML.replacingOccurrences(of: "<option timestep=\"0.01\"/>", with: "<option timestep=\"0.01\"/><size nstack=\"50\"/>")
        let model = try MuJoCoModel(xml: small)
        let data = try MuJoCoData(model: model)
        XCTAssertThrowsError(try data.step(count: 200)) { error in
            guard case MuJoCoError.mujocoError(let operation, let message) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(operation, "mj_step")
            XCTAssertTrue(message.contains("Stack overflow"), message)
        }
        // The data is marked broken until reset.
        XCTAssertThrowsError(try data.step()) { error in
            guard case MuJoCoError.resetRequired = error else { return XCTFail("unexpected error \(error)") }
        }
        try data.reset()
        XCTAssertEqual(data.time, 0)
        XCTAssertThrowsError(try data.step(count: 200))
        // The thread is still usable: a sound model steps normally afterwards.
        let sound = try MuJoCoData(model: MuJoCoModel(xml: Self.boxXML))
        try sound.step(count: 200)
        XCTAssertGreaterThan(sound.qpos[0], -1)
    }

    func testNonFiniteStateIsDetected() throws {
        let model = try MuJoCoModel(xml: Self.boxXML)
        let data = try MuJoCoData(model: model)
        try data.setQvel([.nan, 0])
        XCTAssertThrowsError(try data.step()) { error in
            guard case MuJoCoError.simulationUnstable(let warning, _, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertTrue(warning.contains("qvel"), warning)
        }
        XCTAssertThrowsError(try data.step()) { error in
            guard case MuJoCoError.resetRequired = error else { return XCTFail("unexpected error \(error)") }
        }
        try data.reset()
        try data.step()
        XCTAssertTrue(data.qpos.allSatisfy(\.isFinite))
    }

    func testSizeMismatchIsAnError() throws {
        let data = try MuJoCoData(model: MuJoCoModel(xml: Self.boxXML))
        XCTAssertThrowsError(try data.setQpos([1, 2, 3])) { error in
            XCTAssertEqual(error as? MuJoCoError, .sizeMismatch(field: "qpos", expected: 2, actual: 3))
        }
    }

    func testEveryModelFileLoadsAndMatchesItsTask() throws {
        for spec in TaskRegistry.all {
            let model = try TaskRegistry.model(id: spec.id)
            XCTAssertEqual(model.nu, spec.actionSize, spec.id)
            XCTAssertEqual(model.timestep, spec.timestep, spec.id)
            XCTAssertEqual(model.actuatorCtrlRange, Array(zip(spec.actionLow, spec.actionHigh).map { [$0, $1] }.joined()), spec.id)
            // Cached: the same compiled model every time.
            XCTAssertTrue(try TaskRegistry.model(id: spec.id) === model)
        }
    }
}

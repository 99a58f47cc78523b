import XCTest

@testable import Environments

/// Every task reproduces its Gymnasium 1.4.0 (MuJoCo 3.0.0) reference trace step by step with reset
/// noise 0 and the trace's actions: obs, reward and info within 1e-6 + 1e-6 |ref|, same flags.
final class ConformanceTests: XCTestCase {
    func check(_ id: String, terminateWhenUnhealthy: Bool? = nil) throws {
        let path = terminateWhenUnhealthy == false ? "no_termination/\(id).jsonl" : "\(id).jsonl"
        let trace = try FixtureTrace.load(path)
        XCTAssertEqual(trace.header.env, id)
        XCTAssertEqual(trace.header.reset_noise_scale, 0)
        let maxError = try assertReproduces(
            trace, options: EnvironmentOptions(resetNoiseScale: 0, terminateWhenUnhealthy: terminateWhenUnhealthy))
        print("conformance \(path): \(trace.steps.count) steps, largest abs error \(maxError)")
    }

    func testHopper() throws { try check("Hopper-v5") }
    func testWalker2d() throws { try check("Walker2d-v5") }
    func testHalfCheetah() throws { try check("HalfCheetah-v5") }
    func testAnt() throws { try check("Ant-v5") }
    func testHumanoid() throws { try check("Humanoid-v5") }
    func testSwimmer() throws { try check("Swimmer-v5") }
    func testInvertedPendulum() throws { try check("InvertedPendulum-v5") }
    func testInvertedDoublePendulum() throws { try check("InvertedDoublePendulum-v5") }

    func testHopperNoTermination() throws { try check("Hopper-v5", terminateWhenUnhealthy: false) }
    func testWalker2dNoTermination() throws { try check("Walker2d-v5", terminateWhenUnhealthy: false) }
    func testAntNoTermination() throws { try check("Ant-v5", terminateWhenUnhealthy: false) }
    func testHumanoidNoTermination() throws { try check("Humanoid-v5", terminateWhenUnhealthy: false) }
}

import Foundation
import XCTest

/// `satr bench network` end to end, at a tiny size (the speed targets are checked by running the
/// benchmark on purpose, never here).
final class BenchNetworkCLITests: XCTestCase {
    func testJSONHasTheMeasuredRatesAndRatios() throws {
        let result = try SATRProcess.run([
            "bench", "network", "--task", "walker", "--neurons", "64", "--members", "2", "--threads", "2",
            "--seconds", "0.05", "--json",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let json = try XCTUnwrap(object, "not a JSON object: \(result.stdout)")
        for key in ["bitset_steps_per_s", "reference_steps_per_s", "dense_snn_steps_per_s",
                    "speedup_vs_reference", "speedup_vs_dense_snn"] {
            let value = try XCTUnwrap(json[key] as? Double, "missing \(key)")
            XCTAssertGreaterThan(value, 0, key)
        }
        XCTAssertEqual(json["task"] as? String, "walker")
        XCTAssertEqual(json["observation_size"] as? Int, 17)
        XCTAssertEqual(json["action_size"] as? Int, 6)
        XCTAssertEqual(json["neurons"] as? Int, 64)
        XCTAssertEqual(json["threads"] as? Int, 2)
    }

    func testRejectsNeuronsThatAreNotAMultipleOf64() throws {
        let result = try SATRProcess.run(["bench", "network", "--neurons", "100"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("multiple of 64"), result.stderr)
    }
}

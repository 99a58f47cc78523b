import Foundation
import XCTest

/// `satr bench train` runs a real (tiny) training run interleaved with raw stepping and prints the
/// documented JSON fields; it validates its options.
final class BenchTrainCLITests: XCTestCase {
    func testJSONHasRatesRatiosAndOneRatioPerRepeat() throws {
        let result = try SATRProcess.run([
            "bench", "train", "--env", "InvertedPendulum-v5", "--population", "4", "--generations", "2",
            "--neurons", "64", "--threads", "2", "--repeats", "2", "--json",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        for key in [
            "train_steps_per_s", "raw_steps_per_s", "ratio", "ratio_median", "raw_with_network_steps_per_s",
            "policy_physics_steps_per_s", "ratio_vs_policy_physics", "train_episode_steps", "policy_physics_episode_steps",
        ] {
            let value = try XCTUnwrap(object[key] as? Double, "\(key) missing in \(result.stdout)")
            XCTAssertTrue(value.isFinite && value > 0, "\(key) = \(value)")
        }
        XCTAssertEqual((object["ratio_per_repeat"] as? [Double])?.count, 2)
        // Two generations per repeat, one ratio each.
        XCTAssertEqual((object["ratio_per_generation"] as? [Double])?.count, 4)
        // Every generation ran at least one step per member, each counted once.
        XCTAssertGreaterThanOrEqual(object["train_env_steps"] as? Int ?? 0, 2 * 2 * 4)
    }

    func testRejectsBadOptions() throws {
        for (flags, name) in [(["--repeats", "0"], "--repeats"), (["--population", "1"], "--population"),
                              (["--env", "Nope-v5"], "Nope-v5")] {
            let result = try SATRProcess.run(["bench", "train"] + flags)
            XCTAssertNotEqual(result.status, 0, "\(flags)")
            XCTAssertTrue(result.stderr.contains(name), "\(flags): \(result.stderr)")
        }
    }
}

import Foundation
import XCTest

/// `satr envs`, `satr rollout` and `satr bench env`, run as a user would.
final class EnvironmentCLITests: XCTestCase {
    /// The repository's fixture directory (the tests run from the source tree).
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EnvironmentsTests/Fixtures/gymnasium")

    func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("satr-cli-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    func testEnvsListsTheTasks() throws {
        let result = try SATRProcess.run(["envs"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rows = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        for (id, obs, act, box, dt) in [
            ("Hopper-v5", "11", "3", "[-1.0, 1.0]", "0.008"), ("Humanoid-v5", "348", "17", "[-0.4, 0.4]", "0.015"),
            ("InvertedPendulum-v5", "4", "1", "[-3.0, 3.0]", "0.04"),
        ] {
            let row = try XCTUnwrap(rows.first { $0.first == id }, "no row for \(id) in\n\(result.stdout)")
            XCTAssertEqual(Array(row[1...2]), [obs, act], id)
            XCTAssertEqual(row[3] + " " + row[4], box, id)
            XCTAssertEqual(row[5], dt, id)
        }
        let json = try SATRProcess.run(["envs", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let lines = json.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 8)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        XCTAssertEqual(first?["id"] as? String, "Hopper-v5")
        XCTAssertEqual(first?["observationSize"] as? Int, 11)
    }

    /// Parses a JSONL trace into its lines (objects).
    func parseTrace(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func numbers(_ value: Any?) -> [Double] {
        (value as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
    }

    func assertTrace(_ mine: [[String: Any]], reproduces reference: [[String: Any]], label: String) {
        XCTAssertEqual(mine.count, reference.count, "\(label): line count")
        XCTAssertEqual(mine.first?["env"] as? String, reference.first?["env"] as? String)
        for (k, (a, b)) in zip(mine, reference).enumerated().dropFirst() {
            XCTAssertEqual(a["t"] as? Int, b["t"] as? Int, "\(label) line \(k)")
            XCTAssertEqual(numbers(a["action"]), numbers(b["action"]), "\(label) line \(k) action")
            let obsA = numbers(a["obs"]), obsB = numbers(b["obs"])
            XCTAssertEqual(obsA.count, obsB.count, "\(label) line \(k) obs size")
            for (x, y) in zip(obsA, obsB) where !(abs(x - y) <= 1e-6 + 1e-6 * abs(y)) {
                XCTFail("\(label) line \(k): obs \(x) vs \(y)")
                return
            }
            if k > 1 {
                let ra = (a["reward"] as? NSNumber)?.doubleValue ?? .nan
                let rb = (b["reward"] as? NSNumber)?.doubleValue ?? .nan
                XCTAssertEqual(ra, rb, accuracy: 1e-6 + 1e-6 * abs(rb), "\(label) line \(k) reward")
                XCTAssertEqual(a["terminated"] as? Bool, b["terminated"] as? Bool, "\(label) line \(k)")
                XCTAssertEqual(a["truncated"] as? Bool, b["truncated"] as? Bool, "\(label) line \(k)")
            }
        }
    }

    func testRolloutOfAFixtureReproducesIt() throws {
        for (name, extra) in [
            ("Hopper-v5.jsonl", [String]()), ("InvertedDoublePendulum-v5.jsonl", []),
            ("no_termination/Walker2d-v5.jsonl", ["--terminate-when-unhealthy", "false"]),
        ] {
            let fixture = Self.fixtures.appendingPathComponent(name)
            let env = String(name.split(separator: "/").last!.dropLast(".jsonl".count))
            let out = temporaryFile(env + ".jsonl")
            defer { try? FileManager.default.removeItem(at: out) }
            let result = try SATRProcess.run(
                ["rollout", "--env", env, "--actions", fixture.path, "--reset-noise-scale", "0", "--out", out.path] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            let mine = try parseTrace(out), reference = try parseTrace(fixture)
            assertTrace(mine, reproduces: reference, label: name)
            let header = try XCTUnwrap(mine.first)
            XCTAssertEqual(header["steps"] as? Int, reference.count - 2)
            XCTAssertEqual((header["reset_noise_scale"] as? NSNumber)?.doubleValue, 0)
        }
    }

    /// `--env-option` reaches the task: Humanoid-v5 without its velocity block writes 270
    /// observation values instead of 348 and records the option among the make arguments; a
    /// name the task lacks is refused by name.
    func testRolloutTakesEnvironmentOptions() throws {
        let fixture = Self.fixtures.appendingPathComponent("Humanoid-v5.jsonl")
        let out = temporaryFile("humanoid.jsonl")
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try SATRProcess.run(
            ["rollout", "--env", "Humanoid-v5", "--actions", fixture.path, "--reset-noise-scale", "0",
             "--env-option", "include_cvel_in_observation=false", "--out", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let mine = try parseTrace(out), reference = try parseTrace(fixture)
        XCTAssertEqual(mine.count, reference.count)
        for (a, b) in zip(mine.dropFirst(), reference.dropFirst()) {
            let cut = numbers(b["obs"]).enumerated().filter { !(175..<253).contains($0.offset) }.map(\.element)
            XCTAssertEqual(numbers(a["obs"]).count, 270)
            for (x, y) in zip(numbers(a["obs"]), cut) { XCTAssertEqual(x, y, accuracy: 1e-6 + 1e-6 * abs(y)) }
        }
        let kwargs = try XCTUnwrap(mine.first?["make_kwargs"] as? [String: Any])
        XCTAssertEqual(kwargs["include_cvel_in_observation"] as? Bool, false)
        XCTAssertEqual((kwargs["reset_noise_scale"] as? NSNumber)?.doubleValue, 0)

        let refused = try SATRProcess.run(
            ["rollout", "--env", "Hopper-v5", "--actions", fixture.path, "--env-option", "include_cvel_in_observation=false"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("include_cvel_in_observation") && refused.stderr.contains("healthy_reward"), refused.stderr)
    }

    func testRolloutWritesFullPrecisionAndIsAValidActionsFile() throws {
        // A rollout's own output replays to the identical trace (floats round-trip exactly).
        let fixture = Self.fixtures.appendingPathComponent("Swimmer-v5.jsonl")
        let first = temporaryFile("first.jsonl"), second = temporaryFile("second.jsonl")
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        let a = try SATRProcess.run(["rollout", "--env", "Swimmer-v5", "--actions", fixture.path, "--seed", "3", "--out", first.path])
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try SATRProcess.run(["rollout", "--env", "Swimmer-v5", "--actions", first.path, "--seed", "3", "--out", second.path])
        XCTAssertEqual(b.status, 0, b.stderr)
        let textA = try String(contentsOf: first, encoding: .utf8), textB = try String(contentsOf: second, encoding: .utf8)
        // Identical apart from the actions file named in the header.
        XCTAssertEqual(Array(textA.split(separator: "\n").dropFirst()), Array(textB.split(separator: "\n").dropFirst()))
        // Default noise with seed 3: the start is not qpos0.
        let lines = try parseTrace(first)
        XCTAssertNotEqual(numbers(lines[1]["obs"]), Array(repeating: 0, count: 8))
        XCTAssertEqual(lines.count, 302)
    }

    func testRolloutErrorsAreClear() throws {
        let fixture = Self.fixtures.appendingPathComponent("Hopper-v5.jsonl")
        let unknown = try SATRProcess.run(["rollout", "--env", "Hopper-v9", "--actions", fixture.path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown task 'Hopper-v9'"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("Walker2d-v5"), unknown.stderr)

        let wrongSize = try SATRProcess.run(["rollout", "--env", "Walker2d-v5", "--actions", fixture.path])
        XCTAssertNotEqual(wrongSize.status, 0)
        XCTAssertTrue(wrongSize.stderr.contains("3 values") && wrongSize.stderr.contains("needs 6"), wrongSize.stderr)

        let missing = try SATRProcess.run(["rollout", "--env", "Hopper-v5", "--actions", "/nonexistent/actions.jsonl"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/actions.jsonl"), missing.stderr)

        let option = try SATRProcess.run(
            ["rollout", "--env", "Swimmer-v5", "--actions", fixture.path, "--terminate-when-unhealthy", "false"])
        XCTAssertNotEqual(option.status, 0)
        XCTAssertTrue(option.stderr.contains("terminate_when_unhealthy"), option.stderr)

        let nonFinite = temporaryFile("nan.jsonl")
        defer { try? FileManager.default.removeItem(at: nonFinite) }
        try Data("{\"action\": [0.1]}\n{\"action\": [1e999]}\n".utf8).write(to: nonFinite)
        let bad = try SATRProcess.run(["rollout", "--env", "InvertedPendulum-v5", "--actions", nonFinite.path])
        XCTAssertNotEqual(bad.status, 0)
    }

    func testBenchEnvReportsBothRates() throws {
        let result = try SATRProcess.run(["bench", "env", "--env", "InvertedPendulum-v5", "--steps", "300", "--repeats", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["env"] as? String, "InvertedPendulum-v5")
        XCTAssertGreaterThan((object["env_steps_per_s"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertGreaterThan((object["raw_mj_steps_per_s"] as? NSNumber)?.doubleValue ?? 0, 0)
        XCTAssertNotNil(object["ratio"])
        let unknown = try SATRProcess.run(["bench", "env", "--env", "nope"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown task 'nope'"), unknown.stderr)
    }
}

import Foundation
import XCTest

/// `scripts/sweep.py`: settings x seeds under an env-step budget, continued after an interruption.
final class SweepCLITests: ScratchDirectoryTestCase {

    /// The repository root (this file is Tests/CLITests/SweepCLITests.swift).
    var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Writes `spec` to `name` in the scratch directory and returns its URL.
    func write(_ spec: [String: Any], to name: String) throws -> URL {
        let file = root.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: spec).write(to: file)
        return file
    }

    func sweep(budget: Int) throws -> (status: Int32, output: String) {
        let spec: [String: Any] = [
            "out": root.appendingPathComponent("out").path, "env_steps": budget, "seeds": [0, 1], "parallel": 2,
            "thresholds": [50],
            "common": ["--env", "InvertedPendulum-v5", "--population", "8", "--neurons", "64", "--eval-every", "1", "--eval-episodes", "1"],
            "settings": ["satr": ["--algo", "satr"], "ec": ["--algo", "ec"]],
        ]
        return try runScript([try write(spec, to: "sweep.json").path, "--no-plot", "--fresh-episodes", "2"])
    }

    func runScript(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try python("sweep.py", arguments + ["--satr", SATRProcess.productsDirectory.appendingPathComponent("satr").path])
    }

    /// Runs `scripts/<script>` with python3; stdout and stderr together.
    func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repository.appendingPathComponent("scripts/\(script)").path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A second call skips finished runs; a larger budget resumes every run from its checkpoint
    /// and ends with the same metrics as a run that had the larger budget from the start.
    func testSweepSkipsFinishedRunsAndResumesToALargerBudget() throws {
        let first = try sweep(budget: 60)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertEqual(first.output.components(separatedBy: "start ").count - 1, 4, first.output)
        let again = try sweep(budget: 60)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertFalse(again.output.contains("start "), "finished runs are skipped: \(again.output)")
        let more = try sweep(budget: 200)
        XCTAssertEqual(more.status, 0, more.output)
        XCTAssertTrue(more.output.contains("--resume"), more.output)
        let summary = try String(contentsOf: root.appendingPathComponent("out/summary.md"), encoding: .utf8)
        XCTAssertTrue(summary.contains("| satr |") && summary.contains("| ec |"), summary)

        // The resumed run equals a run with the budget from the start.
        let direct = root.appendingPathComponent("direct").path
        let r = try SATRProcess.run(["train", "--env", "InvertedPendulum-v5", "--population", "8", "--neurons", "64",
                                     "--eval-every", "1", "--eval-episodes", "1", "--algo", "ec", "--seed", "1",
                                     "--max-env-steps", "200", "--threads", "1", "--quiet", "--out", direct])
        XCTAssertEqual(r.status, 0, r.stderr)
        func deterministic(_ path: String) throws -> [String] {
            try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { line in
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                return "\(object.filter { !$0.key.hasPrefix("wall") }.sorted { $0.key < $1.key })"
            }
        }
        XCTAssertEqual(try deterministic(root.appendingPathComponent("out/ec-s1").path), try deterministic(direct))
    }

    /// A file with "base" takes the base file's keys and replaces those it names; a loop of bases
    /// is refused with a message, and --dry-run starts nothing.
    func testSweepFileInheritsFromItsBase() throws {
        _ = try write(["out": root.appendingPathComponent("base-out").path, "env_steps": 100, "seeds": [0, 1],
                       "common": ["--env", "InvertedPendulum-v5", "--neurons", "64"],
                       "settings": ["satr": ["--algo", "satr"]]], to: "base.json")
        let derived = try write(["base": "base.json", "out": root.appendingPathComponent("check").path, "seeds": [3]],
                                to: "check.json")
        let dry = try runScript([derived.path, "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.output)
        let commands = dry.output.split(separator: "\n").filter { $0.contains(" train ") }
        XCTAssertEqual(commands.count, 1, dry.output)
        let command = String(commands.first ?? "")
        for part in ["--env InvertedPendulum-v5 --neurons 64 --algo satr", "--seed 3 --max-env-steps 100", "check/satr-s3"] {
            XCTAssertTrue(command.contains(part), "\(part) missing from \(command)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("check/satr-s3").path),
                       "a dry run starts no run")

        _ = try write(["base": "loop-b.json", "seeds": [0]], to: "loop-a.json")
        _ = try write(["base": "loop-a.json"], to: "loop-b.json")
        let loop = try runScript([root.appendingPathComponent("loop-a.json").path, "--dry-run"])
        XCTAssertNotEqual(loop.status, 0)
        XCTAssertTrue(loop.output.contains("comes back"), loop.output)
    }

    /// `scripts/signal-phases.py`: the mean of the raw signal X per phase with its standard error,
    /// and the share of generations that stood still, from a run's metrics.jsonl.
    func testSignalPhasesSummarizesTheRawSignalPerPhase() throws {
        let run = root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        // Phase 1 (env steps < 1000): X = 1, 3 (mean 2, sd sqrt 2), one still generation of two.
        // Phase 2: X = -1, 0, 1 (mean 0, sd 1), none still.
        let generations: [(steps: Int, x: Double, s: Double)] = [(100, 1, 0), (600, 3, 0.5), (1000, -1, 0.1), (1500, 0, 0.1), (2000, 1, 0.2)]
        let lines = try generations.map { g in
            String(decoding: try JSONSerialization.data(withJSONObject: [
                "env_steps": g.steps, "opt_raw_signal": g.x, "opt_signal_energy": g.s,
                "opt_realized_kl": 2.0, "opt_mean_absolute_change": 0.01,
            ]), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(to: run.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)

        let result = try python("signal-phases.py", [run.path, "--phases", "1000", "--json"])
        XCTAssertEqual(result.status, 0, result.output)
        let phases = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        XCTAssertEqual(phases.count, 2)
        XCTAssertEqual(phases[0]["generations"] as? Int, 2)
        XCTAssertEqual(try XCTUnwrap(phases[0]["x_mean"] as? Double), 2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(phases[0]["x_se"] as? Double), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(phases[0]["still_share"] as? Double), 0.5, accuracy: 1e-12)
        XCTAssertEqual(phases[1]["generations"] as? Int, 3)
        XCTAssertEqual(try XCTUnwrap(phases[1]["x_mean"] as? Double), 0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(phases[1]["x_sd"] as? Double), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(phases[1]["still_share"] as? Double), 0, accuracy: 1e-12)

        // A run without SATR's fields is refused by name.
        try "{\"env_steps\": 5}\n".write(to: run.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        let refused = try python("signal-phases.py", [run.path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("opt_raw_signal"), refused.output)
    }
}

import Foundation
import XCTest

/// `scripts/sweep.py`: settings x seeds under an env-step budget, continued after an interruption.
final class SweepCLITests: ScratchDirectoryTestCase {

    /// The repository root (this file is Tests/CLITests/SweepCLITests.swift).
    var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func sweep(budget: Int) throws -> (status: Int32, output: String) {
        let spec: [String: Any] = [
            "out": root.appendingPathComponent("out").path, "env_steps": budget, "seeds": [0, 1], "parallel": 2,
            "thresholds": [50],
            "common": ["--env", "InvertedPendulum-v5", "--population", "8", "--neurons", "64", "--eval-every", "1", "--eval-episodes", "1"],
            "settings": ["satr": ["--algo", "satr"], "ec": ["--algo", "ec"]],
        ]
        let file = root.appendingPathComponent("sweep.json")
        try JSONSerialization.data(withJSONObject: spec).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repository.appendingPathComponent("scripts/sweep.py").path, file.path,
                             "--satr", SATRProcess.productsDirectory.appendingPathComponent("satr").path, "--no-plot", "--fresh-episodes", "2"]
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
}

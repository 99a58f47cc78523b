import Foundation
import XCTest

/// `satr train`, `eval`, `export`, `plot` as a user runs them.
final class TrainingCLITests: ScratchDirectoryTestCase {

    let tiny = ["--env", "InvertedPendulum-v5", "--population", "16", "--neurons", "64", "--eval-every", "2",
                "--eval-episodes", "2", "--seed", "3", "--threads", "2"]

    func testTrainEvalExportPlotAndResume() throws {
        let dir = root.appendingPathComponent("run").path
        let train = try SATRProcess.run(["train"] + tiny + ["--generations", "2", "--out", dir])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("Eval return"), train.stdout)
        XCTAssertTrue(train.stdout.contains("policy.json"), train.stdout)
        XCTAssertTrue(train.stdout.contains("learning_curve.svg"), train.stdout)
        XCTAssertTrue(train.stderr.isEmpty, "no progress line when not a terminal: \(train.stderr)")
        for name in ["config.json", "metrics.jsonl", "checkpoint.satr", "policy.json", "evaluation.json", "learning_curve.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + name), "missing \(name)")
        }

        let eval = try SATRProcess.run(["eval", dir, "--episodes", "3", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["returns"] as? [Any])?.count, 3)
        XCTAssertNotNil(object["return_mean"])
        XCTAssertEqual(object["task"] as? String, "InvertedPendulum-v5")
        let energy = try XCTUnwrap(object["energy"] as? [String: Any], "eval --json reports the counted operations")
        XCTAssertEqual(energy["env_steps"] as? Int, (object["lengths"] as? [Int])?.reduce(0, +))
        XCTAssertEqual(energy["dense_ann_macs_per_step"] as? Int, 4 * 64 + 64 * 64 + 64)
        XCTAssertNotNil(energy["energy_synaptic_pj_per_step"] as? Double)
        let evalAgain = try SATRProcess.run(["eval", dir + "/policy.json", "--episodes", "3", "--json", "--threads", "1"])
        XCTAssertEqual(evalAgain.stdout, eval.stdout, "eval does not depend on the thread count")

        let exported = root.appendingPathComponent("exported.json").path
        let export = try SATRProcess.run(["export", dir + "/checkpoint.satr", "--out", exported])
        XCTAssertEqual(export.status, 0, export.stderr)
        let exportEval = try SATRProcess.run(["eval", exported, "--episodes", "3", "--json"])
        XCTAssertEqual(exportEval.stdout, eval.stdout, "the exported policy is the run's policy")

        let resume = try SATRProcess.run(["train", "--resume", dir, "--generations", "3"])
        XCTAssertEqual(resume.status, 0, resume.stderr)
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)

        let svg = root.appendingPathComponent("curves.svg").path
        let plot = try SATRProcess.run(["plot", dir, dir, "--out", svg])
        XCTAssertEqual(plot.status, 0, plot.stderr)
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("<svg") && text.contains("2 seeds"))

        // `--out FILE.png` writes a PNG there (and the SVG beside it), or says why it cannot;
        // it never writes SVG text into a file named .png.
        let png = root.appendingPathComponent("figure.png").path
        let plotPNG = try SATRProcess.run(["plot", dir, "--out", png])
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("figure.svg").path))
        if plotPNG.status == 0 {
            let magic = try Data(contentsOf: URL(fileURLWithPath: png)).prefix(4)
            XCTAssertEqual(Array(magic), [0x89, 0x50, 0x4E, 0x47], "a PNG file")
        } else {
            XCTAssertTrue(plotPNG.stderr.contains("rsvg-convert"), plotPNG.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: png))
        }
        let jpg = root.appendingPathComponent("figure.jpg").path
        let plotJPG = try SATRProcess.run(["plot", dir, "--out", jpg])
        XCTAssertNotEqual(plotJPG.status, 0)
        XCTAssertTrue(plotJPG.stderr.contains(".svg or .png"), plotJPG.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: jpg))
    }

    func testBadFlagsFailWithClearMessages() throws {
        let out = root.appendingPathComponent("never").path
        let cases: [([String], String)] = [
            (["train", "--population", "1", "--out", out], "population"),
            (["train", "--algo", "sgd", "--out", out], "sgd"),
            (["train", "--env", "Nope-v0", "--out", out], "Nope-v0"),
            (["train", "--neurons", "100", "--out", out], "neurons"),
            (["train", "--algo", "ec", "--trust-radius", "0.1", "--out", out], "trust_radius"),
            (["train", "--signal-estimator", "magic", "--out", out], "lag1"),
            (["train", "--signal-estimator", "path", "--direction-momentum", "0.9", "--out", out], "direction_momentum"),
            (["train", "--common-resets", "true", "--out", out], "--common-resets"),
            (["train", "--algo", "ec", "--blockwise", "true", "--out", out], "blockwise"),
            (["train", "--env", "InvertedPendulum-v5", "--env-option", "terminate_when_unhealthy=false", "--out", out], "terminate_when_unhealthy"),
            (["train", "--env", "Hopper-v5", "--env-option", "healthy_rewrd=0", "--out", out], "healthy_reward"),
            (["train", "--env", "Hopper-v5", "--env-option", "healthy_reward=lots", "--out", out], "not a finite number"),
            (["train", "--env", "Hopper-v5", "--env-option", "healthy_reward", "--out", out], "NAME=VALUE"),
            (["train", "--env", "Hopper-v5", "--eval-env-option", "contact_cost_weight=1", "--out", out], "contact_cost_weight"),
            (["train", "--max-env-steps", "0", "--out", out], "max_env_steps"),
            (["train", "--max-wall-seconds", "0", "--out", out], "max_wall_seconds"),
            (["train", "--threads", "-1", "--out", out], "threads"),
            (["train", "--config", root.appendingPathComponent("missing.json").path, "--out", out], "missing.json"),
            (["train", "--resume", root.path], "checkpoint"),
            (["eval", root.appendingPathComponent("nothing").path], "does not exist"),
        ]
        for (arguments, word) in cases {
            let r = try SATRProcess.run(arguments)
            XCTAssertNotEqual(r.status, 0, "\(arguments) should fail")
            XCTAssertTrue(r.stderr.contains(word), "\(arguments): stderr should mention \(word): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused run writes nothing")
    }

    /// SATR with block-wise regions: the metrics carry the per-block diagnostics, and
    /// a run stopped after 2 generations and resumed to 4 equals an uninterrupted one.
    func testBlockwiseRunResumesBitIdentically() throws {
        let flags = tiny + ["--signal-estimator", "direction", "--direction-momentum", "0.9", "--blockwise", "true",
                            "--trust-radius", "0.1"]
        let whole = root.appendingPathComponent("whole").path, split = root.appendingPathComponent("split").path
        XCTAssertEqual(try SATRProcess.run(["train"] + flags + ["--generations", "4", "--out", whole]).status, 0)
        XCTAssertEqual(try SATRProcess.run(["train"] + flags + ["--generations", "2", "--out", split]).status, 0)
        let resumed = try SATRProcess.run(["train", "--resume", split, "--generations", "4"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        func lines(_ dir: String) throws -> [[String: Any]] {
            try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
                var row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
                for key in row.keys where key.hasPrefix("wall") { row[key] = nil }
                return row
            }
        }
        let a = try lines(whole), b = try lines(split)
        XCTAssertEqual(a.count, 4)
        XCTAssertNotNil(a[0]["opt_signal_energy_block2"], "per-block diagnostics: \(a[0].keys.sorted())")
        XCTAssertTrue(NSArray(array: a).isEqual(to: b), "resumed metrics differ from the uninterrupted run")
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: whole + "/config.json"))) as? [String: Any])
        XCTAssertEqual(config["blockwise"] as? Bool, true)
        XCTAssertNil(config["pool_while_still"], "a removed option is not written")
    }

    func testConfigFileWithFlagOverride() throws {
        let configURL = root.appendingPathComponent("config.json")
        try Data("{\"env\": \"InvertedPendulum-v5\", \"neurons\": 64, \"population\": 8, \"generations\": 5, \"eval_every\": 1, \"eval_episodes\": 1}".utf8).write(to: configURL)
        let dir = root.appendingPathComponent("run").path
        let r = try SATRProcess.run(["train", "--config", configURL.path, "--generations", "1", "--out", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        let resolved = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
        XCTAssertEqual(resolved["population"] as? Int, 8)
        XCTAssertEqual(resolved["generations"] as? Int, 1, "the flag overrides the file")
        XCTAssertNotNil(resolved["trust_radius"], "the resolved config makes defaults explicit")

        let bad = root.appendingPathComponent("bad.json")
        try Data("{\"populaton\": 8}".utf8).write(to: bad)
        let refused = try SATRProcess.run(["train", "--config", bad.path, "--out", root.appendingPathComponent("x").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("populaton"), refused.stderr)
    }

    func testCorruptCheckpointIsRefusedByResume() throws {
        let dir = root.appendingPathComponent("run").path
        XCTAssertEqual(try SATRProcess.run(["train"] + tiny + ["--generations", "1", "--out", dir]).status, 0)
        let url = URL(fileURLWithPath: dir + "/checkpoint.satr")
        var data = try Data(contentsOf: url)
        data[data.count - 10] ^= 0xFF
        try data.write(to: url)
        let metricsBefore = try Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.jsonl"))
        let r = try SATRProcess.run(["train", "--resume", dir, "--generations", "2"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("corrupt"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: url), data, "the checkpoint is left as it was")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.jsonl")), metricsBefore)

        let again = try SATRProcess.run(["train"] + tiny + ["--generations", "1", "--out", dir])
        XCTAssertNotEqual(again.status, 0, "a fresh run refuses an existing run directory")
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)
    }

    /// --env-option reaches the run's config for training only (the worker test in
    /// TrainingComponentTests checks the rewards), --max-env-steps ends the run after the
    /// generation that reaches it, and a resume may raise the budget but not change an option.
    func testEnvOptionsApplyToTrainingOnlyAndBudgetsStopAndResume() throws {
        let dir = root.appendingPathComponent("hop").path
        let args = ["train", "--env", "Hopper-v5", "--no-preset", "--population", "8", "--neurons", "64", "--eval-every", "1",
                    "--eval-episodes", "1", "--seed", "1", "--threads", "2", "--env-option", "healthy_reward=0",
                    "--max-env-steps", "300", "--out", dir]
        let r = try SATRProcess.run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        // The budget: the run ends after the first generation that reaches 300 steps.
        let steps = rows.map { $0["env_steps"] as? Int ?? 0 }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(steps.last), 300)
        XCTAssertLessThan(steps.dropLast().last ?? 0, 300)
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
        XCTAssertEqual((config["env_options"] as? [String: Any])?["healthy_reward"] as? Double, 0)
        XCTAssertEqual((config["eval_env_options"] as? [String: Any])?.count, 0)
        XCTAssertTrue(config["generations"] is NSNull, "an env-step budget lifts the generation limit")

        // Resuming with a larger env-step budget continues the same run.
        let resumed = try SATRProcess.run(["train", "--resume", dir, "--max-env-steps", "3000"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let more = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(more.count, rows.count)
        // Changing a training option on resume is refused, naming the key.
        let refused = try SATRProcess.run(["train", "--resume", dir, "--max-env-steps", "9000", "--env-option", "healthy_reward=1"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("env_options"), refused.stderr)
    }

    /// A task with a preset file trains with its settings; flags override them, and --no-preset
    /// gives the plain defaults. The preset's values are recorded in config.json.
    func testPresetsApplyAndFlagsOverride() throws {
        let presets = try SATRProcess.run(["presets"])
        XCTAssertEqual(presets.status, 0, presets.stderr)
        XCTAssertTrue(presets.stdout.contains("Hopper-v5"), presets.stdout)
        let dir = root.appendingPathComponent("preset").path
        let r = try SATRProcess.run(["train", "--env", "Hopper-v5", "--population", "4", "--neurons", "64", "--generations", "1",
                                     "--eval-every", "0", "--eval-episodes", "1", "--threads", "2", "--out", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
        XCTAssertEqual(config["population"] as? Int, 4, "the flag overrides the preset")
        let shown = try XCTUnwrap(String(data: try JSONSerialization.data(withJSONObject: config), encoding: .utf8))
        let preset = try SATRProcess.run(["presets", "Hopper-v5", "--algo", "satr"])
        XCTAssertEqual(preset.status, 0, preset.stderr)
        let presetObject = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(preset.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(config["neurons"] as? Int, 64, "the flag overrides the preset's neurons too")
        for (key, value) in presetObject where !["population", "neurons", "generations", "max_env_steps", "eval_every", "eval_episodes"].contains(key) {
            XCTAssertEqual("\(config[key] ?? "absent")", "\(value)", "preset key \(key) in \(shown)")
        }
        let plainDir = root.appendingPathComponent("plain").path
        let plain = try SATRProcess.run(["train", "--env", "Hopper-v5", "--no-preset", "--population", "4", "--neurons", "64",
                                         "--generations", "1", "--eval-every", "0", "--eval-episodes", "1", "--out", plainDir])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let plainConfig = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plainDir + "/config.json"))) as? [String: Any])
        XCTAssertEqual(plainConfig["trust_radius"] as? Double, 0.03)
    }
}

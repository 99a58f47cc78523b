import ArgumentParser
import Environments
import Foundation

/// `satr rollout`: replays the actions of a JSONL file in a task and writes a trace in the schema of
/// the Gymnasium fixtures.
struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Replay actions in a task and write a trace.",
        discussion: """
            FILE is JSON Lines: every line with an "action" array is one step, so a trace or a \
            Gymnasium fixture file is a valid actions file. The trace has a header line, then \
            {"t": 0, "obs": [...], "info": {...}}, then one line per step with t, action, obs, reward, \
            terminated, truncated and info; it stops at termination or truncation, or when the actions \
            run out. Floats are written at full precision (shortest round-trip form). To reproduce a \
            fixture, pass --reset-noise-scale 0 (and --terminate-when-unhealthy false for the \
            no_termination files).
            """)

    @Option(name: .long, help: "Task id (see `satr envs`).")
    var env: String

    @Option(name: .long, help: "JSONL file with the actions.")
    var actions: String

    @Option(name: .long, help: "Reset noise scale (default: the task's).")
    var resetNoiseScale: Double?

    @Option(name: .long, help: "true or false (Hopper, Walker2d, Ant, Humanoid; default true).")
    var terminateWhenUnhealthy: Bool?

    @Option(name: .long, help: "Reset seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Output file (default: standard output).")
    var out: String?

    func run() throws {
        let spec = try TaskRegistry.spec(id: env)
        let options = EnvironmentOptions(resetNoiseScale: resetNoiseScale, terminateWhenUnhealthy: terminateWhenUnhealthy)
        var environment = try TaskRegistry.make(id: env, options: options)
        let actionList = try ActionsFile.read(path: actions, actionSize: spec.actionSize)

        var lines: [String] = []
        let first = environment.reset(seed: seed)
        lines.append(JSONLine.object([
            ("t", "0"), ("obs", JSONLine.numbers(first)), ("info", JSONLine.info(environment.resetInfo())),
        ]))
        var endedBy = "actions_exhausted"
        for (t, action) in actionList.enumerated() {
            let result = try environment.step(action)
            lines.append(JSONLine.object([
                ("t", "\(t + 1)"), ("action", JSONLine.numbers(action)), ("obs", JSONLine.numbers(result.observation)),
                ("reward", JSONLine.number(result.reward)), ("terminated", "\(result.terminated)"),
                ("truncated", "\(result.truncated)"), ("info", JSONLine.info(result.info)),
            ]))
            if result.terminated {
                endedBy = "terminated"
                break
            }
            if result.truncated {
                endedBy = "truncated"
                break
            }
        }
        let resolved = environment.options
        var kwargs: [(String, String)] = [("reset_noise_scale", JSONLine.number(resolved.resetNoiseScale ?? 0))]
        if let terminate = resolved.terminateWhenUnhealthy { kwargs.append(("terminate_when_unhealthy", "\(terminate)")) }
        let header = JSONLine.object([
            ("env", JSONLine.string(spec.id)), ("mujoco", JSONLine.string(Environments.mujocoVersion)),
            ("make_kwargs", JSONLine.object(kwargs)),
            ("reset_noise_scale", JSONLine.number(resolved.resetNoiseScale ?? 0)), ("seed", "\(seed)"),
            ("frame_skip", "\(spec.frameSkip)"), ("timestep", JSONLine.number(spec.timestep)),
            ("dt", JSONLine.number(spec.dt)), ("max_episode_steps", "\(spec.maxEpisodeSteps)"),
            ("xml_file", JSONLine.string(spec.modelName + ".xml")), ("action_low", JSONLine.numbers(spec.actionLow)),
            ("action_high", JSONLine.numbers(spec.actionHigh)), ("actions_file", JSONLine.string(actions)),
            ("steps", "\(lines.count - 1)"), ("ended_by", JSONLine.string(endedBy)),
        ])
        let text = ([header] + lines).joined(separator: "\n") + "\n"
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

/// Reads the action lines of a JSONL file.
enum ActionsFile {
    private struct Line: Decodable {
        var action: [Double]?
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// Every `"action"` array of the file, in order; each must have `actionSize` values.
    static func read(path: String, actionSize: Int) throws -> [[Double]] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Problem(description: "cannot read actions file '\(path)': \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        var result: [[Double]] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                continue
            }
            let parsed: Line
            do {
                parsed = try decoder.decode(Line.self, from: Data(line))
            } catch {
                throw Problem(description: "\(path):\(number + 1): not a JSON object with an optional \"action\" array of numbers")
            }
            guard let action = parsed.action else { continue }
            guard action.count == actionSize else {
                throw Problem(description: "\(path):\(number + 1): the action has \(action.count) values; the task needs \(actionSize)")
            }
            result.append(action)
        }
        if result.isEmpty {
            throw Problem(description: "\(path) has no line with an \"action\" array")
        }
        return result
    }
}

/// Minimal JSON text output with full-precision floats.
enum JSONLine {
    /// The shortest text that round-trips `x`; NaN and infinities as Python's json writes them.
    static func number(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
        return "\(x)"
    }

    static func numbers(_ xs: [Double]) -> String {
        "[" + xs.map(number).joined(separator: ",") + "]"
    }

    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// An object from (key, already-encoded value) pairs, in order.
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// An info dictionary, keys sorted; "name[i]" entries are regrouped into arrays "name".
    static func info(_ info: [String: Double]) -> String {
        var scalars: [(String, String)] = []
        var vectors: [String: [(Int, Double)]] = [:]
        for (key, value) in info {
            if key.hasSuffix("]"), let open = key.lastIndex(of: "["),
                let index = Int(key[key.index(after: open)..<key.index(before: key.endIndex)])
            {
                vectors[String(key[..<open]), default: []].append((index, value))
            } else {
                scalars.append((key, number(value)))
            }
        }
        for (name, entries) in vectors {
            scalars.append((name, numbers(entries.sorted { $0.0 < $1.0 }.map(\.1))))
        }
        return object(scalars.sorted { $0.0 < $1.0 })
    }
}

import ArgumentParser
import Environments
import Foundation
import Training

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
            run out. Floats are written at full precision (shortest round-trip form), keys sorted; a \
            non-finite number is written as the string "nan", "inf" or "-inf". To reproduce a \
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

    @Option(name: .customLong("env-option"), help: ArgumentHelp(
        "Any other environment option NAME=VALUE with Gymnasium's name (repeatable; see `satr envs`), e.g. include_cvel_in_observation=false.",
        valueName: "NAME=VALUE"))
    var envOptions: [String] = []

    @Option(name: .long, help: "Reset seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Output file (default: standard output).")
    var out: String?

    func run() throws {
        let options = try EnvironmentOptions.parse(assignments: envOptions).overlaid(
            by: EnvironmentOptions(resetNoiseScale: resetNoiseScale, terminateWhenUnhealthy: terminateWhenUnhealthy))
        let spec = try TaskRegistry.spec(id: env, options: options)
        var environment = try TaskRegistry.make(id: env, options: options)
        let actionList = try ActionsFile.read(path: actions, actionSize: spec.actionSize)

        var lines: [TraceLine] = []
        let first = environment.reset(seed: seed)
        lines.append(TraceLine(t: 0, obs: first, info: TraceInfo(environment.resetInfo())))
        var endedBy = "actions_exhausted"
        for (t, action) in actionList.enumerated() {
            let result = try environment.step(action)
            lines.append(TraceLine(
                t: t + 1, action: action, obs: result.observation, reward: result.reward, terminated: result.terminated,
                truncated: result.truncated, info: TraceInfo(result.info)))
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
        let header = TraceHeader(
            env: spec.id, mujoco: Environments.mujocoVersion,
            makeKwargs: options.overlaid(by: EnvironmentOptions(
                resetNoiseScale: resolved.resetNoiseScale ?? 0, terminateWhenUnhealthy: resolved.terminateWhenUnhealthy)),
            resetNoiseScale: resolved.resetNoiseScale ?? 0, seed: seed, frameSkip: spec.frameSkip, timestep: spec.timestep,
            dt: spec.dt, maxEpisodeSteps: spec.maxEpisodeSteps, xmlFile: spec.modelName + ".xml", actionLow: spec.actionLow,
            actionHigh: spec.actionHigh, actionsFile: actions, steps: lines.count - 1, endedBy: endedBy)
        let encoder = JSONCoding.encoder()
        var text = String(decoding: try encoder.encode(header), as: UTF8.self) + "\n"
        for line in lines { text += String(decoding: try encoder.encode(line), as: UTF8.self) + "\n" }
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
        let decoder = JSONCoding.decoder()
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

/// The first line of a trace: the task, the options it ran with and how it ended (the header of
/// the Gymnasium fixtures, Tests/EnvironmentsTests/Fixtures/README.md).
struct TraceHeader: Encodable {
    var env: String
    var mujoco: String
    /// The `gymnasium.make` arguments that reproduce the trace: the resolved reset noise and
    /// termination rule (absent for tasks without it) and every other option given.
    var makeKwargs: EnvironmentOptions
    var resetNoiseScale: Double
    var seed: UInt64
    var frameSkip: Int
    var timestep: Double
    var dt: Double
    var maxEpisodeSteps: Int
    var xmlFile: String
    var actionLow: [Double]
    var actionHigh: [Double]
    var actionsFile: String
    var steps: Int
    var endedBy: String

    enum CodingKeys: String, CodingKey {
        case env, mujoco, seed, timestep, dt, steps
        case makeKwargs = "make_kwargs", resetNoiseScale = "reset_noise_scale", frameSkip = "frame_skip"
        case maxEpisodeSteps = "max_episode_steps", xmlFile = "xml_file", actionLow = "action_low", actionHigh = "action_high"
        case actionsFile = "actions_file", endedBy = "ended_by"
    }
}

/// One line after the header: the reset (t = 0: obs and info only) or step t.
struct TraceLine: Encodable {
    var t: Int
    var action: [Double]? = nil
    var obs: [Double]
    var reward: Double? = nil
    var terminated: Bool? = nil
    var truncated: Bool? = nil
    var info: TraceInfo
}

/// An info dictionary as the fixtures write it: "name[i]" entries regrouped into arrays "name".
struct TraceInfo: Encodable {
    enum Value: Encodable {
        case number(Double), numbers([Double])
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let x): try c.encode(x)
            case .numbers(let xs): try c.encode(xs)
            }
        }
    }
    var values: [String: Value]

    init(_ info: [String: Double]) {
        values = [:]
        var vectors: [String: [(Int, Double)]] = [:]
        for (key, value) in info {
            if key.hasSuffix("]"), let open = key.lastIndex(of: "["),
                let index = Int(key[key.index(after: open)..<key.index(before: key.endIndex)])
            {
                vectors[String(key[..<open]), default: []].append((index, value))
            } else {
                values[key] = .number(value)
            }
        }
        for (name, entries) in vectors {
            values[name] = .numbers(entries.sorted { $0.0 < $1.0 }.map(\.1))
        }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

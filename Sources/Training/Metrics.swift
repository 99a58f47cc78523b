import Foundation

/// A JSON value small enough for metrics lines, written with a fixed key order so that two runs
/// that compute the same numbers write the same bytes.
public enum JSONValue: Sendable, Equatable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Compact JSON text. Doubles use Swift's shortest round-trip form (so parsing gives back the
    /// same bits); a non-finite double becomes `null`.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .int(let v): out += String(v)
        case .double(let v): out += JSONValue.format(v)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (key, value)) in fields.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// The shortest round-trip decimal form of `v` (`null` when not finite).
    public static func format(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return v.description
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
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
        out += "\""
    }
}

/// One line of `metrics.jsonl`: the record of one generation.
///
/// Keys, in this order:
/// - `generation`: generations completed (1-based; the random streams of this generation use
///   t = generation - 1), `env_steps`: environment steps of all members so far (evaluation
///   episodes not included), `episodes`;
/// - `fitness_mean`, `fitness_std`, `fitness_min`, `fitness_max` over the finite fitnesses,
///   `nonfinite_members` (members whose physics diverged; they rank lowest);
/// - when the deterministic network was evaluated: `eval_return_mean`, `eval_return_std`,
///   `eval_return_min`, `eval_return_max`, `eval_length_mean`;
/// - every optimizer diagnostic, as `opt_<name>`;
/// - last, the wall-clock measurements, all named `wall_*`: `wall_s`, seconds of training so far
///   (for a resumed run: the checkpoint's `wall_seconds` plus the time since the resume; time lost
///   between the checkpoint and an interruption is not counted), and `wall_steps_per_s`, env steps
///   per second of this process since it started or resumed.
///
/// Everything not named `wall_*` is a deterministic function of the config: a resumed run, or a
/// run with another thread (or process) count, writes the same values.
public struct MetricsRecord: Sendable, Equatable {
    public var fields: [(String, JSONValue)]

    public init(fields: [(String, JSONValue)] = []) { self.fields = fields }

    public static func == (a: MetricsRecord, b: MetricsRecord) -> Bool {
        JSONValue.object(a.fields) == JSONValue.object(b.fields)
    }

    public mutating func append(_ key: String, _ value: JSONValue) { fields.append((key, value)) }
    public mutating func append(_ key: String, _ value: Double) { fields.append((key, .double(value))) }
    public mutating func append(_ key: String, _ value: Int) { fields.append((key, .int(value))) }

    /// The line's JSON text (no newline).
    public var line: String { JSONValue.object(fields).text }

    /// True for the keys that hold wall-clock measurements (prefix `wall_`).
    public static func isWallClock(_ key: String) -> Bool { key.hasPrefix("wall_") }
}

/// Appends records to `metrics.jsonl`.
///
/// On resume, `truncate(keepingGenerationsBelowOrEqual:)` first removes lines past the
/// checkpoint's generation (lines written after the last checkpoint by an interrupted run), so the
/// file ends exactly where the checkpoint's run continues.
public final class MetricsWriter {
    public let url: URL
    private let handle: FileHandle

    /// Opens `url` for appending, creating it if needed.
    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw IOError(description: "cannot create \(url.path)")
            }
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw IOError(description: "cannot open \(url.path) for writing: \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    /// Appends one line.
    public func append(_ record: MetricsRecord) throws {
        try handle.write(contentsOf: Data((record.line + "\n").utf8))
    }

    /// Flushes the file to disk (called before a checkpoint is written, so a checkpoint never
    /// refers to metrics lines that could be lost).
    public func synchronize() throws {
        try handle.synchronize()
    }

    /// Rewrites `url` atomically keeping only the complete lines whose `generation` is at most
    /// `generation`.
    public static func truncate(_ url: URL, keepingGenerationsThrough generation: Int) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let text = String(decoding: data, as: UTF8.self)
        var kept = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let g = MetricsFile.generation(ofLine: String(line)) else { continue }
            if g <= generation { kept += line + "\n" }
        }
        try AtomicFile.write(Data(kept.utf8), to: url)
    }
}

/// One line of `metrics.jsonl` (or the object of `evaluation.json`), read back: the fields that
/// `MetricsRecord`'s documentation lists, typed. A non-finite value is written as `null` and
/// reads as nil. Only `generation` is required; the other fields are nil when the line does not
/// have them (an `evaluation.json` has no fitness statistics, a generation without a scheduled
/// evaluation no `eval_*`).
public struct MetricsLine: Decodable, Sendable, Equatable {
    public var generation: Int
    public var envSteps: Int?
    public var episodes: Int?
    public var fitnessMean: Double?
    public var fitnessStd: Double?
    public var fitnessMin: Double?
    public var fitnessMax: Double?
    public var nonfiniteMembers: Int?
    public var evalReturnMean: Double?
    public var evalReturnStd: Double?
    public var evalReturnMin: Double?
    public var evalReturnMax: Double?
    public var evalLengthMean: Double?
    /// `evaluation.json`: each episode's return (nil: not finite) and length.
    public var returns: [Double?]?
    public var lengths: [Int]?
    /// Every `opt_<name>` optimizer diagnostic, keyed by `<name>` (nil: written as null).
    public var optimizer: [String: Double?]
    public var wallSeconds: Double?
    public var wallStepsPerSecond: Double?
    public var wallRolloutsSeconds: Double?
    public var wallUpdateSeconds: Double?
    public var wallEvalSeconds: Double?

    /// Any key: the documented names plus the `opt_` prefix.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func int(_ name: String) throws -> Int? { try c.decodeIfPresent(Int.self, forKey: Key(name)) }
        func double(_ name: String) throws -> Double? { try c.decodeIfPresent(Double.self, forKey: Key(name)) }
        generation = try c.decode(Int.self, forKey: Key("generation"))
        envSteps = try int("env_steps")
        episodes = try int("episodes")
        fitnessMean = try double("fitness_mean")
        fitnessStd = try double("fitness_std")
        fitnessMin = try double("fitness_min")
        fitnessMax = try double("fitness_max")
        nonfiniteMembers = try int("nonfinite_members")
        evalReturnMean = try double("eval_return_mean")
        evalReturnStd = try double("eval_return_std")
        evalReturnMin = try double("eval_return_min")
        evalReturnMax = try double("eval_return_max")
        evalLengthMean = try double("eval_length_mean")
        returns = try c.decodeIfPresent([Double?].self, forKey: Key("returns"))
        lengths = try c.decodeIfPresent([Int].self, forKey: Key("lengths"))
        wallSeconds = try double("wall_s")
        wallStepsPerSecond = try double("wall_steps_per_s")
        wallRolloutsSeconds = try double("wall_rollouts_s")
        wallUpdateSeconds = try double("wall_update_s")
        wallEvalSeconds = try double("wall_eval_s")
        optimizer = [:]
        for key in c.allKeys where key.stringValue.hasPrefix("opt_") {
            optimizer[String(key.stringValue.dropFirst(4))] = .some(try c.decodeIfPresent(Double.self, forKey: key))
        }
    }

    /// Parses one line of text (nil when it is not a metrics object, e.g. a partial last line).
    public static func parse<Bytes: Sequence<UInt8>>(_ line: Bytes) -> MetricsLine? {
        try? JSONCoding.decoder().decode(MetricsLine.self, from: Data(line))
    }
}

/// Reading `metrics.jsonl` back (plots, tests, resume).
public enum MetricsFile {
    /// Every line of the file, typed. Lines that are not metrics objects (a partial last line)
    /// are skipped.
    public static func read(_ url: URL) throws -> [MetricsLine] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw IOError(description: "cannot read \(url.path)")
        }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { MetricsLine.parse($0) }
    }

    static func generation(ofLine line: String) -> Int? {
        MetricsLine.parse(Array(line.utf8))?.generation
    }

    /// The file's lines with every wall-clock field removed (for comparing runs).
    public static func deterministicLines(_ url: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw IOError(description: "cannot read \(url.path)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            // Wall-clock fields are written last, so cut the line at the first one.
            if let range = line.range(of: ",\"wall_") { return String(line[..<range.lowerBound]) + "}" }
            return String(line)
        }
    }
}

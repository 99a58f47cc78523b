import Foundation
import XCTest

@testable import Environments

/// A Gymnasium reference trace (JSON Lines; see Fixtures/README.md).
struct FixtureTrace {
    struct Header: Decodable {
        var env: String
        var reset_noise_scale: Double
        var frame_skip: Int
        var timestep: Double
        var dt: Double
        var max_episode_steps: Int
        var action_low: [Double]
        var action_high: [Double]
        var steps: Int
        var ended_by: String
        var make_kwargs: [String: JSONScalar]?
    }

    /// A JSON number, boolean or array of numbers.
    enum JSONScalar: Decodable {
        case number(Double), bool(Bool), numbers([Double])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let d = try? c.decode(Double.self) {
                self = .number(d)
            } else {
                self = .numbers(try c.decode([Double].self))
            }
        }
    }

    struct Line: Decodable {
        var t: Int
        var action: [Double]?
        var obs: [Double]
        var reward: Double?
        var terminated: Bool?
        var truncated: Bool?
        var info: [String: JSONScalar]?

        /// The info with vector entries flattened as "name[i]".
        var flatInfo: [String: Double] {
            var result: [String: Double] = [:]
            for (key, value) in info ?? [:] {
                switch value {
                case .number(let d): result[key] = d
                case .bool(let b): result[key] = b ? 1 : 0
                case .numbers(let list):
                    for (i, d) in list.enumerated() { result["\(key)[\(i)]"] = d }
                }
            }
            return result
        }
    }

    var header: Header
    var reset: Line
    var steps: [Line]

    /// Loads `Fixtures/gymnasium/<relativePath>` from the test bundle.
    static func load(_ relativePath: String) throws -> FixtureTrace {
        guard let base = Bundle.module.resourceURL else { throw CocoaError(.fileNoSuchFile) }
        let url = base.appendingPathComponent("Fixtures/gymnasium").appendingPathComponent(relativePath)
        return try parse(Data(contentsOf: url))
    }

    static func parse(_ data: Data) throws -> FixtureTrace {
        let lines = data.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }
        let decoder = JSONDecoder()
        let header = try decoder.decode(Header.self, from: Data(lines[0]))
        let reset = try decoder.decode(Line.self, from: Data(lines[1]))
        let steps = try lines.dropFirst(2).map { try decoder.decode(Line.self, from: Data($0)) }
        return FixtureTrace(header: header, reset: reset, steps: steps)
    }
}

/// Largest violation of `|mine - ref| <= atol + rtol * |ref|`, as a ratio to the allowed error
/// (<= 1 passes), with the index where it occurs.
func worstError(_ mine: [Double], _ reference: [Double], atol: Double = 1e-6, rtol: Double = 1e-6)
    -> (ratio: Double, index: Int, abs: Double)
{
    var worst = (ratio: 0.0, index: -1, abs: 0.0)
    for i in 0..<min(mine.count, reference.count) {
        let err = abs(mine[i] - reference[i])
        let ratio = err.isNaN ? .infinity : err / (atol + rtol * abs(reference[i]))
        if ratio > worst.ratio { worst = (ratio, i, err) }
    }
    return worst
}

/// Replays `trace` in a new environment and asserts every step within tolerance. Returns the
/// largest absolute error seen over obs, reward and info.
@discardableResult
func assertReproduces(
    _ trace: FixtureTrace, options: EnvironmentOptions, file: StaticString = #filePath, line: UInt = #line
) throws -> Double {
    let id = trace.header.env
    var env = try TaskRegistry.make(id: id, options: options)
    XCTAssertEqual(env.spec.dt, trace.header.dt, "\(id) dt", file: file, line: line)
    XCTAssertEqual(env.spec.frameSkip, trace.header.frame_skip, file: file, line: line)
    // Gymnasium's action space is a float32 box over ctrlrange: compare as Float32.
    XCTAssertEqual(env.spec.actionLow.map { Float($0) }, trace.header.action_low.map { Float($0) }, file: file, line: line)
    XCTAssertEqual(env.spec.actionHigh.map { Float($0) }, trace.header.action_high.map { Float($0) }, file: file, line: line)
    var maxAbs = 0.0
    let first = env.reset(seed: 0)
    XCTAssertEqual(first.count, trace.reset.obs.count, "\(id) obs size", file: file, line: line)
    let w0 = worstError(first, trace.reset.obs)
    XCTAssertLessThanOrEqual(w0.ratio, 1, "\(id) reset obs[\(w0.index)] off by \(w0.abs)", file: file, line: line)
    maxAbs = max(maxAbs, w0.abs)
    let resetInfo = env.resetInfo()
    for (key, value) in trace.reset.flatInfo {
        guard let mine = resetInfo[key] else {
            XCTFail("\(id) reset info lacks \(key)", file: file, line: line)
            continue
        }
        XCTAssertEqual(mine, value, accuracy: 1e-6 + 1e-6 * abs(value), "\(id) reset info \(key)", file: file, line: line)
    }
    XCTAssertEqual(Set(resetInfo.keys), Set(trace.reset.flatInfo.keys), "\(id) reset info keys", file: file, line: line)
    for (k, ref) in trace.steps.enumerated() {
        let step = k + 1
        guard let action = ref.action else {
            XCTFail("\(id) line \(step) has no action", file: file, line: line)
            return maxAbs
        }
        let result = try env.step(action)
        let w = worstError(result.observation, ref.obs)
        let rewardRef = ref.reward ?? .nan
        let rewardError = abs(result.reward - rewardRef)
        maxAbs = max(maxAbs, w.abs, rewardError)
        var problems: [String] = []
        if result.observation.count != ref.obs.count { problems.append("obs size \(result.observation.count)") }
        if w.ratio > 1 { problems.append("obs[\(w.index)] off by \(w.abs)") }
        if !(rewardError <= 1e-6 + 1e-6 * abs(rewardRef)) {
            problems.append("reward \(result.reward) vs \(rewardRef)")
        }
        if result.terminated != ref.terminated { problems.append("terminated \(result.terminated)") }
        if result.truncated != ref.truncated { problems.append("truncated \(result.truncated)") }
        let refInfo = ref.flatInfo
        for (key, value) in refInfo {
            guard let mine = result.info[key] else {
                problems.append("info lacks \(key)")
                continue
            }
            let err = abs(mine - value)
            maxAbs = max(maxAbs, err)
            if !(err <= 1e-6 + 1e-6 * abs(value)) { problems.append("info \(key) \(mine) vs \(value)") }
        }
        if Set(result.info.keys) != Set(refInfo.keys) {
            problems.append("info keys \(result.info.keys.sorted()) vs \(refInfo.keys.sorted())")
        }
        if !problems.isEmpty {
            XCTFail("\(id): step \(step) diverges: \(problems.joined(separator: "; "))", file: file, line: line)
            return maxAbs
        }
    }
    XCTAssertEqual(env.elapsedSteps, trace.header.steps, "\(id) episode length", file: file, line: line)
    if trace.header.ended_by == "terminated" {
        XCTAssertEqual(trace.steps.last?.terminated, true, file: file, line: line)
    }
    return maxAbs
}

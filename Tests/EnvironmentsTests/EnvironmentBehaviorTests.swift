import Foundation
import Randomness
import XCTest

@testable import Environments

/// Registry, options, reset noise, truncation, errors, determinism and threading.
final class EnvironmentBehaviorTests: XCTestCase {
    /// (id, obs, act, low, high, frame_skip, timestep) from docs/TASKS.md.
    static let table: [(String, Int, Int, Double, Double, Int, Double)] = [
        ("Hopper-v5", 11, 3, -1, 1, 4, 0.002),
        ("Walker2d-v5", 17, 6, -1, 1, 4, 0.002),
        ("HalfCheetah-v5", 17, 6, -1, 1, 5, 0.01),
        ("Ant-v5", 105, 8, -1, 1, 5, 0.01),
        ("Humanoid-v5", 348, 17, -0.4, 0.4, 5, 0.003),
        ("Swimmer-v5", 8, 2, -1, 1, 4, 0.01),
        ("InvertedPendulum-v5", 4, 1, -3, 3, 2, 0.02),
        ("InvertedDoublePendulum-v5", 9, 1, -1, 1, 5, 0.01),
    ]

    func testRegistryListsTheEightTasks() throws {
        XCTAssertEqual(TaskRegistry.ids, Self.table.map(\.0))
        for (id, obs, act, low, high, skip, timestep) in Self.table {
            let spec = try TaskRegistry.spec(id: id)
            XCTAssertEqual(spec.observationSize, obs, id)
            XCTAssertEqual(spec.actionSize, act, id)
            XCTAssertEqual(spec.actionLow, Array(repeating: low, count: act), id)
            XCTAssertEqual(spec.actionHigh, Array(repeating: high, count: act), id)
            XCTAssertEqual(spec.frameSkip, skip, id)
            XCTAssertEqual(spec.timestep, timestep, id)
            XCTAssertEqual(spec.dt, timestep * Double(skip), id)
            XCTAssertEqual(spec.maxEpisodeSteps, 1000, id)
            var env = try TaskRegistry.make(id: id)
            XCTAssertEqual(env.reset(seed: 1).count, obs, id)
        }
    }

    func testUnknownTaskErrorListsKnownTasks() {
        XCTAssertThrowsError(try TaskRegistry.spec(id: "Hopper-v4")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("unknown task 'Hopper-v4'"), text)
            XCTAssertTrue(text.contains("Hopper-v5") && text.contains("InvertedDoublePendulum-v5"), text)
        }
        XCTAssertThrowsError(try TaskRegistry.make(id: "CartPole-v1"))
    }

    func testOptionsAreValidatedPerTask() throws {
        XCTAssertThrowsError(try TaskRegistry.make(id: "HalfCheetah-v5", options: .init(terminateWhenUnhealthy: false))) {
            error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("terminate_when_unhealthy") && text.contains("HalfCheetah-v5"), text)
        }
        XCTAssertThrowsError(try TaskRegistry.make(id: "Hopper-v5", options: .init(contactCostWeight: 1)))
        XCTAssertThrowsError(try TaskRegistry.make(id: "InvertedPendulum-v5", options: .init(healthyReward: 2)))
        XCTAssertThrowsError(try TaskRegistry.make(id: "Ant-v5", options: .init(resetNoiseScale: -0.1)))
        XCTAssertThrowsError(try TaskRegistry.make(id: "Ant-v5", options: .init(ctrlCostWeight: .nan)))
        let env = try TaskRegistry.make(id: "Ant-v5", options: .init(healthyReward: 2))
        XCTAssertEqual(env.options.healthyReward, 2)
        XCTAssertEqual(env.options.ctrlCostWeight, 0.5)
        XCTAssertEqual(env.options.terminateWhenUnhealthy, true)
        XCTAssertEqual(env.options.resetNoiseScale, 0.1)
        XCTAssertNil(try TaskRegistry.make(id: "Swimmer-v5").options.terminateWhenUnhealthy)
    }

    /// Gymnasium v5's `include_*_in_observation` options: the observation is the default one with
    /// the excluded blocks cut out, the others in order (Humanoid: qpos/qvel 45, cinert 130, cvel 78,
    /// qfrc_actuator 17, cfrc_ext 78; Ant: 27 and cfrc_ext 78); the spec's size follows, and the
    /// dynamics and rewards do not change. Tasks without the options refuse them.
    func testObservationOptionsCutGymnasiumsBlocks() throws {
        typealias Block = (name: String, range: Range<Int>)
        let humanoid: [Block] = [
            ("include_cinert_in_observation", 45..<175), ("include_cvel_in_observation", 175..<253),
            ("include_qfrc_actuator_in_observation", 253..<270), ("include_cfrc_ext_in_observation", 270..<348),
        ]
        let ant: [Block] = [("include_cfrc_ext_in_observation", 27..<105)]
        for (id, blocks, fixed) in [("Humanoid-v5", humanoid, 0..<45), ("Ant-v5", ant, 0..<27)] {
            let spec = try TaskRegistry.spec(id: id)
            let actions = (0..<6).map { t in (0..<spec.actionSize).map { i in spec.actionHigh[i] * sin(Double(3 * t + i)) } }
            func run(_ options: EnvironmentOptions) throws -> (observations: [[Double]], rewards: [Double]) {
                var env = try TaskRegistry.make(id: id, options: options)
                var observations = [env.reset(seed: 5)], rewards: [Double] = []
                for action in actions {
                    let result = try env.step(action)
                    observations.append(result.observation)
                    rewards.append(result.reward)
                }
                XCTAssertEqual(env.spec.observationSize, observations[0].count, id)
                return (observations, rewards)
            }
            let full = try run(EnvironmentOptions())
            XCTAssertEqual(full.observations[0].count, spec.observationSize)
            for mask in 0..<(1 << blocks.count) {
                var options = EnvironmentOptions()
                var kept = Array(fixed)
                for (b, block) in blocks.enumerated() {
                    let included = mask & (1 << b) != 0
                    try options.set(block.name, to: "\(included)")
                    if included { kept += Array(block.range) }
                }
                let cut = try run(options)
                XCTAssertEqual(try TaskRegistry.spec(id: id, options: options).observationSize, kept.count, "\(id) \(mask)")
                XCTAssertEqual(cut.observations, full.observations.map { obs in kept.map { obs[$0] } }, "\(id) \(mask)")
                XCTAssertEqual(cut.rewards, full.rewards, "\(id) \(mask)")
            }
        }
        XCTAssertEqual(try TaskRegistry.spec(id: "Humanoid-v5", options: .init(includeCinertInObservation: false,
            includeCvelInObservation: false, includeQfrcActuatorInObservation: false, includeCfrcExtInObservation: false)).observationSize, 45)
        XCTAssertThrowsError(try TaskRegistry.spec(id: "Hopper-v5", options: .init(includeCvelInObservation: false))) { error in
            XCTAssertTrue("\(error)".contains("include_cvel_in_observation"), "\(error)")
        }
        XCTAssertThrowsError(try TaskRegistry.make(id: "Ant-v5", options: .init(includeCinertInObservation: false)))
        var options = EnvironmentOptions()
        XCTAssertThrowsError(try options.set("include_cvel_in_observation", to: "maybe")) { error in
            XCTAssertTrue("\(error)".contains("not true or false"), "\(error)")
        }
    }

    func testRewardWeightsChangeTheReward() throws {
        let action = [0.5, -0.5, 0.25]
        var base = try TaskRegistry.make(id: "Hopper-v5", options: .init(resetNoiseScale: 0))
        var tuned = try TaskRegistry.make(
            id: "Hopper-v5",
            options: .init(resetNoiseScale: 0, forwardRewardWeight: 2, ctrlCostWeight: 0.5, healthyReward: 3))
        _ = base.reset(seed: 0)
        _ = tuned.reset(seed: 0)
        let a = try base.step(action), b = try tuned.step(action)
        XCTAssertEqual(a.observation, b.observation)
        let xVelocity = try XCTUnwrap(a.info["x_velocity"])
        XCTAssertEqual(b.info["reward_forward"], 2 * xVelocity)
        XCTAssertEqual(b.info["reward_ctrl"] ?? 0, -0.5 * (0.25 + 0.25 + 0.0625), accuracy: 1e-15)
        XCTAssertEqual(b.info["reward_survive"], 3)
        XCTAssertEqual(a.reward, (xVelocity + 1) - 1e-3 * 0.5625, accuracy: 1e-12)
        XCTAssertEqual(b.reward, (2 * xVelocity + 3) - 0.5 * 0.5625, accuracy: 1e-12)
    }

    // MARK: Reset

    func testZeroNoiseResetIsQpos0AtRest() throws {
        for spec in TaskRegistry.all {
            var env = try TaskRegistry.make(id: spec.id, options: .init(resetNoiseScale: 0))
            _ = env.reset(seed: 12345)
            let model = try TaskRegistry.model(id: spec.id)
            XCTAssertEqual(env.data.qpos, model.qpos0, spec.id)
            XCTAssertEqual(env.data.qvel, Array(repeating: 0, count: model.nv), spec.id)
        }
    }

    /// Per task: which coordinates are uniform in [-s, s) and whether qvel is normal.
    static let noiseKinds: [String: (scale: Double, velocityNormal: Bool)] = [
        "Hopper-v5": (5e-3, false), "Walker2d-v5": (5e-3, false), "HalfCheetah-v5": (0.1, true),
        "Ant-v5": (0.1, true), "Humanoid-v5": (0.01, false), "Swimmer-v5": (0.1, false),
        "InvertedPendulum-v5": (0.01, false), "InvertedDoublePendulum-v5": (0.1, true),
    ]

    func testResetNoiseBoundsAndDistributions() throws {
        let resets = 300
        for spec in TaskRegistry.all {
            let (scale, normal) = try XCTUnwrap(Self.noiseKinds[spec.id])
            XCTAssertEqual(spec.defaultResetNoiseScale, scale, spec.id)
            var env = try TaskRegistry.make(id: spec.id)
            let model = try TaskRegistry.model(id: spec.id)
            let qpos0 = model.qpos0
            var positionNoise: [Double] = []
            var velocityNoise: [Double] = []
            for seed in 0..<UInt64(resets) {
                _ = env.reset(seed: seed)
                positionNoise += zip(env.data.qpos, qpos0).map { $0 - $1 }
                velocityNoise += env.data.qvel
            }
            // Positions: U[-s, s): inside the bounds, mean 0, standard deviation s / sqrt(3).
            XCTAssertTrue(positionNoise.allSatisfy { -scale <= $0 && $0 < scale * (1 + 1e-12) }, spec.id)
            checkMoments(positionNoise, mean: 0, std: scale / 3.0.squareRoot(), label: "\(spec.id) qpos")
            if normal {
                // qvel = s N(0, 1): some values beyond s, standard deviation s.
                XCTAssertTrue(velocityNoise.contains { abs($0) > scale }, spec.id)
                checkMoments(velocityNoise, mean: 0, std: scale, label: "\(spec.id) qvel")
            } else {
                XCTAssertTrue(velocityNoise.allSatisfy { -scale <= $0 && $0 < scale }, spec.id)
                checkMoments(velocityNoise, mean: 0, std: scale / 3.0.squareRoot(), label: "\(spec.id) qvel")
            }
        }
    }

    /// Sample mean within 5 standard errors, standard deviation within 10%.
    func checkMoments(_ xs: [Double], mean: Double, std: Double, label: String) {
        let n = Double(xs.count)
        let m = xs.reduce(0, +) / n
        let s = (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot()
        XCTAssertEqual(m, mean, accuracy: 5 * std / n.squareRoot(), "\(label) mean")
        XCTAssertEqual(s, std, accuracy: 0.1 * std, "\(label) std")
    }

    func testResetNoiseComesFromTheDocumentedStream() throws {
        // Hopper: qpos = qpos0 + U(-s, s) (nq draws), then qvel = U(-s, s) (nv draws).
        var env = try TaskRegistry.make(id: "Hopper-v5")
        _ = env.reset(seed: 99)
        var random = CounterStream(seed: 99, generation: 0, member: 0, purpose: .resetNoise)
        let qpos0 = try TaskRegistry.model(id: "Hopper-v5").qpos0
        let s = 5e-3
        let expectedQpos = qpos0.map { $0 + random.nextUniform(-s, s) }
        let expectedQvel = (0..<6).map { _ in 0 + random.nextUniform(-s, s) }
        XCTAssertEqual(env.data.qpos, expectedQpos)
        XCTAssertEqual(env.data.qvel, expectedQvel)
    }

    // MARK: Episodes

    static func actions(for spec: TaskSpec, count: Int, seed: UInt64) -> [[Double]] {
        var random = CounterStream(seed: seed, generation: 0, member: 0, purpose: .auxiliary)
        return (0..<count).map { _ in
            (0..<spec.actionSize).map { random.nextUniform(spec.actionLow[$0], spec.actionHigh[$0]) }
        }
    }

    func testTruncationAt1000Steps() throws {
        for (id, options) in [("Swimmer-v5", EnvironmentOptions()), ("Hopper-v5", EnvironmentOptions(terminateWhenUnhealthy: false))] {
            var env = try TaskRegistry.make(id: id, options: options)
            _ = env.reset(seed: 3)
            let list = Self.actions(for: env.spec, count: 1000, seed: 4)
            for (t, action) in list.enumerated() {
                let result = try env.step(action)
                XCTAssertFalse(result.terminated, "\(id) step \(t + 1)")
                if t < 999 {
                    XCTAssertFalse(result.truncated, "\(id) step \(t + 1)")
                } else {
                    XCTAssertTrue(result.truncated, "\(id) step 1000")
                }
            }
            XCTAssertEqual(env.elapsedSteps, 1000)
            XCTAssertThrowsError(try env.step(list[0])) { error in
                guard case EnvironmentError.resetRequired = error else { return XCTFail("unexpected \(error)") }
            }
            _ = env.reset(seed: 3)
            XCTAssertEqual(env.elapsedSteps, 0)
            XCTAssertNoThrow(try env.step(list[0]))
        }
    }

    func testStepBeforeResetIsAnError() throws {
        var env = try TaskRegistry.make(id: "InvertedPendulum-v5")
        XCTAssertThrowsError(try env.step([0])) { error in
            guard case EnvironmentError.resetRequired = error else { return XCTFail("unexpected \(error)") }
        }
    }

    func testNonFiniteActionIsAClearErrorAndChangesNothing() throws {
        var env = try TaskRegistry.make(id: "Walker2d-v5")
        _ = env.reset(seed: 5)
        _ = try env.step([0.1, 0.2, 0.3, -0.1, -0.2, -0.3])
        let qpos = env.data.qpos, qvel = env.data.qvel
        for bad in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try env.step([0, 0, 0, bad, 0, 0])) { error in
                guard case EnvironmentError.nonFiniteAction(let task, let index, let value) = error else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertEqual(task, "Walker2d-v5")
                XCTAssertEqual(index, 3)
                XCTAssertEqual(value.isNaN, bad.isNaN)
                let text = "\(error)"
                XCTAssertTrue(text.contains("action component 3") && text.contains("not a finite number"), text)
            }
        }
        XCTAssertEqual(env.data.qpos, qpos)
        XCTAssertEqual(env.data.qvel, qvel)
        XCTAssertEqual(env.elapsedSteps, 1)
        XCTAssertNoThrow(try env.step([0, 0, 0, 0, 0, 0]))
        XCTAssertThrowsError(try env.step([0, 0])) { error in
            XCTAssertEqual(error as? EnvironmentError, .actionSizeMismatch(task: "Walker2d-v5", expected: 6, actual: 2))
        }
    }

    func testDivergingSimulationIsReported() throws {
        var env = try TaskRegistry.make(id: "Hopper-v5")
        _ = env.reset(seed: 1)
        try env.data.setQvel([0, 0, .nan, 0, 0, 0])
        XCTAssertThrowsError(try env.step([0, 0, 0])) { error in
            guard case MuJoCoError.simulationUnstable = error else { return XCTFail("unexpected \(error)") }
        }
        XCTAssertThrowsError(try env.step([0, 0, 0])) { error in
            guard case EnvironmentError.resetRequired = error else { return XCTFail("unexpected \(error)") }
        }
        _ = env.reset(seed: 1)
        XCTAssertNoThrow(try env.step([0, 0, 0]))
    }

    /// Runs one episode (up to `steps`) and returns everything it produced.
    static func episode(_ id: String, seed: UInt64, steps: Int, actions list: [[Double]]) throws -> [StepResult] {
        var env = try TaskRegistry.make(id: id)
        let first = env.reset(seed: seed)
        var results = [StepResult(observation: first, reward: 0, terminated: false, truncated: false, info: [:])]
        for action in list.prefix(steps) {
            let result = try env.step(action)
            results.append(result)
            if result.terminated || result.truncated { break }
        }
        return results
    }

    func testSameSeedGivesIdenticalEpisodes() throws {
        for id in ["Ant-v5", "HalfCheetah-v5", "InvertedDoublePendulum-v5"] {
            let spec = try TaskRegistry.spec(id: id)
            let list = Self.actions(for: spec, count: 60, seed: 11)
            let a = try Self.episode(id, seed: 7, steps: 60, actions: list)
            let b = try Self.episode(id, seed: 7, steps: 60, actions: list)
            let c = try Self.episode(id, seed: 8, steps: 60, actions: list)
            XCTAssertEqual(a, b, id)
            XCTAssertNotEqual(a[0].observation, c[0].observation, id)
        }
    }

    func testHotPathStepMatchesTheAllocatingStep() throws {
        let id = "Humanoid-v5"
        let spec = try TaskRegistry.spec(id: id)
        let list = Self.actions(for: spec, count: 20, seed: 2)
        let reference = try Self.episode(id, seed: 9, steps: 20, actions: list)
        var env = try TaskRegistry.make(id: id)
        var observation = [Double](repeating: 0, count: spec.observationSize)
        try observation.withUnsafeMutableBufferPointer { try env.reset(seed: 9, observation: $0) }
        XCTAssertEqual(observation, reference[0].observation)
        for (t, action) in list.enumerated() where t + 1 < reference.count {
            let result = try action.withUnsafeBufferPointer { a in
                try observation.withUnsafeMutableBufferPointer { try env.step(action: a, observation: $0) }
            }
            XCTAssertEqual(observation, reference[t + 1].observation)
            XCTAssertEqual(result.reward, reference[t + 1].reward)
            XCTAssertEqual(result.terminated, reference[t + 1].terminated)
        }
        var short = [Double](repeating: 0, count: 3)
        XCTAssertThrowsError(try short.withUnsafeMutableBufferPointer { try env.reset(seed: 1, observation: $0) })
    }

    func testThreadsSteppingASharedModelGiveIdenticalResults() throws {
        for id in ["Hopper-v5", "Ant-v5"] {
            let spec = try TaskRegistry.spec(id: id)
            let list = Self.actions(for: spec, count: 80, seed: 21)
            let reference = try Self.episode(id, seed: 5, steps: 80, actions: list)
            let workers = 4
            let results = ResultBox(count: workers)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                results.set(w, Result { try EnvironmentBehaviorTests.episode(id, seed: 5, steps: 80, actions: list) })
            }
            for w in 0..<workers {
                XCTAssertEqual(try results.get(w).get(), reference, "\(id) worker \(w)")
            }
        }
    }
}

/// Per-worker results, written from concurrent threads under a lock.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Result<[StepResult], Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<[StepResult], Error>) { lock.withLock { values[i] = value } }
    func get(_ i: Int) -> Result<[StepResult], Error> {
        lock.withLock { values[i] } ?? .failure(CocoaError(.featureUnsupported))
    }
}

import Environments
import Randomness

/// `satr bench env`: environment steps per second against the raw `mj_step` rate of the same
/// loop, measured in one run.
///
/// N environment steps (hot-path step, resets included, a fixed pseudo-random action sequence
/// uniform in the action box). After each episode a raw loop replays it on its own mjData of the
/// same model: mj_resetData, the same reset state, mj_forward, then ctrl = action and
/// mj_step x frame_skip per step. Alternating per episode exposes both loops to the same machine
/// load. ratio = env steps/s / (raw mj_step/s / frame_skip).
public enum EnvBenchmark {
    /// The target ratio: the environment layer adds under 10% to the physics.
    public static let targetRatio = 0.9

    public struct Settings: Sendable {
        /// Task id (`TaskRegistry`).
        public var environmentID: String
        /// Environment steps per measured loop.
        public var steps: Int
        /// Passes over the action sequence (all count).
        public var repeats: Int

        public init(environmentID: String, steps: Int = 10000, repeats: Int = 2) {
            self.environmentID = environmentID
            self.steps = steps
            self.repeats = repeats
        }
    }

    /// The result (`satr bench env --json`).
    public struct Result: Codable, Sendable, Equatable {
        public var env: String
        public var steps: Int
        public var repeats: Int
        public var episodes: Int
        public var frameSkip: Int
        public var envStepsPerSecond: Double
        public var rawMjStepsPerSecond: Double
        public var rawEnvEquivalentStepsPerSecond: Double
        public var ratio: Double
        public var targetRatio: Double
        public var meetsTarget: Bool

        enum CodingKeys: String, CodingKey {
            case env, steps, repeats, episodes, ratio
            case frameSkip = "frame_skip", envStepsPerSecond = "env_steps_per_s", rawMjStepsPerSecond = "raw_mj_steps_per_s"
            case rawEnvEquivalentStepsPerSecond = "raw_env_equivalent_steps_per_s"
            case targetRatio = "target_ratio", meetsTarget = "meets_target"
        }
    }

    public static func run(_ settings: Settings) throws -> Result {
        guard settings.steps > 0, settings.repeats > 0 else {
            throw BenchmarkError("bench env needs positive steps and repeats (got \(settings.steps), \(settings.repeats))")
        }
        let steps = settings.steps, repeats = settings.repeats
        let spec = try TaskRegistry.spec(id: settings.environmentID)
        var environment = try TaskRegistry.make(id: spec.id)
        let model = try TaskRegistry.model(id: spec.id)

        // Fixed pseudo-random actions, uniform in the box.
        var random = CounterStream(seed: 20_240_601, generation: 0, member: 0, purpose: .auxiliary)
        var actions = [Double](repeating: 0, count: steps * spec.actionSize)
        for i in 0..<steps {
            for a in 0..<spec.actionSize {
                actions[i * spec.actionSize + a] = random.nextUniform(spec.actionLow[a], spec.actionHigh[a])
            }
        }

        var observation = [Double](repeating: 0, count: spec.observationSize)
        let raw = try MuJoCoData(model: model)
        let frameSkip = spec.frameSkip
        var envSeconds = 0.0, rawSeconds = 0.0
        var episodes = 0
        let now = BenchmarkClock.now
        try actions.withUnsafeBufferPointer { all in
            try observation.withUnsafeMutableBufferPointer { obs in
                for _ in 0..<repeats {
                    var i = 0
                    var episode: UInt64 = 0
                    while i < steps {
                        let first = i
                        let t0 = now()
                        try environment.reset(seed: episode, observation: obs)
                        let t1 = now()
                        let startQpos = environment.data.qpos, startQvel = environment.data.qvel
                        let t2 = now()
                        while i < steps {
                            let action = UnsafeBufferPointer(rebasing: all[(i * spec.actionSize)..<((i + 1) * spec.actionSize)])
                            let result = try environment.step(action: action, observation: obs)
                            i += 1
                            if result.terminated || result.truncated { break }
                        }
                        let t3 = now()
                        try raw.reset()
                        try raw.setQpos(startQpos)
                        try raw.setQvel(startQvel)
                        try raw.forward()
                        for j in first..<i {
                            try raw.setCtrl(UnsafeBufferPointer(rebasing: all[(j * spec.actionSize)..<((j + 1) * spec.actionSize)]))
                            try raw.step(count: frameSkip)
                        }
                        let t4 = now()
                        envSeconds += Double((t1 - t0) + (t3 - t2)) * 1e-9
                        rawSeconds += Double(t4 - t3) * 1e-9
                        episode += 1
                        episodes += 1
                    }
                }
            }
        }
        let totalSteps = steps * repeats
        let envRate = Double(totalSteps) / envSeconds
        let rawStepRate = Double(totalSteps * frameSkip) / rawSeconds
        let rawEquivalent = rawStepRate / Double(frameSkip)
        let ratio = envRate / rawEquivalent
        try requireMeasured([
            "env_steps_per_s": envRate, "raw_mj_steps_per_s": rawStepRate, "ratio": ratio,
        ], in: "bench env")
        return Result(
            env: spec.id, steps: steps, repeats: repeats, episodes: episodes, frameSkip: frameSkip,
            envStepsPerSecond: envRate, rawMjStepsPerSecond: rawStepRate, rawEnvEquivalentStepsPerSecond: rawEquivalent,
            ratio: ratio, targetRatio: targetRatio, meetsTarget: ratio >= targetRatio)
    }
}

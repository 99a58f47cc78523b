import ArgumentParser
import Environments
import Foundation
import Randomness

/// `satr bench env`: environment steps per second against the raw `mj_step` rate of the same loop,
/// measured in one run.
struct BenchEnv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Benchmark environment stepping against raw physics.",
        discussion: """
            Runs N environment steps (hot-path step, resets included, with a fixed pseudo-random \
            action sequence uniform in the action box). After each episode a raw loop replays it on \
            its own mjData of the same model: mj_resetData, the same reset state, mj_forward, then \
            ctrl = action and mj_step x frame_skip per step. Alternating per episode exposes both \
            loops to the same machine load; --repeats runs the whole sequence again. ratio = env \
            steps/s / (raw mj_step/s / frame_skip); the target is >= 0.90 (the environment layer \
            adds under 10% to the physics).
            """)

    @Option(name: .long, help: "Task id (see `satr envs`).")
    var env: String

    @Option(name: .long, help: "Environment steps per measured loop.")
    var steps: Int = 10000

    @Option(name: .long, help: "Passes over the action sequence (all count).")
    var repeats: Int = 2

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
    }

    func run() throws {
        let spec = try TaskRegistry.spec(id: env)
        var environment = try TaskRegistry.make(id: env)
        let model = try TaskRegistry.model(id: env)

        // Fixed pseudo-random actions, uniform in the box.
        var random = CounterStream(seed: 20_240_601, generation: 0, member: 0, purpose: .auxiliary)
        var actions = [Double](repeating: 0, count: steps * spec.actionSize)
        for i in 0..<steps {
            for a in 0..<spec.actionSize {
                actions[i * spec.actionSize + a] = random.nextUniform(spec.actionLow[a], spec.actionHigh[a])
            }
        }

        // Episode by episode: the environment runs an episode (reset included), then the raw loop
        // replays it on a separate mjData of the same model: mj_resetData, the same reset state,
        // mj_forward, then ctrl = action and mj_step x frame_skip per step. Alternating per episode
        // exposes both loops to the same machine load.
        var observation = [Double](repeating: 0, count: spec.observationSize)
        let raw = try MuJoCoData(model: model)
        let frameSkip = spec.frameSkip
        var envSeconds = 0.0, rawSeconds = 0.0
        var episodes = 0
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
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
        let rawStepRate = Double(totalSteps * spec.frameSkip) / rawSeconds
        let ratio = envRate / (rawStepRate / Double(spec.frameSkip))
        if json {
            let fields: [(String, String)] = [
                ("env", JSONLine.string(spec.id)), ("steps", "\(steps)"), ("repeats", "\(repeats)"),
                ("episodes", "\(episodes)"), ("frame_skip", "\(spec.frameSkip)"),
                ("env_steps_per_s", JSONLine.number(envRate)), ("raw_mj_steps_per_s", JSONLine.number(rawStepRate)),
                ("raw_env_equivalent_steps_per_s", JSONLine.number(rawStepRate / Double(spec.frameSkip))),
                ("ratio", JSONLine.number(ratio)), ("target_ratio", "0.9"), ("meets_target", "\(ratio >= 0.9)"),
            ]
            print(JSONLine.object(fields))
        } else {
            print("\(spec.id): \(steps) env steps x \(repeats) (\(episodes) episodes), frame_skip \(spec.frameSkip)")
            print(String(format: "  env:  %10.0f env steps/s", envRate))
            print(String(format: "  raw:  %10.0f mj_step/s = %.0f env-step equivalents/s", rawStepRate, rawStepRate / Double(spec.frameSkip)))
            print(String(format: "  ratio env / (raw / frame_skip) = %.3f (target >= 0.90: %@)", ratio, ratio >= 0.9 ? "met" : "NOT met"))
        }
    }
}

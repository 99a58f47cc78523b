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
            action sequence uniform in the action box), then replays the same actions and episode \
            boundaries as a raw loop: ctrl = action, mj_step x frame_skip, with mj_resetData + \
            mj_forward from the same reset states. Each loop runs --repeats times alternately; the \
            fastest run of each counts. ratio = env steps/s / (raw mj_step/s / frame_skip); the target \
            is >= 0.90 (the environment layer adds under 10% to the physics).
            """)

    @Option(name: .long, help: "Task id (see `satr envs`).")
    var env: String

    @Option(name: .long, help: "Environment steps per measured loop.")
    var steps: Int = 10000

    @Option(name: .long, help: "Alternating repetitions of both loops (the fastest counts).")
    var repeats: Int = 3

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

        // Environment loop; records where episodes start and their reset states (outside the
        // timed region's hot path: one copy per episode).
        var observation = [Double](repeating: 0, count: spec.observationSize)
        var resetSteps: [Int] = []
        var resetStates: [([Double], [Double])] = []
        func environmentLoop(record: Bool) throws -> Double {
            var episode: UInt64 = 0
            var needsReset = true
            let start = DispatchTime.now().uptimeNanoseconds
            try actions.withUnsafeBufferPointer { all in
                try observation.withUnsafeMutableBufferPointer { obs in
                    for i in 0..<steps {
                        if needsReset {
                            try environment.reset(seed: episode, observation: obs)
                            episode += 1
                            needsReset = false
                            if record {
                                resetSteps.append(i)
                                resetStates.append((environment.data.qpos, environment.data.qvel))
                            }
                        }
                        let action = UnsafeBufferPointer(rebasing: all[(i * spec.actionSize)..<((i + 1) * spec.actionSize)])
                        let result = try environment.step(action: action, observation: obs)
                        if result.terminated || result.truncated { needsReset = true }
                    }
                }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }

        // Raw loop: the same actions and episode boundaries on a separate mjData of the same model.
        let raw = try MuJoCoData(model: model)
        func rawLoop() throws -> Double {
            let frameSkip = spec.frameSkip
            var nextReset = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<steps {
                if nextReset < resetSteps.count && resetSteps[nextReset] == i {
                    try raw.reset()
                    try raw.setQpos(resetStates[nextReset].0)
                    try raw.setQvel(resetStates[nextReset].1)
                    try raw.forward()
                    nextReset += 1
                }
                try actions.withUnsafeBufferPointer { all in
                    try raw.setCtrl(UnsafeBufferPointer(rebasing: all[(i * spec.actionSize)..<((i + 1) * spec.actionSize)]))
                }
                try raw.step(count: frameSkip)
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }

        var bestEnv = Double.infinity, bestRaw = Double.infinity
        for round in 0..<repeats {
            bestEnv = min(bestEnv, try environmentLoop(record: round == 0))
            bestRaw = min(bestRaw, try rawLoop())
        }
        let envRate = Double(steps) / bestEnv
        let rawStepRate = Double(steps * spec.frameSkip) / bestRaw
        let ratio = envRate / (rawStepRate / Double(spec.frameSkip))
        if json {
            let fields: [(String, String)] = [
                ("env", JSONLine.string(spec.id)), ("steps", "\(steps)"), ("repeats", "\(repeats)"),
                ("episodes", "\(resetSteps.count)"), ("frame_skip", "\(spec.frameSkip)"),
                ("env_steps_per_s", JSONLine.number(envRate)), ("raw_mj_steps_per_s", JSONLine.number(rawStepRate)),
                ("raw_env_equivalent_steps_per_s", JSONLine.number(rawStepRate / Double(spec.frameSkip))),
                ("ratio", JSONLine.number(ratio)), ("target_ratio", "0.9"), ("meets_target", "\(ratio >= 0.9)"),
            ]
            print(JSONLine.object(fields))
        } else {
            print("\(spec.id): \(steps) env steps x \(repeats) (\(resetSteps.count) episodes), frame_skip \(spec.frameSkip)")
            print(String(format: "  env:  %10.0f env steps/s", envRate))
            print(String(format: "  raw:  %10.0f mj_step/s = %.0f env-step equivalents/s", rawStepRate, rawStepRate / Double(spec.frameSkip)))
            print(String(format: "  ratio env / (raw / frame_skip) = %.3f (target >= 0.90: %@)", ratio, ratio >= 0.9 ? "met" : "NOT met"))
        }
    }
}

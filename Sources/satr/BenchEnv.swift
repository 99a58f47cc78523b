import ArgumentParser
import Benchmarks
import Foundation

/// `satr bench env`: parses the flags of `EnvBenchmark` and prints its result.
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
        let r: EnvBenchmark.Result
        do {
            r = try EnvBenchmark.run(.init(environmentID: env, steps: steps, repeats: repeats))
        } catch {
            throw CLIError(error)
        }
        if json { return try printJSON(r) }
        print("\(r.env): \(r.steps) env steps x \(r.repeats) (\(r.episodes) episodes), frame_skip \(r.frameSkip)")
        print(String(format: "  env:  %10.0f env steps/s", r.envStepsPerSecond))
        print(String(format: "  raw:  %10.0f mj_step/s = %.0f env-step equivalents/s", r.rawMjStepsPerSecond, r.rawEnvEquivalentStepsPerSecond))
        print(String(format: "  ratio env / (raw / frame_skip) = %.3f (target >= %.2f: %@)", r.ratio, r.targetRatio, r.meetsTarget ? "met" : "NOT met"))
    }
}

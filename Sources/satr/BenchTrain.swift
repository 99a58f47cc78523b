import ArgumentParser
import Benchmarks
import Foundation
import Training

/// `satr bench train`: parses the flags of `TrainBenchmark` and prints its result.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Benchmark the training loop against raw environment stepping.",
        discussion: """
        A real `satr train` run (population M, G generations, T threads, metrics written to a \
        temporary directory, a checkpoint at the last generation, no evaluation episodes) is \
        interleaved with raw stepping: after each generation, with the training paused, T \
        worker threads of the training's own evaluator (each with its own environment) step a fixed pseudo-random action sequence \
        (uniform in the action box; resets included) for as many steps as that generation took, \
        then the same again with the policy network stepped too (one random member, rho = 0.5), \
        then (SATR, EC) the physics of policy-driven episodes alone: the actions a sampled \
        spiking policy (rho = 0.5) produced in closed loop, recorded before the measurement, \
        replayed without the network. Alternating per generation exposes all four to the same \
        machine load. \
        ratio = training env steps/s / raw env steps/s, over all generations (the time of a \
        generation runs from the end of the previous one's raw stepping, the first from the \
        start of the run, so setup counts). --repeats R runs the whole measurement R times (a \
        fresh training run each time) and reports each repeat's ratio, their median, and the \
        ratio over all of them; on a shared machine single ratios scatter by 10% or more. \
        ratio_vs_policy_physics = training env steps/s / replayed env steps/s: the network, \
        sampling, normalization and the update against policy-driven physics. The mean steps per \
        episode of all three loops are printed too (every reset costs physics time).
        """)

    @Option(help: "Task id.")
    var env: String = "Hopper-v5"
    @Option(help: "Population size M.")
    var population: Int = 64
    @Option(help: "Generations G.")
    var generations: Int = 3
    @Option(help: "Threads T (0 = one per core).")
    var threads: Int = 2
    @Option(help: "Recurrent neurons N.")
    var neurons: Int = 256
    @Option(help: "Update rule: satr, ec or es.")
    var algo: Algorithm = .satr
    @Option(help: "Run seed.")
    var seed: UInt64 = 0
    @Option(help: "Repeat the whole measurement this many times.")
    var repeats: Int = 1
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard population >= 2 else { throw ValidationError("--population must be at least 2") }
        guard generations >= 1 else { throw ValidationError("--generations must be at least 1") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
    }

    func run() throws {
        let threadCount = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        let r: TrainBenchmark.Result
        do {
            r = try TrainBenchmark.run(.init(
                environmentID: env, algorithm: algo, population: population, generations: generations, threads: threadCount,
                neurons: neurons, seed: seed, repeats: repeats))
        } catch {
            throw CLIError(error)
        }
        if json { return try printJSON(r) }
        func ratio(_ x: Double) -> String { String(format: "%.3f", x) }
        print("""
        \(r.env), \(r.algo), M=\(r.population), G=\(r.generations), N=\(r.neurons), \(r.threads) threads
        training loop: \(formatCount(r.trainStepsPerSecond)) env steps/s (\(r.trainEnvSteps) steps in \(format(r.trainSeconds)) s)
        raw env:       \(formatCount(r.rawStepsPerSecond)) env steps/s (the same steps, interleaved per generation)
        ratio:         \(ratio(r.ratio)) (per generation \(r.ratioPerGeneration.map(ratio).joined(separator: ", ")))
        """)
        if r.repeats > 1 {
            print("repeats:       \(r.ratioPerRepeat.map(ratio).joined(separator: ", ")); median \(ratio(r.ratioMedian))")
        }
        if let networkRate = r.rawWithNetworkStepsPerSecond, let networkRatio = r.rawWithNetworkRatio,
           let versusNetwork = r.ratioVsRawWithNetwork {
            print("raw env + network: \(formatCount(networkRate)) env steps/s (\(ratio(networkRatio)) of raw); training loop / that = \(ratio(versusNetwork))")
        }
        if let replayRate = r.policyPhysicsStepsPerSecond, let replayRatio = r.policyPhysicsRatio,
           let versusReplay = r.ratioVsPolicyPhysics {
            var line = "policy physics: \(formatCount(replayRate)) env steps/s (\(ratio(replayRatio)) of raw); training loop / that = \(ratio(versusReplay))"
            if r.repeats > 1, let perRepeat = r.ratioVsPolicyPhysicsPerRepeat, let m = r.ratioVsPolicyPhysicsMedian {
                line += " (repeats \(perRepeat.map(ratio).joined(separator: ", ")); median \(ratio(m)))"
            }
            print(line)
        }
        let episodeSteps = [("training", r.trainEpisodeSteps), ("raw", r.rawEpisodeSteps), ("policy physics", r.policyPhysicsEpisodeSteps)]
            .compactMap { name, x in x.map { "\(name) \(String(format: "%.1f", $0))" } }
        print("steps per episode: \(episodeSteps.joined(separator: ", "))")
    }
}

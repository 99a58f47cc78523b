import ArgumentParser
import Foundation
import Training
#if MPI
import Cluster
#endif

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a spiking policy with SATR, EC or Gaussian ES.",
        discussion: """
        Writes to the output directory: config.json (the resolved config), metrics.jsonl (one line \
        per generation), checkpoint.satr, policy.json (the deterministic network), evaluation.json \
        (the final evaluation) and learning_curve.svg. With no flags it trains SATR on \
        \(TrainingConfig().env) with the defaults below.

        Settings come from, in increasing priority: the defaults, --config FILE (JSON with the \
        snake_case keys of config.json; any subset), the flags.

        --resume DIR continues DIR's run from its checkpoint up to --generations in total \
        (bit-identical to an uninterrupted run); only --generations and --threads may change.
        """)

    @Option(name: .customLong("config"), help: "A JSON config file (keys as in config.json); flags override it.")
    var configFile: String?
    @Option(help: "Continue the run in this directory from its checkpoint.")
    var resume: String?

    @Option(help: "Task id (see `satr envs`). Default \(TrainingConfig().env).")
    var env: String?
    @Option(help: "Update rule: satr, ec or es. Default satr.")
    var algo: Algorithm?
    @Option(help: "Population size M. Default \(TrainingConfig().population).")
    var population: Int?
    @Option(help: "Total generations G. Default \(TrainingConfig().generations).")
    var generations: Int?
    @Option(help: "Run seed. Default 0.")
    var seed: UInt64?
    @Option(help: "Output directory. Default runs/<env>-<algo>-s<seed>.")
    var out: String?
    @Option(help: "Worker threads (0 = one per core). Results do not depend on it.")
    var threads: Int?
    @Option(help: "Recurrent neurons N (a multiple of 64). Default \(TrainingConfig().neurons).")
    var neurons: Int?
    @Option(help: "Evaluate the deterministic network every K generations (0 = only at the end). Default \(TrainingConfig().evalEvery).")
    var evalEvery: Int?
    @Option(help: "Episodes per evaluation. Default \(TrainingConfig().evalEpisodes).")
    var evalEpisodes: Int?
    @Option(help: "Write a checkpoint every K generations (and at the end). Default \(TrainingConfig().checkpointEvery).")
    var checkpointEvery: Int?

    @Option(help: "SATR: kappa, the per-parameter KL budget at full signal. Default \(TrainingConfig.defaultTrustRadius).")
    var trustRadius: Double?
    @Option(help: "SATR: the largest step size eta. Default \(TrainingConfig.defaultEtaMax).")
    var etaMax: Double?
    @Option(help: "SATR: beta, the EMA / evolution-path factor of the signal estimator.")
    var momentum: Double?
    @Option(help: "SATR: signal estimator: lag1, variance, path or split-half.")
    var signalEstimator: String?
    @Option(help: "EC and ES: Adam / AdamW learning rate.")
    var learningRate: Double?
    @Option(help: "ES: perturbation scale sigma.")
    var sigma: Double?
    @Option(help: "ES: AdamW weight decay.")
    var weightDecay: Double?

    @Option(help: "Environment: reset noise scale (default: the task's).")
    var resetNoiseScale: Double?
    @Option(help: "Environment: end episodes when unhealthy, true or false (Hopper, Walker2d, Ant, Humanoid).")
    var terminateWhenUnhealthy: Bool?

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    var patch: ConfigPatch {
        var p = ConfigPatch()
        p.env = env
        p.algo = algo
        p.population = population
        p.generations = generations
        p.seed = seed
        p.threads = threads
        p.neurons = neurons
        p.evalEvery = evalEvery
        p.evalEpisodes = evalEpisodes
        p.checkpointEvery = checkpointEvery
        p.trustRadius = trustRadius
        p.etaMax = etaMax
        p.momentum = momentum
        p.signalEstimator = signalEstimator
        p.learningRate = learningRate
        p.sigma = sigma
        p.weightDecay = weightDecay
        p.resetNoiseScale = resetNoiseScale
        p.terminateWhenUnhealthy = terminateWhenUnhealthy
        return p
    }

    func validate() throws {
        if resume != nil, configFile != nil {
            throw ValidationError("--config cannot be combined with --resume: a resumed run keeps its own config (DIR/config.json).")
        }
        if let resume, let out, URL(fileURLWithPath: out).standardizedFileURL != URL(fileURLWithPath: resume).standardizedFileURL {
            throw ValidationError("--out \(out) differs from --resume \(resume): a resumed run continues in its own directory.")
        }
    }

    func run() throws {
        #if MPI
        // Started by mpirun (MPI build): one run across the ranks (TrainDistributed.swift).
        if MPIProcessGroup.launchedByMPI { return try runDistributed() }
        #else
        // Started by mpirun without MPI support: P independent runs would write one directory.
        let environment = ProcessInfo.processInfo.environment
        if let size = environment["OMPI_COMM_WORLD_SIZE"] ?? environment["PMI_SIZE"], let n = Int(size), n > 1 {
            throw CLIError(message: "this satr was built without MPI, so \(n) processes would train \(n) separate runs into one directory; build it with `swift build -c release --traits MPI` (docs/DISTRIBUTED.md)")
        }
        #endif
        let progress = ProgressLine(enabled: !quiet)
        let result: TrainingResult
        do {
            if let resume {
                let dir = URL(fileURLWithPath: resume)
                result = try Trainer.resume(directory: dir, patch: patch, progress: progress.report)
            } else {
                var config = TrainingConfig()
                if let configFile { config = try TrainingConfig.load(contentsOf: URL(fileURLWithPath: configFile)) }
                config = patch.apply(to: config)
                let dir = URL(fileURLWithPath: out ?? Self.freshDirectory(for: config))
                result = try Trainer.train(config: config, directory: dir, progress: progress.report)
            }
        } catch {
            progress.finish()
            throw CLIError(error)
        }
        progress.finish()
        let plot = PlotOutput.write(runs: [result.directory.path],
                                    svgPath: result.directory.appendingPathComponent("learning_curve.svg").path)
        let e = result.evaluation
        print("""
        Trained \(result.generation) generations (\(formatCount(Double(result.envSteps))) env steps) in \(formatDuration(result.wallSeconds)).
        Eval return of the deterministic policy: \(format(e.mean)) +- \(format(e.standardDeviation)) over \(e.returns.count) episodes (min \(format(e.minimum)), max \(format(e.maximum)), mean length \(format(e.meanLength)))
        Policy:  \(result.policyPath.path)
        """)
        if let best = result.bestEvaluation, let path = result.bestPolicyPath {
            print("Best:    \(path.path) (eval return \(format(best.mean)) +- \(format(best.standardDeviation)) at generation \(best.generation), the highest of the scheduled evaluations)")
        }
        print("Metrics: \(result.metricsPath.path)")
        if let plot { print("Plot:    \(plot)") }
    }
}

extension Train {
    /// `runs/<env>-<algo>-s<seed>`, or with `-2`, `-3`, ... appended when that exists (so running
    /// the quickstart twice starts a second run instead of refusing).
    static func freshDirectory(for config: TrainingConfig) -> String {
        let base = "runs/\(config.env)-\(config.algo.rawValue)-s\(config.seed)"
        var candidate = base
        var n = 2
        while FileManager.default.fileExists(atPath: candidate) {
            candidate = "\(base)-\(n)"
            n += 1
        }
        return candidate
    }
}

extension Algorithm: ExpressibleByArgument {}

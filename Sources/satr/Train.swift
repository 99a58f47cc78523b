import ArgumentParser
import Foundation
import Environments
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

        Settings come from, in increasing priority: the defaults, the task's preset \
        (Sources/Training/Presets/<task>.json; --no-preset skips it), --config FILE (JSON with the \
        snake_case keys of config.json; any subset), the flags.

        The budget is --generations, --max-env-steps or --max-wall-seconds (the first limit \
        reached ends the run). Training rollouts use --env-option; evaluations of the \
        deterministic network use the standard v5 task unless --eval-env-option says otherwise.

        --resume DIR continues DIR's run from its checkpoint up to the budget in total \
        (bit-identical to an uninterrupted run); only the budget and --threads may change.
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
    @Option(help: "Budget: total generations. Default \(TrainingConfig().generations ?? 0) unless another budget is given.")
    var generations: Int?
    @Option(help: "Budget: total member env steps (the run ends after the generation that reaches it).")
    var maxEnvSteps: Int?
    @Option(help: "Budget: wall-clock seconds of training (not reproducible: the end depends on the machine).")
    var maxWallSeconds: Double?
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
    @Option(help: ArgumentHelp(
        "Episodes that confirm a new best policy (default \(TrainingConfig().bestConfirmEpisodes): none).",
        discussion: "A scheduled evaluation that beats the best so far runs K more episodes and is kept as policy_best.json only if its mean over all of them beats the best's. Training does not depend on it."))
    var bestConfirmEpisodes: Int?
    @Option(help: "Write a checkpoint every K generations (and at the end). Default \(TrainingConfig().checkpointEvery).")
    var checkpointEvery: Int?
    @Option(name: .customLong("env-option"), help: ArgumentHelp(
        "Training environment option NAME=VALUE, Gymnasium's v5 name (repeatable), e.g. healthy_reward=0.",
        discussion: "Names: \(EnvironmentOptions.fields.map(\.name).joined(separator: ", ")); `satr envs` lists each task's."))
    var envOptions: [String] = []
    @Option(name: .customLong("eval-env-option"), help: "Evaluation environment option NAME=VALUE (repeatable). Default: none, the standard v5 task.")
    var evalEnvOptions: [String] = []
    @Option(help: ArgumentHelp(
        "Population schedule: the first generation has M0 members (default: no schedule).",
        discussion: "The population moves linearly with the env steps to --population, which it reaches at --population-growth-steps (even when members come in pairs)."))
    var populationStart: Int?
    @Option(help: "Env steps over which the population moves to --population (with --population-start). Default \(TrainingConfig().populationGrowthSteps).")
    var populationGrowthSteps: Int?
    @Option(help: ArgumentHelp(
        "A recurrent layer sampled once and frozen (true or false; default false; satr and ec).",
        discussion: "The search covers the input and readout bits only; the recurrent bits are drawn once from the run seed, each 1 with probability 1/2."))
    var frozenRecurrent: Bool?
    @Flag(help: "Ignore the task's preset (Sources/Training/Presets): start from the plain defaults.")
    var noPreset = false

    @OptionGroup(title: "SATR")
    var satr: SATROptions
    @OptionGroup(title: "SATR and EC")
    var bernoulli: BernoulliOptions
    @OptionGroup(title: "EC and ES")
    var adam: AdamOptions

    @Flag(help: "No progress line, even on a terminal.")
    var quiet = false

    /// The settings given as flags, as a config layer (keys of config.json).
    var patch: [String: JSONTree] {
        get throws {
            var p: [String: JSONTree] = [:]
            p["env"] = env.map(JSONTree.string)
            p["algo"] = algo.map { .string($0.rawValue) }
            p["population"] = population.map { .int(Int64($0)) }
            p["generations"] = generations.map { .int(Int64($0)) }
            p["max_env_steps"] = maxEnvSteps.map { .int(Int64($0)) }
            p["max_wall_seconds"] = maxWallSeconds.map(JSONTree.double)
            p["seed"] = seed.map(JSONTree.unsigned)
            p["threads"] = threads.map { .int(Int64($0)) }
            p["neurons"] = neurons.map { .int(Int64($0)) }
            p["eval_every"] = evalEvery.map { .int(Int64($0)) }
            p["eval_episodes"] = evalEpisodes.map { .int(Int64($0)) }
            p["best_confirm_episodes"] = bestConfirmEpisodes.map { .int(Int64($0)) }
            p["checkpoint_every"] = checkpointEvery.map { .int(Int64($0)) }
            p["population_start"] = populationStart.map { .int(Int64($0)) }
            p["population_growth_steps"] = populationGrowthSteps.map { .int(Int64($0)) }
            p["frozen_recurrent"] = frozenRecurrent.map(JSONTree.bool)
            if !envOptions.isEmpty { p["env_options"] = try JSONTree.of(EnvironmentOptions.parse(assignments: envOptions)) }
            if !evalEnvOptions.isEmpty { p["eval_env_options"] = try JSONTree.of(EnvironmentOptions.parse(assignments: evalEnvOptions)) }
            for group in [satr.patch, bernoulli.patch, adam.patch] { p.merge(group) { $1 } }
            return p
        }
    }

    /// The configuration of a fresh run: defaults < the task's preset < --config FILE < flags.
    func freshConfig() throws -> TrainingConfig {
        let flags = try patch
        let file = try configFile.map { try TrainingConfig.layer(contentsOf: URL(fileURLWithPath: $0)) } ?? [:]
        let plain = try TrainingConfig.resolve(layers: [file, flags])
        var layers = [file, flags]
        if !noPreset, let preset = try TaskPreset.layer(task: plain.env, algo: plain.algo) {
            layers.insert(preset, at: 0)
        }
        return try TrainingConfig.resolve(layers: layers)
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
                result = try Trainer.resume(directory: dir, patch: try patch, progress: progress.report)
            } else {
                let config = try freshConfig()
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
            let rule = best.returns.count > e.returns.count
                ? "the highest mean over \(e.returns.count) scheduled + \(best.returns.count - e.returns.count) confirming episodes"
                : "the highest of the scheduled evaluations"
            print("Best:    \(path.path) (eval return \(format(best.mean)) +- \(format(best.standardDeviation)) at generation \(best.generation), \(rule))")
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


import Foundation
import Environments
import Randomness
import Search
import Spiking

/// What the trainer reports after each generation (for a progress line).
public struct ProgressReport: Sendable {
    public var generation: Int
    /// The generation limit (nil: the run is limited by env steps or wall time).
    public var totalGenerations: Int?
    public var envSteps: Int
    /// The env-step limit, if any.
    public var maxEnvSteps: Int?
    /// Environment steps per second in this process (since start or resume).
    public var stepsPerSecond: Double
    /// The best finite fitness of this generation.
    public var generationBest: Double
    /// The last evaluation of the deterministic network.
    public var evalReturn: Double?
    /// Estimated seconds to the end of the budget.
    public var etaSeconds: Double
}

/// Where a finished (or resumed-and-finished) run left its files.
public struct TrainingResult: Sendable {
    public var directory: URL
    public var generation: Int
    public var envSteps: Int
    public var evaluation: EvaluationSummary
    public var policyPath: URL
    /// The scheduled evaluation with the highest mean return, and `policy_best.json` of it (nil
    /// when the run scheduled no evaluation).
    public var bestEvaluation: EvaluationSummary?
    public var bestPolicyPath: URL?
    public var metricsPath: URL
    public var checkpointPath: URL
    public var wallSeconds: Double
}

/// File names inside a run directory.
public enum RunFiles {
    public static let config = "config.json"
    public static let metrics = "metrics.jsonl"
    public static let evaluation = "evaluation.json"
    public static let checkpoint = Checkpoint.fileName
    public static let policy = PolicyFile.fileName
    /// The deterministic policy at the scheduled evaluation with the highest mean return so far.
    public static let bestPolicy = "policy_best.json"
}

/// One training run: the optimizer, the shared normalizer, the counters and the run directory.
///
/// ## The generation step, and the seams for a distributed backend
///
/// A generation is two separate steps with value inputs and outputs:
///
/// 1. `generationRequest(members:)` + `PopulationEvaluating.evaluate(_:)`: "evaluate members S of
///    generation t" -> one `MemberOutcome` (fitness, steps, observation statistics) per member.
///    Any subset, on any thread or process: a member is a pure function of (seed, t, k) and the
///    frozen state.
/// 2. `finishGeneration(outcomes:statistics:)`: given **all** outcomes in member order: shape,
///    `tell` the optimizer (or `update(with:)` precomputed, exactly mergeable statistics), merge
///    the members' observation statistics into the normalizer in member order, count steps, then
///    (primary only) evaluate the deterministic network, append the metrics line and write the
///    checkpoint.
///
/// A distributed driver runs step 1 on each rank for its members, all-gathers the outcomes (and,
/// optionally, all-reduces the optimizer's integer statistics), and calls step 2 on every rank;
/// ranks stay in lockstep because step 2 is deterministic. Only the primary rank (`isPrimary`)
/// evaluates the deterministic network and writes files.
public final class TrainingRun<Strategy: CheckpointableStrategy, Network: RolloutNetwork>
where Strategy.GenomeElement == Network.GenomeElement {
    public typealias Worker = PolicyWorker<Strategy, Network>

    public let config: TrainingConfig
    public let spec: TaskSpec
    public let directory: URL
    public let isPrimary: Bool
    public private(set) var strategy: Strategy
    public private(set) var normalizer: ObservationNormalizer
    public private(set) var envSteps: Int
    public private(set) var episodes: Int
    public private(set) var lastEvaluation: EvaluationSummary?
    /// The scheduled evaluation with the highest mean return so far (the first of equals); its
    /// policy is `policy_best.json`. Only scheduled evaluations count, so that a resumed run keeps
    /// the same best as an uninterrupted one.
    public private(set) var bestEvaluation: EvaluationSummary?
    /// Evaluates the members (threads here; a distributed driver may use its own).
    public let evaluator: ThreadedPopulationEvaluator<Worker>
    /// When set (MPI runs), shares every evaluation among the processes (see `GenerationDistributor`).
    public let distributor: (any GenerationDistributor)?
    let makePolicy: (Strategy, FrozenNormalization, TaskSpec) throws -> PolicyFile.Builder
    let metrics: MetricsWriter?
    let wallOffset: Double
    let startTime = DispatchTime.now().uptimeNanoseconds
    let startSteps: Int
    let startGeneration: Int
    private var lastCheckpointGeneration: Int
    /// The current generation's member genomes as the workers sampled them (bit strategies), so
    /// that the update does not sample them again.
    let memberGenomes: MemberGenomes<Strategy.GenomeElement>?
    /// The last rollouts' wall time and end (for the metrics' `wall_rollouts_s`, `wall_update_s`).
    private var lastRollouts: (seconds: Double, end: UInt64)?

    init(config: TrainingConfig, spec: TaskSpec, directory: URL, isPrimary: Bool, strategy: Strategy,
         normalizer: ObservationNormalizer, envSteps: Int, episodes: Int, lastEvaluation: EvaluationSummary?,
         bestEvaluation: EvaluationSummary? = nil,
         wallOffset: Double, makeNetwork: @escaping () throws -> Network,
         makePolicy: @escaping (Strategy, FrozenNormalization, TaskSpec) throws -> PolicyFile.Builder,
         distributor: (any GenerationDistributor)? = nil) throws {
        self.distributor = distributor
        self.config = config
        self.spec = spec
        self.directory = directory
        self.isPrimary = isPrimary
        self.strategy = strategy
        self.normalizer = normalizer
        self.envSteps = envSteps
        self.episodes = episodes
        self.lastEvaluation = lastEvaluation
        self.bestEvaluation = bestEvaluation
        self.wallOffset = wallOffset
        self.makePolicy = makePolicy
        startSteps = envSteps
        startGeneration = strategy.generation
        lastCheckpointGeneration = strategy.generation
        let genomeCount = strategy.genomeCount
        // Kept only while the store stays modest (512 MiB: e.g. 16k Humanoid members); beyond
        // that the statistics regenerate the members, which gives the same result.
        let storeBytes = config.population * genomeCount * MemoryLayout<Strategy.GenomeElement>.stride
        memberGenomes = Strategy.reusesMemberGenomes && storeBytes <= 512 << 20
            ? MemberGenomes(members: config.population, genomeCount: genomeCount) : nil
        let options = config.envOptions, evaluationOptions = config.evalEnvOptions, commonResets = config.commonResets
        evaluator = try ThreadedPopulationEvaluator(threads: config.resolvedThreads) {
            try Worker(task: spec, options: options, evaluationOptions: evaluationOptions, commonResets: commonResets,
                       network: makeNetwork(), genomeCount: genomeCount)
        }
        metrics = isPrimary ? try MetricsWriter(url: directory.appendingPathComponent(RunFiles.metrics)) : nil
    }

    /// Generations completed.
    public var generation: Int { strategy.generation }

    /// Wall-clock seconds of training, including the time before a resume.
    public var wallSeconds: Double {
        wallOffset + Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9
    }

    /// Step 1's input: "evaluate members `members` of the current generation".
    public func generationRequest(members: [Int]) -> GenerationRequest<RolloutSource<Strategy>> {
        if let memberGenomes, memberGenomes.generation != strategy.generation {
            memberGenomes.begin(generation: strategy.generation)
        }
        return GenerationRequest(generation: strategy.generation, members: members,
                                 population: .population(strategy, seed: config.seed, genomes: memberGenomes),
                                 normalization: normalizer.frozen())
    }

    /// Runs one whole generation on this process's threads.
    @discardableResult
    public func runGeneration() throws -> MetricsRecord {
        let request = generationRequest(members: Array(0..<config.population))
        let start = DispatchTime.now().uptimeNanoseconds
        let outcomes = try distributor?.evaluateAll(request, local: evaluator, purpose: .population)
            ?? evaluator.evaluate(request)
        let end = DispatchTime.now().uptimeNanoseconds
        lastRollouts = (Double(end - start) / 1e9, end)
        let statistics = try distributor?.statistics(
            of: strategy, fitnesses: outcomes.map(\.fitness), threads: evaluator.threadCount, genomes: memberGenomes)
        return try finishGeneration(outcomes: outcomes, statistics: statistics)
    }

    /// Step 2: combine all members' outcomes (member order), update, record.
    ///
    /// - Parameter statistics: the optimizer's statistics of this generation if a distributed
    ///   driver already reduced them; nil computes them here from the fitnesses.
    @discardableResult
    public func finishGeneration(outcomes: [MemberOutcome], statistics: Strategy.Statistics? = nil) throws -> MetricsRecord {
        precondition(outcomes.count == config.population, "finishGeneration needs one outcome per member, in member order")
        let fitnesses = outcomes.map(\.fitness)
        let rollouts = lastRollouts
        lastRollouts = nil
        let updateStart = rollouts?.end ?? DispatchTime.now().uptimeNanoseconds
        let diagnostics: Diagnostics
        if let statistics {
            diagnostics = strategy.update(with: statistics)
        } else {
            diagnostics = strategy.update(
                with: strategy.statistics(fitnesses: fitnesses, threads: evaluator.threadCount, genomes: memberGenomes))
        }
        normalizer.update(withMembers: outcomes.map(\.observations))
        let updateSeconds = Double(DispatchTime.now().uptimeNanoseconds - updateStart) / 1e9
        envSteps += outcomes.reduce(0) { $0 + $1.steps }
        episodes += outcomes.reduce(0) { $0 + $1.episodes }
        let g = strategy.generation

        var record = MetricsRecord()
        record.append("generation", g)
        record.append("env_steps", envSteps)
        record.append("episodes", episodes)
        let finite = fitnesses.filter(\.isFinite)
        let mean = finite.reduce(0, +) / Double(max(finite.count, 1))
        let variance = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(finite.count, 1))
        record.append("fitness_mean", finite.isEmpty ? .null : .double(mean))
        record.append("fitness_std", finite.isEmpty ? .null : .double(variance.squareRoot()))
        record.append("fitness_min", finite.min().map(JSONValue.double) ?? .null)
        record.append("fitness_max", finite.max().map(JSONValue.double) ?? .null)
        record.append("nonfinite_members", fitnesses.count - finite.count)
        // With a distributor the evaluation is a collective: every process takes part.
        var evaluationSeconds: Double? = nil
        if (isPrimary || distributor != nil) && config.evalEvery > 0 && g % config.evalEvery == 0 {
            let evaluationStart = DispatchTime.now().uptimeNanoseconds
            defer { evaluationSeconds = Double(DispatchTime.now().uptimeNanoseconds - evaluationStart) / 1e9 }
            let evaluation = try evaluateDeterministic(generation: g)
            lastEvaluation = evaluation
            if bestEvaluation.map({ evaluation.mean > $0.mean }) ?? evaluation.mean.isFinite {
                bestEvaluation = evaluation
                if isPrimary { try writePolicy(named: RunFiles.bestPolicy, evaluation: evaluation) }
            }
            Self.appendEvaluation(evaluation, to: &record)
        }
        guard isPrimary else { return record }

        for entry in diagnostics.entries {
            record.append("opt_" + snakeCase(entry.name), .double(entry.value))
        }
        let wall = wallSeconds
        record.append("wall_s", wall)
        let sessionSteps = envSteps - startSteps
        let elapsed = wall - wallOffset
        record.append("wall_steps_per_s", elapsed > 0 ? Double(sessionSteps) / elapsed : 0)
        // Where this generation's time went (wall clock, like every "wall_" field).
        if let rollouts { record.append("wall_rollouts_s", rollouts.seconds) }
        record.append("wall_update_s", updateSeconds)
        if let evaluationSeconds { record.append("wall_eval_s", evaluationSeconds) }
        try metrics?.append(record)
        if g % config.checkpointEvery == 0 {
            try writeCheckpoint()
        }
        return record
    }

    static func appendEvaluation(_ e: EvaluationSummary, to record: inout MetricsRecord) {
        record.append("eval_return_mean", e.mean)
        record.append("eval_return_std", e.standardDeviation)
        record.append("eval_return_min", e.minimum)
        record.append("eval_return_max", e.maximum)
        record.append("eval_length_mean", e.meanLength)
    }

    /// Evaluates the deterministic network (bits with rho > 0.5, or the ES mean) over
    /// `evalEpisodes` episodes with their own seeds (`RolloutSource.fixed`), on the worker threads,
    /// with the current normalizer.
    public func evaluateDeterministic(generation g: Int) throws -> EvaluationSummary {
        let genome = strategy.mostLikely()
        let request = GenerationRequest<RolloutSource<Strategy>>(
            generation: g, members: Array(0..<config.evalEpisodes),
            population: .fixed(genome: genome, seed: config.seed), normalization: normalizer.frozen())
        let outcomes = try distributor?.evaluateAll(request, local: evaluator, purpose: .deterministic)
            ?? evaluator.evaluate(request)
        return EvaluationSummary(generation: g, returns: outcomes.map(\.fitness), lengths: outcomes.map(\.steps))
    }

    /// The checkpoint of the current state.
    public func checkpoint() -> Checkpoint {
        Checkpoint(
            config: config.withoutThreads, task: spec.id, observationSize: spec.observationSize, actionSize: spec.actionSize,
            neurons: config.neurons, generation: strategy.generation, envSteps: envSteps, episodes: episodes,
            optimizer: Strategy.wrap(strategy.state), normalizer: normalizer, lastEvaluation: lastEvaluation,
            bestEvaluation: bestEvaluation,
            wallSeconds: wallSeconds)
    }

    /// Writes the checkpoint and the current deterministic policy (after flushing the metrics, so
    /// that the checkpoint never refers to metrics lines that could be lost).
    public func writeCheckpoint() throws {
        guard isPrimary else { return }
        try metrics?.synchronize()
        try checkpoint().write(to: directory.appendingPathComponent(RunFiles.checkpoint))
        try writePolicy(evaluation: lastEvaluation)
        lastCheckpointGeneration = strategy.generation
    }

    /// Writes the current deterministic policy to `name` in the run directory, with `evaluation`'s
    /// mean as its eval return when it belongs to the current generation.
    func writePolicy(named name: String = RunFiles.policy, evaluation: EvaluationSummary?) throws {
        let builder = try makePolicy(strategy, normalizer.frozen(), spec)
        let provenance = PolicyFile.Provenance(
            algo: config.algo.rawValue, seed: config.seed, generation: strategy.generation, envSteps: envSteps,
            evalReturnMean: evaluation.flatMap { $0.generation == strategy.generation ? $0.mean : nil })
        var policy = builder(provenance)
        // A policy is run on the evaluation task (the standard v5 task unless eval options say otherwise).
        policy.resetNoiseScale = config.evalEnvOptions.resetNoiseScale
        policy.terminateWhenUnhealthy = config.evalEnvOptions.terminateWhenUnhealthy
        try AtomicFile.write(try policy.jsonData(), to: directory.appendingPathComponent(name))
    }

    /// Whether the run's budget is spent: `generations` generations done, `maxEnvSteps` member
    /// env steps taken, or `maxWallSeconds` of training passed (whichever comes first; checked
    /// between generations, so a run ends after the generation that reached its limit).
    public var budgetReached: Bool {
        if let generations = config.generations, strategy.generation >= generations { return true }
        if let maxEnvSteps = config.maxEnvSteps, envSteps >= maxEnvSteps { return true }
        if let maxWallSeconds = config.maxWallSeconds, wallSeconds >= maxWallSeconds { return true }
        return false
    }

    /// The share of this session's budget still to go (the largest done share over the set
    /// limits decides), or nil before the first generation.
    var remainingFraction: Double? {
        let doneGenerations = strategy.generation - startGeneration
        guard doneGenerations > 0 else { return nil }
        var done = 0.0
        if let generations = config.generations, generations > startGeneration {
            done = max(done, Double(doneGenerations) / Double(generations - startGeneration))
        }
        if let maxEnvSteps = config.maxEnvSteps, maxEnvSteps > startSteps {
            done = max(done, Double(envSteps - startSteps) / Double(maxEnvSteps - startSteps))
        }
        if let maxWallSeconds = config.maxWallSeconds, maxWallSeconds > wallOffset {
            done = max(done, (wallSeconds - wallOffset) / (maxWallSeconds - wallOffset))
        }
        return min(done, 1)
    }

    /// Trains until the budget is spent (`budgetReached`), then evaluates the final
    /// deterministic network (unless the last scheduled evaluation was at the final generation),
    /// writes the checkpoint, the policy and `evaluation.json`.
    public func run(progress: ((ProgressReport) -> Void)? = nil) throws -> TrainingResult {
        while !budgetReached {
            let record = try runGeneration()
            if let progress {
                let elapsed = wallSeconds - wallOffset
                let best: Double = record.fields.first { $0.0 == "fitness_max" }.flatMap {
                    if case .double(let v) = $0.1 { return v } else { return nil }
                } ?? -.infinity
                progress(ProgressReport(
                    generation: strategy.generation, totalGenerations: config.generations, envSteps: envSteps,
                    maxEnvSteps: config.maxEnvSteps,
                    stepsPerSecond: elapsed > 0 ? Double(envSteps - startSteps) / elapsed : 0,
                    generationBest: best, evalReturn: lastEvaluation?.mean,
                    etaSeconds: remainingFraction.map { elapsed * $0 / max(1 - $0, 1e-9) } ?? 0))
            }
        }
        let g = strategy.generation
        let final: EvaluationSummary
        if let last = lastEvaluation, last.generation == g {
            final = last
        } else {
            final = try evaluateDeterministic(generation: g)
        }
        if lastCheckpointGeneration != g || !FileManager.default.fileExists(atPath: directory.appendingPathComponent(RunFiles.checkpoint).path) {
            try writeCheckpoint()
        }
        // The final policy carries the final evaluation.
        let wall = wallSeconds
        if isPrimary {
            try writePolicy(evaluation: final)
            try Self.writeEvaluation(final, envSteps: envSteps, wallSeconds: wall, to: directory.appendingPathComponent(RunFiles.evaluation))
        }
        return TrainingResult(
            directory: directory, generation: g, envSteps: envSteps, evaluation: final,
            policyPath: directory.appendingPathComponent(RunFiles.policy),
            bestEvaluation: bestEvaluation,
            bestPolicyPath: bestEvaluation == nil ? nil : directory.appendingPathComponent(RunFiles.bestPolicy),
            metricsPath: directory.appendingPathComponent(RunFiles.metrics),
            checkpointPath: directory.appendingPathComponent(RunFiles.checkpoint), wallSeconds: wall)
    }

    static func writeEvaluation(_ e: EvaluationSummary, envSteps: Int, wallSeconds: Double, to url: URL) throws {
        var record = MetricsRecord()
        record.append("generation", e.generation)
        record.append("env_steps", envSteps)
        record.append("episodes", e.returns.count)
        appendEvaluation(e, to: &record)
        record.append("returns", .array(e.returns.map(JSONValue.double)))
        record.append("lengths", .array(e.lengths.map(JSONValue.int)))
        record.append("wall_s", wallSeconds)
        try AtomicFile.write(Data((record.line + "\n").utf8), to: url)
    }
}

extension PolicyFile {
    /// Builds the policy file from its provenance.
    public typealias Builder = (Provenance) -> PolicyFile
}

/// "gradientEnergy" -> "gradient_energy", "realizedKL" -> "realized_kl".
func snakeCase(_ name: String) -> String {
    var out = ""
    var previous: Character? = nil
    for ch in name {
        if ch.isUppercase {
            if let p = previous, p.isLowercase || p.isNumber { out += "_" }
            out += ch.lowercased()
        } else {
            out.append(ch)
        }
        previous = ch
    }
    return out
}

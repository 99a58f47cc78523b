import Foundation
import Environments
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

    /// The report of `record` within `budget`, with the last evaluation so far.
    init(record: GenerationRecord, budget: TrainingBudget, lastEvaluation: EvaluationSummary?) {
        generation = record.generation
        totalGenerations = budget.generations
        envSteps = record.envSteps
        maxEnvSteps = budget.maxEnvSteps
        stepsPerSecond = record.timing.stepsPerSecond
        generationBest = record.fitness.maximum ?? -.infinity
        evalReturn = lastEvaluation?.mean
        let elapsed = record.timing.totalSeconds - budget.wallOffset
        etaSeconds = budget.remainingFraction(
            generation: record.generation, envSteps: record.envSteps, wallSeconds: record.timing.totalSeconds
        ).map { elapsed * $0 / max(1 - $0, 1e-9) } ?? 0
    }
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

/// A run's budget (`generations`, `max_env_steps`, `max_wall_seconds`, whichever comes first)
/// and where this session started in it (for the ETA).
struct TrainingBudget: Sendable {
    var generations: Int?
    var maxEnvSteps: Int?
    var maxWallSeconds: Double?
    /// The generation, env steps and wall seconds at the start (or resume) of this session.
    var startGeneration: Int
    var startSteps: Int
    var wallOffset: Double

    /// Whether the budget is spent (checked between generations, so a run ends after the
    /// generation that reached its limit).
    func isReached(generation: Int, envSteps: Int, wallSeconds: Double) -> Bool {
        if let generations, generation >= generations { return true }
        if let maxEnvSteps, envSteps >= maxEnvSteps { return true }
        if let maxWallSeconds, wallSeconds >= maxWallSeconds { return true }
        return false
    }

    /// The share of this session's budget done (the largest over the set limits), or nil before
    /// the first generation.
    func remainingFraction(generation: Int, envSteps: Int, wallSeconds: Double) -> Double? {
        let doneGenerations = generation - startGeneration
        guard doneGenerations > 0 else { return nil }
        var done = 0.0
        if let generations, generations > startGeneration {
            done = max(done, Double(doneGenerations) / Double(generations - startGeneration))
        }
        if let maxEnvSteps, maxEnvSteps > startSteps {
            done = max(done, Double(envSteps - startSteps) / Double(maxEnvSteps - startSteps))
        }
        if let maxWallSeconds, maxWallSeconds > wallOffset {
            done = max(done, (wallSeconds - wallOffset) / (maxWallSeconds - wallOffset))
        }
        return min(done, 1)
    }
}

/// When the deterministic network is evaluated (every `every` generations; 0: never), the last of
/// those evaluations and the best (highest mean return; the first of equals). Only scheduled
/// evaluations count, so that a resumed run keeps the same best as an uninterrupted one.
public struct EvaluationSchedule: Sendable {
    public let every: Int
    /// Episodes that confirm a candidate best (`TrainingConfig.bestConfirmEpisodes`; 0 = none).
    public let confirmEpisodes: Int
    public private(set) var last: EvaluationSummary?
    /// The best evaluation: with confirmation, over the scheduled episodes and the confirming ones.
    public private(set) var best: EvaluationSummary?

    public init(every: Int, confirmEpisodes: Int = 0, last: EvaluationSummary? = nil, best: EvaluationSummary? = nil) {
        self.every = every
        self.confirmEpisodes = confirmEpisodes
        self.last = last
        self.best = best
    }

    /// Whether an evaluation is due once `generation` generations are complete.
    public func isDue(afterGeneration generation: Int) -> Bool { every > 0 && generation % every == 0 }

    /// Whether `evaluation`'s mean beats the best's (any finite mean when there is none yet).
    public func beatsBest(_ evaluation: EvaluationSummary) -> Bool {
        best.map { evaluation.mean > $0.mean } ?? evaluation.mean.isFinite
    }

    /// Whether `evaluation` (a scheduled one) needs confirming episodes before it may become the best.
    public func needsConfirmation(_ evaluation: EvaluationSummary) -> Bool {
        confirmEpisodes > 0 && beatsBest(evaluation)
    }

    /// Records a scheduled evaluation and, when one ran, its confirmation (the same generation's
    /// evaluation over the scheduled and the confirming episodes); true when it is the new best:
    /// the confirmation's mean (or the evaluation's, without one) beats the best's.
    public mutating func record(_ evaluation: EvaluationSummary, confirmation: EvaluationSummary? = nil) -> Bool {
        last = evaluation
        let candidate = confirmation ?? evaluation
        guard beatsBest(candidate) else { return false }
        best = candidate
        return true
    }
}

/// One training run: the generation loop plus its bookkeeping.
///
///     GenerationLoop.runGeneration -> GenerationStep
///         -> evaluation when due (EvaluationSchedule; a new best writes policy_best.json)
///         -> GenerationRecord -> metrics.jsonl line (RunDirectory) -> ProgressReport
///         -> checkpoint.satr + policy.json every `checkpoint_every` generations
///
/// Every process of a distributed run runs one; only the primary one holds the `RunDirectory`
/// and writes files. The scheduled evaluations are collectives, so with a distributor every
/// process takes part in them.
public final class TrainingRun<Strategy: TrainableStrategy> {
    public let config: TrainingConfig
    public let spec: TaskSpec
    public let shape: Strategy.Network.Shape
    public let loop: GenerationLoop<Strategy>
    /// How the strategy's genome becomes the network's (a frozen recurrent layer; nil: the same).
    let expansion: GenomeExpansion<Strategy.GenomeElement>?
    /// The run directory; nil on processes other than the primary one.
    public let directory: RunDirectory?
    /// Where the primary process writes (also known to the others, for the result).
    public let directoryURL: URL
    public private(set) var schedule: EvaluationSchedule
    let budget: TrainingBudget
    let startTime = DispatchTime.now().uptimeNanoseconds
    private var lastCheckpointGeneration: Int

    init(config: TrainingConfig, spec: TaskSpec, shape: Strategy.Network.Shape, directory: URL, strategy: Strategy,
         normalizer: ObservationNormalizer, resuming checkpoint: Checkpoint?, distributor: (any GenerationDistributor)?) throws {
        self.config = config
        self.spec = spec
        self.shape = shape
        directoryURL = directory
        self.directory = distributor?.isPrimary ?? true ? RunDirectory(url: directory) : nil
        schedule = EvaluationSchedule(every: config.evalEvery, confirmEpisodes: config.bestConfirmEpisodes,
                                      last: checkpoint?.lastEvaluation, best: checkpoint?.bestEvaluation)
        budget = TrainingBudget(
            generations: config.generations, maxEnvSteps: config.maxEnvSteps, maxWallSeconds: config.maxWallSeconds,
            startGeneration: strategy.generation, startSteps: checkpoint?.envSteps ?? 0, wallOffset: checkpoint?.wallSeconds ?? 0)
        lastCheckpointGeneration = strategy.generation
        let options = config.envOptions, evaluationOptions = config.evaluationEnvOptions
        let expansion = Strategy.Network.genomeExpansion(config: config, shape: shape)
        self.expansion = expansion
        let genomeCount = expansion?.searchedCount ?? Strategy.Network.genomeCount(of: shape)
        loop = try GenerationLoop(
            strategy: strategy, normalizer: normalizer, envSteps: checkpoint?.envSteps ?? 0, episodes: checkpoint?.episodes ?? 0,
            seed: config.seed, threads: config.resolvedThreads,
            makeWorker: {
                try PolicyWorker(task: spec, options: options, evaluationOptions: evaluationOptions,
                                 network: SpikingRolloutNetwork<Strategy.Network>(shape: shape, expansion: expansion), genomeCount: genomeCount)
            },
            distributor: distributor, populationSchedule: config.populationSchedule)
        try self.directory?.openMetrics()
    }

    /// Generations completed.
    public var generation: Int { loop.generation }

    /// Wall-clock seconds of training, including the time before a resume.
    public var wallSeconds: Double {
        budget.wallOffset + Double(DispatchTime.now().uptimeNanoseconds - startTime) / 1e9
    }

    /// Whether the run's budget is spent.
    public var budgetReached: Bool {
        budget.isReached(generation: loop.generation, envSteps: loop.envSteps, wallSeconds: wallSeconds)
    }

    /// Runs one generation with its bookkeeping and returns its record.
    @discardableResult
    public func runGeneration() throws -> GenerationRecord {
        try record(loop.runGeneration())
    }

    /// The bookkeeping of a finished generation step: the scheduled evaluation, the metrics line,
    /// the checkpoint when due.
    @discardableResult
    func record(_ step: GenerationStep) throws -> GenerationRecord {
        let g = step.generation
        var evaluation: EvaluationSummary? = nil
        var confirmation: EvaluationSummary? = nil
        var evaluationSeconds: Double? = nil
        if (directory != nil || loop.distributor != nil) && schedule.isDue(afterGeneration: g) {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try loop.evaluateDeterministic(generation: g, episodes: config.evalEpisodes)
            if schedule.needsConfirmation(result) {
                let more = try loop.evaluateDeterministic(generation: g, episodes: schedule.confirmEpisodes, firstEpisode: result.returns.count)
                confirmation = EvaluationSummary(generation: g, returns: result.returns + more.returns, lengths: result.lengths + more.lengths)
            }
            if schedule.record(result, confirmation: confirmation) {
                try directory?.write(policy: policy(evaluation: confirmation ?? result), best: true)
            }
            evaluation = result
            evaluationSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let wall = wallSeconds
        let elapsed = wall - budget.wallOffset
        let record = GenerationRecord(
            generation: g, envSteps: step.envSteps, episodes: step.episodes, fitness: step.fitness,
            trainingPopulation: step.population, evaluation: evaluation, confirmation: confirmation, diagnostics: step.diagnostics,
            timing: GenerationTiming(
                totalSeconds: wall, stepsPerSecond: elapsed > 0 ? Double(step.envSteps - budget.startSteps) / elapsed : 0,
                rolloutSeconds: step.rolloutSeconds, updateSeconds: step.updateSeconds, evaluationSeconds: evaluationSeconds))
        guard let directory else { return record }
        try directory.append(record)
        if g % config.checkpointEvery == 0 { try writeCheckpoint() }
        return record
    }

    /// The checkpoint of the current state.
    public func checkpoint() -> Checkpoint {
        Checkpoint(
            config: config.withoutThreads, task: spec.id, observationSize: spec.observationSize, actionSize: spec.actionSize,
            neurons: config.neurons, generation: loop.generation, envSteps: loop.envSteps, episodes: loop.episodes,
            optimizer: Strategy.wrap(loop.strategy.state), normalizer: loop.normalizer, lastEvaluation: schedule.last,
            bestEvaluation: schedule.best, wallSeconds: wallSeconds)
    }

    /// Writes the checkpoint and the current deterministic policy (primary process only).
    public func writeCheckpoint() throws {
        guard let directory else { return }
        try directory.write(checkpoint: checkpoint())
        try directory.write(policy: policy(evaluation: schedule.last))
        lastCheckpointGeneration = loop.generation
    }

    /// The current deterministic policy, with `evaluation`'s mean as its eval return when it
    /// belongs to the current generation, to be run on the evaluation task.
    func policy(evaluation: EvaluationSummary?) -> PolicyFile {
        let g = loop.generation
        let provenance = PolicyFile.Provenance(
            algo: config.algo.rawValue, seed: config.seed, generation: g, envSteps: loop.envSteps,
            evalReturnMean: evaluation.flatMap { $0.generation == g ? $0.mean : nil })
        let searched = loop.strategy.mostLikely()
        var policy = Strategy.Network.policyFile(
            spec: spec, shape: shape, genome: expansion?.expand(searched) ?? searched, normalization: loop.normalizer.frozen(),
            training: provenance)
        // A policy is run on the evaluation task (the standard v5 task unless eval options say otherwise).
        policy.record(environmentOptions: config.evaluationEnvOptions)
        return policy
    }

    /// Trains until the budget is spent, then evaluates the final deterministic network (unless
    /// the last scheduled evaluation was at the final generation), writes the checkpoint, the
    /// policy and `evaluation.json`.
    public func run(progress: ((ProgressReport) -> Void)? = nil) throws -> TrainingResult {
        while !budgetReached {
            let record = try runGeneration()
            progress?(ProgressReport(record: record, budget: budget, lastEvaluation: schedule.last))
        }
        let g = loop.generation
        let final: EvaluationSummary
        if let last = schedule.last, last.generation == g {
            final = last
        } else {
            final = try loop.evaluateDeterministic(generation: g, episodes: config.evalEpisodes)
        }
        if lastCheckpointGeneration != g || !(directory?.hasCheckpoint ?? true) {
            try writeCheckpoint()
        }
        let wall = wallSeconds
        if let directory {
            // The final policy carries the final evaluation.
            try directory.write(policy: policy(evaluation: final))
            try directory.write(finalEvaluation: final, envSteps: loop.envSteps, wallSeconds: wall)
        }
        let files = RunDirectory(url: directoryURL)
        return TrainingResult(
            directory: directoryURL, generation: g, envSteps: loop.envSteps, evaluation: final, policyPath: files.policyURL,
            bestEvaluation: schedule.best, bestPolicyPath: schedule.best == nil ? nil : files.bestPolicyURL,
            metricsPath: files.metricsURL, checkpointPath: files.checkpointURL, wallSeconds: wall)
    }
}

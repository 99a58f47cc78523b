import Foundation
import Environments
import Search
import Spiking

/// Starting and resuming training runs (what `satr train` calls).
public enum Trainer {
    /// Why a run cannot start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts a fresh run in `directory` (created if needed).
    ///
    /// Refuses a directory that already holds a run (a checkpoint or metrics), so nothing is
    /// overwritten; use `resume` to continue it.
    ///
    /// With a `distributor` (MPI runs) every process calls this; only the primary one touches the
    /// directory.
    public static func train(
        config requested: TrainingConfig, directory: URL, progress: ((ProgressReport) -> Void)? = nil,
        distributor: (any GenerationDistributor)? = nil
    ) throws -> TrainingResult {
        let config = requested
        try config.validate()
        let spec = try TaskRegistry.spec(id: config.env)
        try config.validate(spec: spec)
        let fm = FileManager.default
        let primary = distributor?.isPrimary ?? true
        for name in [RunFiles.checkpoint, RunFiles.metrics] where primary && fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            throw StartError(description: "\(directory.path) already holds a training run (\(name) exists); continue it with `satr train --resume \(directory.path)` or choose another --out")
        }
        if primary {
            do {
                try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw StartError(description: "cannot create the output directory \(directory.path): \(error.localizedDescription)")
            }
            try AtomicFile.write(try config.jsonData(), to: directory.appendingPathComponent(RunFiles.config))
        }
        let normalizer = ObservationNormalizer(size: spec.observationSize)
        switch config.algorithm {
        case .satr(let hyperparameters):
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            let strategy = SATRStrategy(dimension: shape.parameterCount, populationSize: config.population, seed: config.seed,
                                        hyperparameters: hyperparameters)
            return try bitsetRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                                 normalizer: normalizer, resuming: nil, distributor: distributor).run(progress: progress)
        case .ec(let hyperparameters):
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            let strategy = ECStrategy(dimension: shape.parameterCount, populationSize: config.population, seed: config.seed,
                                      hyperparameters: hyperparameters)
            return try bitsetRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                                 normalizer: normalizer, resuming: nil, distributor: distributor).run(progress: progress)
        case .es(let hyperparameters):
            let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            let strategy = GaussianESStrategy(parameterCount: shape.parameterCount, populationSize: config.population, seed: config.seed,
                                              hyperparameters: hyperparameters)
            return try denseRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                                normalizer: normalizer, resuming: nil, distributor: distributor).run(progress: progress)
        }
    }

    /// Continues the run in `directory` from its checkpoint up to `generations` in total (or the
    /// run's own target).
    ///
    /// `patch` holds the settings given explicitly on the command line (config keys): the budget
    /// (`generations`, `max_env_steps`, `max_wall_seconds`) and `threads` may change; any other
    /// given setting must equal the run's, or the resume is refused with
    /// `CheckpointError.mismatch` (nothing is written before every check has passed).
    ///
    /// With a `distributor` (MPI runs) every process calls this and reads the checkpoint (the run
    /// directory must be visible to all of them); only the primary one changes the directory.
    public static func resume(
        directory: URL, patch: [String: JSONTree], progress: ((ProgressReport) -> Void)? = nil,
        distributor: (any GenerationDistributor)? = nil
    ) throws -> TrainingResult {
        let checkpointURL = directory.appendingPathComponent(RunFiles.checkpoint)
        let checkpoint = try Checkpoint.read(from: checkpointURL)
        let spec: TaskSpec
        do { spec = try TaskRegistry.spec(id: checkpoint.task) } catch {
            throw CheckpointError.corrupt(path: checkpointURL.path, reason: "its task \(checkpoint.task) is unknown to this build")
        }
        guard spec.observationSize == checkpoint.observationSize, spec.actionSize == checkpoint.actionSize else {
            throw CheckpointError.mismatch(path: checkpointURL.path, field: "observation/action sizes",
                                           checkpoint: "\(checkpoint.observationSize)/\(checkpoint.actionSize)",
                                           requested: "\(spec.observationSize)/\(spec.actionSize) (\(spec.id) in this build)")
        }
        // The directory's config must describe the same run as its checkpoint.
        let configURL = directory.appendingPathComponent(RunFiles.config)
        var directoryLayer: [String: JSONTree] = [:]
        if FileManager.default.fileExists(atPath: configURL.path) {
            directoryLayer = try TrainingConfig.layer(contentsOf: configURL)
            try checkpoint.checkMatches(try TrainingConfig.resolve(layers: [directoryLayer]), path: checkpointURL.path)
        }
        // Explicit settings must match too, except the budget and the thread count, which come
        // from the flags, else the directory's config.
        let checkpointLayer = try JSONTree.of(checkpoint.config).object ?? [:]
        let identityPatch = patch.filter { !TrainingConfig.resumableKeys.contains($0.key) }
        try checkpoint.checkMatches(try TrainingConfig.resolve(layers: [checkpointLayer, identityPatch]), path: checkpointURL.path)
        var budget = checkpointLayer.filter { TrainingConfig.resumableKeys.contains($0.key) }
        budget.merge(directoryLayer.filter { TrainingConfig.resumableKeys.contains($0.key) }) { $1 }
        let givenBudget = patch.filter { TrainingConfig.resumableKeys.contains($0.key) }
        if givenBudget.keys.contains(where: { $0 != "threads" }) {
            // A new budget replaces the old one whole: `--max-env-steps N` alone lifts the old
            // generation limit.
            budget = ["generations": .null, "max_env_steps": .null, "max_wall_seconds": .null]
        }
        budget.merge(givenBudget) { $1 }
        let config = try TrainingConfig.resolve(layers: [checkpointLayer, budget])
        try config.validate()
        if let generations = config.generations, generations < checkpoint.generation {
            throw StartError(description: "the checkpoint in \(directory.path) is at generation \(checkpoint.generation); --generations \(generations) would go back (it is the total, not the number of further generations)")
        }

        // All checks passed: now the directory may change.
        if distributor?.isPrimary ?? true {
            try MetricsWriter.truncate(directory.appendingPathComponent(RunFiles.metrics), keepingGenerationsThrough: checkpoint.generation)
            try AtomicFile.write(try config.jsonData(), to: configURL)
        }
        let normalizer = checkpoint.normalizer
        switch checkpoint.optimizer {
        case .satr(let state):
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            return try bitsetRun(config: config, spec: spec, shape: shape, directory: directory, strategy: SATRStrategy(state: state),
                                 normalizer: normalizer, resuming: checkpoint, distributor: distributor).run(progress: progress)
        case .ec(let state):
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            return try bitsetRun(config: config, spec: spec, shape: shape, directory: directory, strategy: ECStrategy(state: state),
                                 normalizer: normalizer, resuming: checkpoint, distributor: distributor).run(progress: progress)
        case .es(let state):
            let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            return try denseRun(config: config, spec: spec, shape: shape, directory: directory, strategy: GaussianESStrategy(state: state),
                                normalizer: normalizer, resuming: checkpoint, distributor: distributor).run(progress: progress)
        }
    }

    /// A run of a bit strategy; `checkpoint` (a resumed run's) supplies the counters, the
    /// evaluations and the wall-clock offset, nil starts them at zero.
    static func bitsetRun<S: CheckpointableStrategy>(
        config: TrainingConfig, spec: TaskSpec, shape: NetworkShape, directory: URL, strategy: S,
        normalizer: ObservationNormalizer, resuming checkpoint: Checkpoint?,
        distributor: (any GenerationDistributor)? = nil
    ) throws -> TrainingRun<S, BitsetRolloutNetwork> where S.GenomeElement == UInt64 {
        try TrainingRun<S, BitsetRolloutNetwork>(
            config: config, spec: spec, directory: directory, isPrimary: distributor?.isPrimary ?? true,
            strategy: strategy, normalizer: normalizer,
            envSteps: checkpoint?.envSteps ?? 0, episodes: checkpoint?.episodes ?? 0,
            lastEvaluation: checkpoint?.lastEvaluation, bestEvaluation: checkpoint?.bestEvaluation,
            wallOffset: checkpoint?.wallSeconds ?? 0,
            makeNetwork: { BitsetRolloutNetwork(shape: shape) },
            makePolicy: { strategy, normalization, spec in
                let words = strategy.mostLikely()
                return { PolicyFile(spec: spec, shape: shape, words: words, normalization: normalization, training: $0) }
            },
            distributor: distributor)
    }

    /// A run of Gaussian ES on DenseSNN; `checkpoint` as in `bitsetRun`.
    static func denseRun(
        config: TrainingConfig, spec: TaskSpec, shape: DenseSNNShape, directory: URL, strategy: GaussianESStrategy,
        normalizer: ObservationNormalizer, resuming checkpoint: Checkpoint?,
        distributor: (any GenerationDistributor)? = nil
    ) throws -> TrainingRun<GaussianESStrategy, DenseRolloutNetwork> {
        try TrainingRun<GaussianESStrategy, DenseRolloutNetwork>(
            config: config, spec: spec, directory: directory, isPrimary: distributor?.isPrimary ?? true,
            strategy: strategy, normalizer: normalizer,
            envSteps: checkpoint?.envSteps ?? 0, episodes: checkpoint?.episodes ?? 0,
            lastEvaluation: checkpoint?.lastEvaluation, bestEvaluation: checkpoint?.bestEvaluation,
            wallOffset: checkpoint?.wallSeconds ?? 0,
            makeNetwork: { DenseRolloutNetwork(shape: shape) },
            makePolicy: { strategy, normalization, spec in
                let weights = strategy.mostLikely()
                return { PolicyFile(spec: spec, shape: shape, weights: weights, normalization: normalization, training: $0) }
            },
            distributor: distributor)
    }
}

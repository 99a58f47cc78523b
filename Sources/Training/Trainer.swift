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
        try requested.validate()
        let spec = try TaskRegistry.spec(id: requested.env)
        let config = try requested.resolved(spec: spec)
        try config.validate()
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
        switch config.algo {
        case .satr:
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            let strategy = SATRStrategy(dimension: shape.parameterCount, populationSize: config.population, seed: config.seed,
                                        hyperparameters: try satrHyperparameters(config))
            return try bitsetRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                                 normalizer: normalizer, resuming: nil, distributor: distributor).run(progress: progress)
        case .ec:
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            let strategy = ECStrategy(dimension: shape.parameterCount, populationSize: config.population, seed: config.seed,
                                      hyperparameters: ecHyperparameters(config))
            return try bitsetRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                                 normalizer: normalizer, resuming: nil, distributor: distributor).run(progress: progress)
        case .es:
            let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: config.neurons)
            let strategy = GaussianESStrategy(parameterCount: shape.parameterCount, populationSize: config.population, seed: config.seed,
                                              hyperparameters: esHyperparameters(config))
            return try denseRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                                normalizer: normalizer, resuming: nil, distributor: distributor).run(progress: progress)
        }
    }

    /// Continues the run in `directory` from its checkpoint up to `generations` in total (or the
    /// run's own target).
    ///
    /// `patch` holds the settings given explicitly on the command line: `generations` and
    /// `threads` may change; any other given setting must equal the run's, or the resume is refused
    /// with `CheckpointError.mismatch` (nothing is written before every check has passed).
    ///
    /// With a `distributor` (MPI runs) every process calls this and reads the checkpoint (the run
    /// directory must be visible to all of them); only the primary one changes the directory.
    public static func resume(
        directory: URL, patch: ConfigPatch, progress: ((ProgressReport) -> Void)? = nil,
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
        var directoryConfig: TrainingConfig? = nil
        if FileManager.default.fileExists(atPath: configURL.path) {
            let fileConfig = try TrainingConfig.load(contentsOf: configURL)
            try checkpoint.checkMatches(fileConfig, path: checkpointURL.path)
            directoryConfig = fileConfig
        }
        // Explicit settings must match too (except generations and threads).
        var identityPatch = patch
        identityPatch.generations = nil
        identityPatch.threads = nil
        let requested = try identityPatch.apply(to: checkpoint.config).resolved(spec: spec)
        try checkpoint.checkMatches(requested, path: checkpointURL.path)

        var config = checkpoint.config
        config.generations = patch.generations ?? directoryConfig?.generations ?? checkpoint.config.generations
        config.threads = patch.threads ?? directoryConfig?.threads ?? 0
        try config.validate()
        guard config.generations >= checkpoint.generation else {
            throw StartError(description: "the checkpoint in \(directory.path) is at generation \(checkpoint.generation); --generations \(config.generations) would go back (it is the total, not the number of further generations)")
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

    static func satrHyperparameters(_ c: TrainingConfig) throws -> SATRStrategy.Hyperparameters {
        var h = SATRStrategy.Hyperparameters()
        if let v = c.trustRadius { h.trustRadius = v }
        if let v = c.etaMax { h.etaMax = v }
        if let v = c.momentum { h.momentum = v }
        if let name = c.signalEstimator {
            guard let e = SignalEstimator(rawValue: name) else {
                throw ConfigError.invalid(field: "signal_estimator", message: "unknown estimator \"\(name)\"")
            }
            h.signalEstimator = e
        }
        return h
    }

    static func ecHyperparameters(_ c: TrainingConfig) -> ECStrategy.Hyperparameters {
        var h = ECStrategy.Hyperparameters()
        if let v = c.learningRate { h.learningRate = v }
        return h
    }

    static func esHyperparameters(_ c: TrainingConfig) -> GaussianESStrategy.Hyperparameters {
        var h = GaussianESStrategy.Hyperparameters()
        if let v = c.sigma { h.sigma = v }
        if let v = c.learningRate { h.learningRate = v }
        if let v = c.weightDecay { h.weightDecay = v }
        return h
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

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
        try config.validate(spec: TaskRegistry.spec(id: config.env))
        let spec = try TaskRegistry.spec(id: config.env, options: config.envOptions)
        if distributor?.isPrimary ?? true {
            let files = RunDirectory(url: directory)
            try files.createForFreshRun()
            try files.write(config: config)
        }
        return try start(config: config, spec: spec, directory: directory, resuming: nil, distributor: distributor)
            .run(progress: progress)
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
        let files = RunDirectory(url: directory)
        let checkpointURL = files.checkpointURL
        let checkpoint = try files.readCheckpoint()
        let spec: TaskSpec
        do { spec = try TaskRegistry.spec(id: checkpoint.task, options: checkpoint.config.envOptions) } catch {
            throw CheckpointError.corrupt(path: checkpointURL.path, reason: "its task \(checkpoint.task) is unknown to this build")
        }
        guard spec.observationSize == checkpoint.observationSize, spec.actionSize == checkpoint.actionSize else {
            throw CheckpointError.mismatch(path: checkpointURL.path, field: "observation/action sizes",
                                           checkpoint: "\(checkpoint.observationSize)/\(checkpoint.actionSize)",
                                           requested: "\(spec.observationSize)/\(spec.actionSize) (\(spec.id) in this build)")
        }
        // The directory's config must describe the same run as its checkpoint.
        var directoryLayer: [String: JSONTree] = [:]
        if let layer = try files.configLayer() {
            directoryLayer = layer
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
            try files.truncateMetrics(keepingGenerationsThrough: checkpoint.generation)
            try files.write(config: config)
        }
        return try start(config: config, spec: spec, directory: directory, resuming: checkpoint, distributor: distributor)
            .run(progress: progress)
    }

    /// The run of `config` (fresh, or continuing `checkpoint`), with the strategy of its algorithm:
    /// the one place an algorithm picks its strategy type.
    static func start(
        config: TrainingConfig, spec: TaskSpec, directory: URL, resuming checkpoint: Checkpoint?,
        distributor: (any GenerationDistributor)?
    ) throws -> any StartedRun {
        switch config.algo {
        case .satr: return try run(SATRStrategy.self, config: config, spec: spec, directory: directory, resuming: checkpoint, distributor: distributor)
        case .ec: return try run(ECStrategy.self, config: config, spec: spec, directory: directory, resuming: checkpoint, distributor: distributor)
        case .es: return try run(GaussianESStrategy.self, config: config, spec: spec, directory: directory, resuming: checkpoint, distributor: distributor)
        }
    }

    /// The run of strategy type `S`: its state from `checkpoint` (which also supplies the
    /// counters, the evaluations and the wall-clock offset), or fresh from `config`.
    static func run<S: TrainableStrategy>(
        _ type: S.Type, config: TrainingConfig, spec: TaskSpec, directory: URL, resuming checkpoint: Checkpoint?,
        distributor: (any GenerationDistributor)? = nil
    ) throws -> TrainingRun<S> {
        let shape = try S.Network.shape(for: spec, neurons: config.neurons)
        let strategy: S
        if let checkpoint {
            guard let state = S.unwrap(checkpoint.optimizer) else {
                throw CheckpointError.mismatch(path: RunDirectory(url: directory).checkpointURL.path, field: "algo",
                                               checkpoint: checkpoint.optimizer.algorithm.rawValue, requested: config.algo.rawValue)
            }
            strategy = S(state: state)
        } else {
            guard let fresh = S(config: config, shape: shape) else {
                throw StartError(description: "internal error: \(S.self) cannot run algorithm \(config.algo.rawValue)")
            }
            strategy = fresh
        }
        return try TrainingRun(config: config, spec: spec, shape: shape, directory: directory, strategy: strategy,
                               normalizer: checkpoint?.normalizer ?? ObservationNormalizer(size: spec.observationSize),
                               resuming: checkpoint, distributor: distributor)
    }
}

/// A training run of any strategy, ready to run.
protocol StartedRun {
    func run(progress: ((ProgressReport) -> Void)?) throws -> TrainingResult
}

extension TrainingRun: StartedRun {}

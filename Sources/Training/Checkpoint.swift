import Foundation
import Search
import Spiking

/// The optimizer's whole state, for any of the three update rules.
public enum OptimizerState: Codable, Sendable, Equatable {
    case satr(SATRStrategy.State)
    case ec(ECStrategy.State)
    case es(GaussianESStrategy.State)

    /// The algorithm this state belongs to.
    public var algorithm: Algorithm {
        switch self {
        case .satr: return .satr
        case .ec: return .ec
        case .es: return .es
        }
    }

    /// The number of searched parameters (bits for SATR and EC, weights for ES).
    public var dimension: Int {
        switch self {
        case .satr(let s): return s.distribution.dimension
        case .ec(let s): return s.distribution.dimension
        case .es(let s): return s.mean.count
        }
    }

    /// The generation the optimizer will sample next.
    public var generation: Int {
        switch self {
        case .satr(let s): return s.generation
        case .ec(let s): return s.generation
        case .es(let s): return s.generation
        }
    }
}

/// A search strategy whose state can be stored in an `OptimizerState`.
public protocol CheckpointableStrategy: SearchStrategy where GenomeElement: Sendable & Numeric {
    static func wrap(_ state: State) -> OptimizerState
    static func unwrap(_ state: OptimizerState) -> State?
}

extension SATRStrategy: CheckpointableStrategy {
    public static func wrap(_ state: State) -> OptimizerState { .satr(state) }
    public static func unwrap(_ state: OptimizerState) -> State? {
        if case .satr(let s) = state { return s }
        return nil
    }
}

extension ECStrategy: CheckpointableStrategy {
    public static func wrap(_ state: State) -> OptimizerState { .ec(state) }
    public static func unwrap(_ state: OptimizerState) -> State? {
        if case .ec(let s) = state { return s }
        return nil
    }
}

extension GaussianESStrategy: CheckpointableStrategy {
    public static func wrap(_ state: State) -> OptimizerState { .es(state) }
    public static func unwrap(_ state: OptimizerState) -> State? {
        if case .es(let s) = state { return s }
        return nil
    }
}

/// Statistics of the deterministic network's evaluation episodes.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    /// Completed generations when the evaluation ran.
    public var generation: Int
    /// Episode returns (in episode order; `-infinity` for a diverged episode).
    public var returns: [Double]
    /// Episode lengths in environment steps.
    public var lengths: [Int]

    public init(generation: Int, returns: [Double], lengths: [Int]) {
        self.generation = generation
        self.returns = returns
        self.lengths = lengths
    }

    public var mean: Double { returns.reduce(0, +) / Double(max(returns.count, 1)) }
    /// Population standard deviation of the returns.
    public var standardDeviation: Double {
        let m = mean
        return (returns.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(returns.count, 1))).squareRoot()
    }
    public var minimum: Double { returns.min() ?? .nan }
    public var maximum: Double { returns.max() ?? .nan }
    public var meanLength: Double { Double(lengths.reduce(0, +)) / Double(max(lengths.count, 1)) }
}

/// Everything the next generation depends on, plus the run's counters.
///
/// Every field except `wallSeconds` is a deterministic function of the config and the generation:
/// an interrupted and resumed run writes the same values as an uninterrupted one.
public struct Checkpoint: Codable, Sendable, Equatable {
    /// The configuration of the run, with `threads` cleared (it is not part of the run's
    /// identity; the budget is kept as the fallback of a resume).
    public var config: TrainingConfig
    /// Task id, and the network's sizes (checked against the config on load).
    public var task: String
    public var observationSize: Int
    public var actionSize: Int
    public var neurons: Int
    /// Generations completed.
    public var generation: Int
    /// Environment steps and episodes of all members so far (evaluation episodes excluded).
    public var envSteps: Int
    public var episodes: Int
    public var optimizer: OptimizerState
    public var normalizer: ObservationNormalizer
    /// The last scheduled evaluation of the deterministic network, if any.
    public var lastEvaluation: EvaluationSummary?
    /// The scheduled evaluation with the highest mean return so far (absent in checkpoints of
    /// runs without evaluations, and in those written before it existed).
    public var bestEvaluation: EvaluationSummary?
    /// Wall-clock seconds of training when the checkpoint was written (the only
    /// non-deterministic field).
    public var wallSeconds: Double

    enum CodingKeys: String, CodingKey {
        case config, task, observationSize = "observation_size", actionSize = "action_size", neurons, generation
        case envSteps = "env_steps", episodes, optimizer, normalizer, lastEvaluation = "last_evaluation"
        case bestEvaluation = "best_evaluation"
        case wallSeconds = "wall_seconds"
    }

    /// The file name inside a run directory.
    public static let fileName = "checkpoint.satr"

    // Base64 arrays (PackedDoubles) contain "/", which JSON need not escape (JSONCoding).
    static func encoder() -> JSONEncoder { JSONCoding.encoder() }
    static func decoder() -> JSONDecoder { JSONCoding.decoder() }

    /// The checkpoint as container bytes (`CheckpointFile`).
    public func encoded() throws -> Data {
        CheckpointFile.encode(payload: try Self.encoder().encode(self))
    }

    /// Writes the checkpoint atomically (temporary file, fsync, rename, fsync of the directory).
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(), to: url)
    }

    /// Reads and checks a checkpoint: container (magic, version, length, hash), payload, and the
    /// internal consistency of the payload (task exists with these sizes, optimizer matches the
    /// algorithm and the network's parameter count, normalizer matches the observation size).
    public static func read(from url: URL) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CheckpointError.missing(path: url.path)
        }
        let payload = try CheckpointFile.decode(data, path: url.path)
        let checkpoint: Checkpoint
        do {
            checkpoint = try decoder().decode(Checkpoint.self, from: payload)
        } catch {
            throw CheckpointError.corrupt(path: url.path, reason: "its contents cannot be read: \(describe(decodingError: error))")
        }
        try checkpoint.checkConsistency(path: url.path)
        return checkpoint
    }

    /// Checks that the fields agree with each other.
    func checkConsistency(path: String) throws {
        func mismatch(_ what: String) -> CheckpointError { .corrupt(path: path, reason: what) }
        guard config.env == task, config.neurons == neurons, config.algo == optimizer.algorithm else {
            throw mismatch("its config (\(config.env), \(config.algo.rawValue), N=\(config.neurons)) disagrees with its state (\(task), \(optimizer.algorithm.rawValue), N=\(neurons))")
        }
        let expected = try optimizer.algorithm.parameterCount(
            observationSize: observationSize, actionSize: actionSize, neurons: neurons, frozenRecurrent: config.frozenRecurrent)
        guard optimizer.dimension == expected else {
            throw mismatch("its optimizer has \(optimizer.dimension) parameters, but a \(task) network with N=\(neurons) has \(expected)")
        }
        guard normalizer.size == observationSize else {
            throw mismatch("its normalizer has \(normalizer.size) components, but \(task) observations have \(observationSize)")
        }
        guard optimizer.generation == generation else {
            throw mismatch("its optimizer is at generation \(optimizer.generation), but the checkpoint says \(generation)")
        }
    }

    /// Checks that this checkpoint continues the run `requested`: the same identity (everything
    /// but the budget and the thread count). Throws `CheckpointError.mismatch` naming the first
    /// differing config key (in sorted order).
    public func checkMatches(_ requested: TrainingConfig, path: String) throws {
        let mine = try JSONTree.of(config.identity).object ?? [:]
        let other = try JSONTree.of(requested.identity).object ?? [:]
        for key in Set(mine.keys).union(other.keys).sorted() where mine[key] != other[key] {
            throw CheckpointError.mismatch(path: path, field: key, checkpoint: mine[key]?.text ?? "absent",
                                           requested: other[key]?.text ?? "absent")
        }
    }
}

import Foundation
import Environments
import Search

/// Everything that determines a training run, in one readable value.
///
/// The configuration is layered, each layer a JSON object with the keys of `config.json`:
/// the defaults (`TrainingConfig()` and the algorithm's `Hyperparameters()`), the task's preset
/// (`Presets/<task>.json`, see `TaskPreset`), a config file (`--config FILE`), then the flags.
/// `TrainingConfig.resolve(layers:)` merges them key by key and decodes the result; every
/// setting therefore has one name (its JSON key) and one default (in its type).
///
/// `config.json` is one flat object: the run's own keys (below) and the chosen algorithm's
/// hyperparameters side by side (e.g. `"algo": "satr", "trust_radius": 0.03`), plus
/// `env_options` / `eval_env_options` objects with Gymnasium's option names.
///
/// Fields that change *how fast* a run goes but never *what it computes* (`threads`) are not part
/// of the run's identity: a run may be resumed with another thread count and stays bit-identical.
/// The budget (`generations`, `max_env_steps`, `max_wall_seconds`) may also change on resume.
public struct TrainingConfig: Sendable, Equatable {
    // Task and network
    /// Task id from the registry, e.g. "Hopper-v5".
    public var env: String = "InvertedPendulum-v5"
    /// Recurrent neurons N (a multiple of 64).
    public var neurons: Int = 256
    /// Population size M (members per generation). 128: on InvertedPendulum-v5 (the default task),
    /// 4 of 5 seeds reach and keep eval return 1000 with it, against 3 of 5 reaching and 2 of 5
    /// keeping it at 64 (docs/RESULTS.md).
    public var population: Int = 128
    /// The run seed (first component of every random stream key).
    public var seed: UInt64 = 0
    // Budget: the run ends after the first generation at which any set limit is reached.
    /// Total generations (nil: no generation limit; then another limit must be set).
    public var generations: Int? = 50
    /// Total member env steps (evaluation episodes not counted): the run ends after the first
    /// generation whose cumulative env steps reach it. Exact and reproducible.
    public var maxEnvSteps: Int? = nil
    /// Wall-clock seconds of training (including time before a resume); not reproducible by
    /// nature: a run stopped by it ends at a generation that depends on the machine.
    public var maxWallSeconds: Double? = nil
    // Evaluation
    /// Evaluate the deterministic network every K generations (and after the last one); 0 = only
    /// after the last generation.
    public var evalEvery: Int = 5
    /// Episodes per evaluation of the deterministic network.
    public var evalEpisodes: Int = 5
    /// Episodes that confirm a new best (0 = none). With K > 0, a scheduled evaluation whose mean
    /// over its `evalEpisodes` episodes beats the best so far runs K more episodes (episodes
    /// `evalEpisodes ..< evalEpisodes + K` of the same generation's evaluation seeds), and it
    /// becomes `policy_best.json` only if its mean over all `evalEpisodes + K` episodes beats the
    /// best's (which is itself a mean over that many), so a policy that is fast on a lucky handful
    /// of episodes but falls on some starts is kept only if its falls are rare enough not to show
    /// in `evalEpisodes + K` episodes (docs/RESULTS.md measures K = 20). Training does not depend on it:
    /// the generations, their metrics and `policy.json` are the same for every K.
    public var bestConfirmEpisodes: Int = 0
    /// Write a checkpoint every K generations (and after the last one).
    public var checkpointEvery: Int = 10
    // Performance only (not part of the run's identity)
    /// Worker threads for population evaluation; 0 = one per core.
    public var threads: Int = 0
    // The algorithm with its own hyperparameters.
    public var algorithm: AlgorithmSettings = .satr(.init())
    // Environment options (Gymnasium names)
    /// Options of the training rollouts (e.g. `healthy_reward = 0`); unset options keep the
    /// task's v5 default.
    public var envOptions = EnvironmentOptions()
    /// Options of the evaluations of the deterministic network; empty = the standard v5 task.
    /// Observation options (`include_*_in_observation`) may not be set here: they come from
    /// `envOptions` (see `evaluationEnvOptions`).
    public var evalEnvOptions = EnvironmentOptions()

    /// The options the evaluations run with: `evalEnvOptions` with the observation options of
    /// `envOptions`, since a policy reads the observation it was trained on.
    public var evaluationEnvOptions: EnvironmentOptions { evalEnvOptions.withObservationOptions(of: envOptions) }
    // Search variants
    /// Population schedule (`PopulationSchedule`): the first generation has `populationStart`
    /// members, and the population moves linearly with the env steps to `population`, which it
    /// reaches at `populationGrowthSteps`. nil: `population` members throughout.
    public var populationStart: Int? = nil
    /// The env steps over which the population moves to `population` (used with `populationStart`).
    public var populationGrowthSteps: Int = 1_000_000
    /// A recurrent layer sampled once and frozen (bitset network, SATR and EC): the search covers
    /// K_in and K_out only, and K_h is drawn once from the run seed (`GenomeExpansion.frozenRecurrent`).
    public var frozenRecurrent: Bool = false

    public init() {}

    /// The population schedule, when `populationStart` is set (call after `validate()`).
    public var populationSchedule: PopulationSchedule? {
        populationStart.map {
            PopulationSchedule(start: $0, final: population, growthSteps: populationGrowthSteps, pairs: algorithm.membersComeInPairs)
        }
    }

    /// The algorithm's name.
    public var algo: Algorithm { algorithm.name }

    /// The run's own JSON keys (the algorithm adds its hyperparameters' keys).
    enum Key: String, CodingKey, CaseIterable {
        case env, neurons, algo, population, seed, generations
        case maxEnvSteps = "max_env_steps", maxWallSeconds = "max_wall_seconds"
        case evalEvery = "eval_every", evalEpisodes = "eval_episodes", checkpointEvery = "checkpoint_every"
        case bestConfirmEpisodes = "best_confirm_episodes"
        case threads, envOptions = "env_options", evalEnvOptions = "eval_env_options"
        case populationStart = "population_start", populationGrowthSteps = "population_growth_steps"
        case frozenRecurrent = "frozen_recurrent"
    }

    /// Keys a resume may change (the budget and the thread count).
    public static let resumableKeys: Set<String> = ["generations", "max_env_steps", "max_wall_seconds", "threads"]

    /// Keys of configs written before the configuration redesign (0.x, commit 22ef057 and
    /// earlier), read as environment options of both training and evaluation.
    static let legacyEnvironmentKeys = ["reset_noise_scale", "terminate_when_unhealthy"]

    /// Options that were measured on and off, lost, and were removed (docs/RESULTS.md, "At a
    /// glance"), with the value that meant "off" (nil: any value, for a
    /// setting that did nothing without its partner) and the verdict. Every `config.json` written
    /// while they existed records them switched off, so such configs and checkpoints still load
    /// and resume; a config that switches one on is refused with the verdict and the last commit
    /// that had the option.
    static let removedOptions: [(key: String, off: JSONTree?, verdict: String)] = [
        ("common_resets", .bool(false),
         "common reset states lost on Hopper-v5 (3 seeds: fresh-episode median / worst 2775 / 2285 against 3058 / 3028)"),
        ("horizon_start", .null,
         "episode-horizon schedules lost on Hopper-v5 (3 seeds, two schedules: 3002 / 2032 and 2470 / 2002 against 3058 / 3028)"),
        ("horizon_growth_steps", nil, "it belonged to the removed episode-horizon schedule (horizon_start)"),
        ("pool_while_still", .bool(false),
         "SATR's pooling while still lost on HalfCheetah-v5 (3 seeds: 864 / 427 against 1410 / 889 without it)"),
    ]

    /// The last commit that had the options of `removedOptions`.
    static let lastCommitWithRemovedOptions = "53d5fe0"

    /// Checks ranges; throws `ConfigError.invalid` naming the field and what is allowed.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ message: String) throws {
            if !ok { throw ConfigError.invalid(field: field, message: message) }
        }
        try check(neurons >= 64 && neurons % 64 == 0, "neurons", "must be a positive multiple of 64 (got \(neurons))")
        try check(population >= 2, "population", "must be at least 2 (got \(population))")
        try check(generations != nil || maxEnvSteps != nil || maxWallSeconds != nil, "generations",
                  "a run needs a budget: set generations, max_env_steps or max_wall_seconds")
        if let generations { try check(generations >= 1, "generations", "must be at least 1 (got \(generations))") }
        if let maxEnvSteps { try check(maxEnvSteps >= 1, "max_env_steps", "must be at least 1 (got \(maxEnvSteps))") }
        if let maxWallSeconds {
            try check(maxWallSeconds.isFinite && maxWallSeconds > 0, "max_wall_seconds", "must be a positive number (got \(maxWallSeconds))")
        }
        try check(evalEvery >= 0, "eval_every", "must be >= 0 (got \(evalEvery))")
        try check(evalEpisodes >= 1, "eval_episodes", "must be at least 1 (got \(evalEpisodes))")
        try check(bestConfirmEpisodes >= 0 && bestConfirmEpisodes <= 10_000, "best_confirm_episodes",
                  "must be in 0...10000 (0 = no confirmation; got \(bestConfirmEpisodes))")
        try check(checkpointEvery >= 1, "checkpoint_every", "must be at least 1 (got \(checkpointEvery))")
        if let populationStart {
            let largest = 1 << 20
            try check(populationStart >= 2 && populationStart <= largest, "population_start",
                      "must be in 2...\(largest) members (got \(populationStart)); leave it unset for no schedule")
            try algorithm.checkEven(population: populationStart, field: "population_start")
            try check(population <= largest, "population", "must be at most \(largest) with a population schedule (got \(population))")
        }
        try check(populationGrowthSteps >= 1 && populationGrowthSteps <= 1_000_000_000_000, "population_growth_steps",
                  "must be in 1...1e12 env steps (got \(populationGrowthSteps))")
        try check(!frozenRecurrent || algo != .es, "frozen_recurrent",
                  "applies to the bitset network of satr and ec; es searches DenseSNN's real weights")
        try check(threads >= 0 && threads <= 4096, "threads", "must be in 0...4096 (0 = one per core; got \(threads))")
        try algorithm.validate(population: population)
    }

    /// Checks the config against its task: the task exists and has every environment option set,
    /// and `eval_env_options` sets no observation option.
    public func validate(spec: TaskSpec) throws {
        let observationNames = evalEnvOptions.setOptionNames.filter(EnvironmentOptions.observationOptionNames.contains)
        if let name = observationNames.first {
            throw ConfigError.invalid(
                field: "eval_env_options",
                message: "\(name) shapes the policy's input, so evaluations take it from env_options (--env-option \(name)=...)")
        }
        do {
            _ = try envOptions.resolved(over: spec)
            _ = try evalEnvOptions.resolved(over: spec)
        } catch let error as EnvironmentError {
            throw ConfigError.invalid(field: "env_options", message: error.description)
        }
    }

    /// The same run with `threads` cleared and no budget: two configs with equal identities
    /// compute the same generations bit for bit.
    public var identity: TrainingConfig {
        var copy = self
        copy.threads = 0
        copy.generations = nil
        copy.maxEnvSteps = nil
        copy.maxWallSeconds = nil
        return copy
    }

    /// The config as a checkpoint stores it: `threads` cleared, the budget kept.
    public var withoutThreads: TrainingConfig {
        var copy = self
        copy.threads = 0
        return copy
    }

    /// The number of worker threads to use: `threads`, or one per active core when 0.
    public var resolvedThreads: Int {
        threads > 0 ? threads : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Readable JSON (sorted keys, pretty-printed), the format of `config.json`.
    public func jsonData() throws -> Data {
        try JSONCoding.encoder(pretty: true).encode(self)
    }

    /// Reads a config file (a JSON object with any subset of the keys) over the defaults.
    public static func load(contentsOf url: URL) throws -> TrainingConfig {
        try resolve(layers: [try layer(contentsOf: url)])
    }

    /// A config file as a layer (a JSON object), or a `ConfigError` saying why it is not one.
    public static func layer(contentsOf url: URL) throws -> [String: JSONTree] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        do {
            guard let object = try JSONCoding.decoder().decode(JSONTree.self, from: data).object else {
                throw ConfigError.unreadable(path: url.path, reason: "not a JSON object")
            }
            return object
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError.unreadable(path: url.path, reason: "not valid JSON: \(describe(decodingError: error))")
        }
    }

    /// Merges `layers` (lowest priority first) over the defaults and decodes the result.
    ///
    /// - The algorithm is the last layer's `algo` (default satr); its hyperparameters' keys are
    ///   accepted, other algorithms' keys are refused with a message naming the algorithm.
    /// - `env_options` and `eval_env_options` merge option by option.
    /// - When a layer sets `max_env_steps` or `max_wall_seconds` and no layer sets
    ///   `generations`, the run has no generation limit.
    /// - Unknown keys are refused with the list of known ones, so that a typo is not ignored.
    public static func resolve(layers: [[String: JSONTree]]) throws -> TrainingConfig {
        var merged: [String: JSONTree] = [:]
        for layer in layers {
            for (key, value) in layer {
                if (key == Key.envOptions.rawValue || key == Key.evalEnvOptions.rawValue),
                   let old = merged[key]?.object, let new = value.object {
                    merged[key] = .object(old.merging(new) { $1 })
                } else {
                    merged[key] = value
                }
            }
        }
        // Configs from before the redesign: environment options at the top level, for both.
        for legacy in legacyEnvironmentKeys {
            guard let value = merged.removeValue(forKey: legacy) else { continue }
            for key in [Key.envOptions.rawValue, Key.evalEnvOptions.rawValue] {
                var options = merged[key]?.object ?? [:]
                options[legacy] = value
                merged[key] = .object(options)
            }
        }
        for removed in removedOptions {
            guard let value = merged.removeValue(forKey: removed.key) else { continue }
            if let off = removed.off, value != off {
                throw ConfigError.invalid(field: removed.key, message: "this option was removed: \(removed.verdict), docs/RESULTS.md; "
                    + "a run that used it resumes with satr built from commit \(lastCommitWithRemovedOptions) or earlier")
            }
        }
        let algo: Algorithm
        switch merged[Key.algo.rawValue] {
        case nil: algo = .satr
        case .string(let name)?:
            guard let a = Algorithm(rawValue: name) else {
                throw ConfigError.invalid(field: "algo", message: "unknown algorithm \"\(name)\"; known: \(Algorithm.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            algo = a
        case let other?: throw ConfigError.invalid(field: "algo", message: "must be a string (got \(other.text))")
        }
        if merged[Key.generations.rawValue] == nil,
           merged[Key.maxEnvSteps.rawValue] != nil || merged[Key.maxWallSeconds.rawValue] != nil {
            merged[Key.generations.rawValue] = .null
        }
        var defaults = TrainingConfig()
        defaults.algorithm = algo.defaultSettings
        guard var full = try JSONTree.of(defaults).object else { preconditionFailure("a config encodes as an object") }
        let known = Set(full.keys)
        for key in merged.keys.sorted() where !known.contains(key) {
            if let owner = Algorithm.allCases.first(where: { $0 != algo && (try? $0.defaultSettings.keys)?[key] != nil }) {
                throw ConfigError.invalid(field: key, message: "is a hyperparameter of \(owner.rawValue); it does not apply to algo \(algo.rawValue)")
            }
            throw ConfigError.unknownKey(key, known: known.sorted())
        }
        full.merge(merged) { $1 }
        do {
            return try TrainingConfig(complete: full, algo: algo)
        } catch let error as ConfigError {
            throw error
        } catch let error as EnvironmentError {
            throw ConfigError.invalid(field: "env_options", message: error.description)
        } catch {
            throw ConfigError.invalid(field: "config", message: describe(decodingError: error))
        }
    }
}

extension TrainingConfig: Codable {
    /// Decodes a config object with any subset of the keys (missing keys keep their defaults;
    /// see `resolve(layers:)`).
    public init(from decoder: Decoder) throws {
        let tree = try JSONTree(from: decoder)
        guard let object = tree.object else {
            throw DecodingError.typeMismatch(TrainingConfig.self, .init(codingPath: decoder.codingPath, debugDescription: "a config is a JSON object"))
        }
        self = try TrainingConfig.resolve(layers: [object])
    }

    /// Decodes a complete object (every key of the run and of `algo`'s hyperparameters).
    init(complete fields: [String: JSONTree], algo: Algorithm) throws {
        let own = Set(Key.allCases.map(\.rawValue))
        let c = try JSONTree.object(fields.filter { own.contains($0.key) }).decode(Own.self)
        self.init()
        env = c.env
        neurons = c.neurons
        population = c.population
        seed = c.seed
        generations = c.generations
        maxEnvSteps = c.maxEnvSteps
        maxWallSeconds = c.maxWallSeconds
        evalEvery = c.evalEvery
        evalEpisodes = c.evalEpisodes
        bestConfirmEpisodes = c.bestConfirmEpisodes
        checkpointEvery = c.checkpointEvery
        threads = c.threads
        envOptions = c.envOptions
        evalEnvOptions = c.evalEnvOptions
        populationStart = c.populationStart
        populationGrowthSteps = c.populationGrowthSteps
        frozenRecurrent = c.frozenRecurrent
        algorithm = try AlgorithmSettings(algo: algo, keys: fields.filter { !own.contains($0.key) })
    }

    /// The run's own keys with their types (synthesized decoding of a complete object).
    private struct Own: Decodable {
        var env: String
        var algo: Algorithm
        var neurons: Int
        var population: Int
        var seed: UInt64
        var generations: Int?
        var maxEnvSteps: Int?
        var maxWallSeconds: Double?
        var evalEvery: Int
        var evalEpisodes: Int
        var bestConfirmEpisodes: Int
        var checkpointEvery: Int
        var threads: Int
        var envOptions: EnvironmentOptions
        var evalEnvOptions: EnvironmentOptions
        var populationStart: Int?
        var populationGrowthSteps: Int
        var frozenRecurrent: Bool
        typealias CodingKeys = TrainingConfig.Key
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(env, forKey: .env)
        try c.encode(neurons, forKey: .neurons)
        try c.encode(algo, forKey: .algo)
        try c.encode(population, forKey: .population)
        try c.encode(seed, forKey: .seed)
        try c.encode(generations, forKey: .generations)
        try c.encode(maxEnvSteps, forKey: .maxEnvSteps)
        try c.encode(maxWallSeconds, forKey: .maxWallSeconds)
        try c.encode(evalEvery, forKey: .evalEvery)
        try c.encode(evalEpisodes, forKey: .evalEpisodes)
        try c.encode(bestConfirmEpisodes, forKey: .bestConfirmEpisodes)
        try c.encode(checkpointEvery, forKey: .checkpointEvery)
        try c.encode(threads, forKey: .threads)
        try c.encode(envOptions, forKey: .envOptions)
        try c.encode(evalEnvOptions, forKey: .evalEnvOptions)
        try c.encode(populationStart, forKey: .populationStart)
        try c.encode(populationGrowthSteps, forKey: .populationGrowthSteps)
        try c.encode(frozenRecurrent, forKey: .frozenRecurrent)
        var h = encoder.container(keyedBy: AnyKey.self)
        for (key, value) in try algorithm.keys {
            try h.encode(value, forKey: AnyKey(stringValue: key))
        }
    }
}

/// A configuration problem, with a message that says what to change.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case invalid(field: String, message: String)
    case unknownKey(String, known: [String])
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let field, let message): return "invalid \(field): \(message)"
        case .unknownKey(let key, let known):
            return "unknown config key \"\(key)\"; known keys: \(known.joined(separator: ", "))"
        case .unreadable(let path, let reason): return "cannot read config \(path): \(reason)"
        }
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A short human-readable description of a decoding error.
func describe(decodingError error: Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "" : " at \(p)"
    }
    switch error {
    case .typeMismatch(_, let c): return "wrong type\(path(c)): \(c.debugDescription)"
    case .valueNotFound(_, let c): return "missing value\(path(c)): \(c.debugDescription)"
    case .keyNotFound(let key, let c): return "missing key \"\(key.stringValue)\"\(path(c))"
    case .dataCorrupted(let c): return "malformed data\(path(c)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}

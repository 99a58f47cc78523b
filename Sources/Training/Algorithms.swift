import Foundation
import Search
import Spiking

/// The update rules a training run can use: the registry of algorithms.
///
/// Adding an algorithm: a strategy in `Search` whose `Hyperparameters` conform to
/// `AlgorithmHyperparameters`, one case here and in `AlgorithmSettings` / `OptimizerState`, a
/// `TrainableStrategy` conformance (its network, its start from a config) and its case in
/// `Trainer.start`, and its option group in the CLI (`satr/AlgorithmOptions`).
/// Adding a hyperparameter: a field (with its default and doc) in the algorithm's
/// `Hyperparameters`, and one `@Option` in its option group; its JSON key, config-file parsing,
/// checkpoint identity check and resume check all follow from the type.
public enum Algorithm: String, Codable, Sendable, CaseIterable {
    /// Signal-adaptive trust region on a Bernoulli connectivity distribution (docs/SEARCH.md).
    case satr
    /// Evolving Connectivity: natural gradient + Adam on a Bernoulli connectivity distribution.
    case ec
    /// OpenAI-style Gaussian ES on the real weights of the DenseSNN baseline network.
    case es

    /// This algorithm with its default hyperparameters.
    public var defaultSettings: AlgorithmSettings {
        switch self {
        case .satr: return .satr(.init())
        case .ec: return .ec(.init())
        case .es: return .es(.init())
        }
    }

    /// The number of parameters this algorithm searches for a network of these sizes (bits of
    /// the bitset network for SATR and EC, without K_h when it is frozen; Float32 weights of
    /// DenseSNN for ES).
    public func parameterCount(observationSize: Int, actionSize: Int, neurons: Int, frozenRecurrent: Bool = false) throws -> Int {
        switch self {
        case .satr, .ec:
            return try NetworkShape(observationSize: observationSize, actionSize: actionSize, neurons: neurons)
                .searchedBitCount(frozenRecurrent: frozenRecurrent)
        case .es:
            return try DenseSNNShape(observationSize: observationSize, actionSize: actionSize, neurons: neurons).parameterCount
        }
    }
}

/// The hyperparameters of one algorithm as configuration: Codable with snake_case JSON keys
/// derived from the field names, a default for every field (`init()`), and a range check.
public protocol AlgorithmHyperparameters: Codable, Sendable, Equatable {
    init()
    /// Throws `ConfigError.invalid` naming the field when a value is out of range.
    func validate(population: Int) throws
}

/// The chosen algorithm with its own typed hyperparameters.
public enum AlgorithmSettings: Sendable, Equatable {
    case satr(SATRStrategy.Hyperparameters)
    case ec(ECStrategy.Hyperparameters)
    case es(GaussianESStrategy.Hyperparameters)

    public var name: Algorithm {
        switch self {
        case .satr: return .satr
        case .ec: return .ec
        case .es: return .es
        }
    }

    var hyperparameters: any AlgorithmHyperparameters {
        switch self {
        case .satr(let h): return h
        case .ec(let h): return h
        case .es(let h): return h
        }
    }

    /// The hyperparameters as JSON keys (snake_case) and values.
    public var keys: [String: JSONTree] {
        get throws { try JSONTree.of(hyperparameters, encoder: JSONCoding.encoder(snakeCase: true)).object ?? [:] }
    }

    /// Decodes `algo`'s hyperparameters from `keys` (every key of the type must be present:
    /// `TrainingConfig.resolve` merges them over the defaults).
    init(algo: Algorithm, keys: [String: JSONTree]) throws {
        func decode<H: AlgorithmHyperparameters>(_ type: H.Type) throws -> H {
            do {
                return try JSONTree.object(keys).decode(H.self, decoder: JSONCoding.decoder(snakeCase: true))
            } catch let error as DecodingError {
                // Name the config key (snake_case), not the Swift property.
                var field = "\(algo.rawValue) hyperparameters"
                var reason = describe(decodingError: error)
                switch error {
                case .dataCorrupted(let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
                    if let key = c.codingPath.first?.stringValue { field = snakeCase(key) }
                    reason = c.debugDescription
                default: break
                }
                throw ConfigError.invalid(field: field, message: reason)
            }
        }
        switch algo {
        case .satr: self = .satr(try decode(SATRStrategy.Hyperparameters.self))
        case .ec: self = .ec(try decode(ECStrategy.Hyperparameters.self))
        case .es: self = .es(try decode(GaussianESStrategy.Hyperparameters.self))
        }
    }

    func validate(population: Int) throws { try hyperparameters.validate(population: population) }

    /// Whether the members come in pairs (mirrored SATR and EC; ES always), so that every
    /// population must be even.
    public var membersComeInPairs: Bool {
        switch self {
        case .satr(let h): return h.mirrored
        case .ec(let h): return h.mirrored
        case .es: return true
        }
    }

    /// `checkPairs` for this algorithm's members: an odd `population` is refused, naming `field`,
    /// when they come in pairs.
    func checkEven(population: Int, field: String) throws {
        try checkPairs(membersComeInPairs, population: population, field: field, why: name == .es ? antitheticPairs : mirroredPairs)
    }
}

func checkConfig(_ ok: Bool, _ field: String, _ message: @autoclosure () -> String) throws {
    if !ok { throw ConfigError.invalid(field: field, message: message()) }
}

func checkPositive(_ value: Double, _ field: String) throws {
    try checkConfig(value.isFinite && value > 0, field, "must be a positive finite number (got \(value))")
}

func checkFraction(_ value: Double, _ field: String) throws {
    try checkConfig(value >= 0 && value < 1, field, "must be in [0, 1) (got \(value))")
}

func checkBound(_ value: Double) throws {
    try checkConfig(value > 0 && value < 0.5, "bound", "must be in (0, 0.5) (got \(value))")
}

/// Why a population must be even: mirrored SATR and EC members, and ES perturbations, come in pairs.
let mirroredPairs = "mirrored sampling uses pairs", antitheticPairs = "ES uses antithetic pairs"

/// Members in pairs need an even population: throws naming `field` (`population`, or
/// `population_start` of a population schedule) otherwise.
func checkPairs(_ pairs: Bool, population: Int, field: String = "population", why: String = mirroredPairs) throws {
    try checkConfig(!pairs || population % 2 == 0, field, "\(why), so it must be even (got \(population))")
}

extension SATRStrategy.Hyperparameters: AlgorithmHyperparameters {
    public func validate(population: Int) throws {
        try checkConfig(trustRadius.isFinite && trustRadius >= 0, "trust_radius", "must be a finite number >= 0 (got \(trustRadius))")
        try checkPositive(etaMax, "eta_max")
        try checkFraction(momentum, "momentum")
        try checkFraction(directionMomentum, "direction_momentum")
        try checkConfig(directionMomentum == 0 || signalEstimator != .evolutionPath, "direction_momentum",
                        "the path estimator already steps along its own average; use direction_momentum with lag1, variance or split-half")
        try checkBound(bound)
        try checkPairs(mirrored, population: population)
    }
}

extension ECStrategy.Hyperparameters: AlgorithmHyperparameters {
    public func validate(population: Int) throws {
        try checkPositive(learningRate, "learning_rate")
        try checkFraction(beta1, "beta1")
        try checkFraction(beta2, "beta2")
        try checkPositive(adamEpsilon, "adam_epsilon")
        try checkBound(bound)
        try checkPairs(mirrored, population: population)
    }
}

extension GaussianESStrategy.Hyperparameters: AlgorithmHyperparameters {
    public func validate(population: Int) throws {
        try checkPositive(sigma, "sigma")
        try checkPositive(learningRate, "learning_rate")
        try checkConfig(weightDecay.isFinite && weightDecay >= 0, "weight_decay", "must be >= 0 (got \(weightDecay))")
        try checkFraction(beta1, "beta1")
        try checkFraction(beta2, "beta2")
        try checkPositive(adamEpsilon, "adam_epsilon")
        try checkPairs(true, population: population, why: antitheticPairs)
    }
}

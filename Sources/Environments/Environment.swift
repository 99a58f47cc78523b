import Foundation

/// The static description of one task: sizes, action box, timing and defaults.
///
/// `dt = timestep * frameSkip` is the duration of one environment step; an episode is truncated
/// after `maxEpisodeSteps` steps.
public struct TaskSpec: Sendable, Hashable, Codable {
    /// Gymnasium id, e.g. "Hopper-v5".
    public let id: String
    /// Base name of the model file in `Sources/Environments/Models` (e.g. "hopper").
    public let modelName: String
    /// Length of the observation vector under the spec's options: the task default in
    /// `TaskRegistry.all` and `spec(id:)`; `TaskRegistry.spec(id:options:)` and an environment's
    /// `spec` give the length under the observation options in effect (Humanoid's and Ant's
    /// `include_*_in_observation`).
    public internal(set) var observationSize: Int
    /// Length of the action vector (= number of actuators).
    public let actionSize: Int
    /// Lower bounds of the action box (the actuators' ctrlrange), one per action component.
    public let actionLow: [Double]
    /// Upper bounds of the action box, one per action component.
    public let actionHigh: [Double]
    /// Physics timestep (`opt.timestep`) in seconds.
    public let timestep: Double
    /// Physics steps per environment step.
    public let frameSkip: Int
    /// Environment step duration `timestep * frameSkip` in seconds.
    public let dt: Double
    /// Steps after which an episode is truncated (1000 for all tasks).
    public let maxEpisodeSteps: Int
    /// The task's defaults. Exactly the options the task accepts are non-nil here
    /// (e.g. `terminateWhenUnhealthy` only for Hopper, Walker2d, Ant and Humanoid).
    public let defaults: EnvironmentOptions

    /// The default reset noise scale (`defaults.resetNoiseScale`).
    public var defaultResetNoiseScale: Double { defaults.resetNoiseScale ?? 0 }

    init(
        id: String, modelName: String, observationSize: Int, actionSize: Int, actionBound: (Double, Double),
        timestep: Double, frameSkip: Int, defaults: EnvironmentOptions
    ) {
        self.id = id
        self.modelName = modelName
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.actionLow = Array(repeating: actionBound.0, count: actionSize)
        self.actionHigh = Array(repeating: actionBound.1, count: actionSize)
        self.timestep = timestep
        self.frameSkip = frameSkip
        self.dt = timestep * Double(frameSkip)
        self.maxEpisodeSteps = 1000
        self.defaults = defaults
    }
}

/// Per-environment options, Gymnasium's `make` keyword arguments. `nil` means the task default
/// (`TaskSpec.defaults`). Setting an option a task does not have is an error.
///
/// | option (Gymnasium kwarg) | tasks |
/// |---|---|
/// | `resetNoiseScale` (reset_noise_scale, >= 0) | all |
/// | `terminateWhenUnhealthy` (terminate_when_unhealthy) | Hopper, Walker2d, Ant, Humanoid |
/// | `forwardRewardWeight` (forward_reward_weight) | Hopper, Walker2d, HalfCheetah, Ant, Humanoid, Swimmer |
/// | `ctrlCostWeight` (ctrl_cost_weight) | Hopper, Walker2d, HalfCheetah, Ant, Humanoid, Swimmer |
/// | `healthyReward` (healthy_reward) | Hopper, Walker2d, Ant, Humanoid, InvertedDoublePendulum |
/// | `contactCostWeight` (contact_cost_weight) | Ant, Humanoid |
/// | `includeCinertInObservation` (include_cinert_in_observation) | Humanoid |
/// | `includeCvelInObservation` (include_cvel_in_observation) | Humanoid |
/// | `includeQfrcActuatorInObservation` (include_qfrc_actuator_in_observation) | Humanoid |
/// | `includeCfrcExtInObservation` (include_cfrc_ext_in_observation) | Ant, Humanoid |
///
/// The `include_*_in_observation` options are *observation options*: they change which blocks
/// the observation holds (and so its length and the policy's input layer), never the dynamics or
/// the reward. A policy is trained and evaluated under the same observation options.
public struct EnvironmentOptions: Sendable, Codable, Hashable {
    /// Scale of the reset noise (0: start exactly at qpos0 with zero velocity).
    public var resetNoiseScale: Double?
    /// End the episode (`terminated`) when the robot is unhealthy. With false, episodes run to
    /// truncation; the healthy reward is still paid only on healthy steps.
    public var terminateWhenUnhealthy: Bool?
    /// Weight of the forward velocity reward.
    public var forwardRewardWeight: Double?
    /// Weight of the control cost `sum a^2`.
    public var ctrlCostWeight: Double?
    /// Reward per healthy step (InvertedDoublePendulum: the alive bonus).
    public var healthyReward: Double?
    /// Weight of the contact cost.
    public var contactCostWeight: Double?
    /// Humanoid: the bodies' com-based inertias `cinert[1...]` (10 per body) in the observation.
    public var includeCinertInObservation: Bool?
    /// Humanoid: the bodies' com-based velocities `cvel[1...]` (6 per body) in the observation.
    public var includeCvelInObservation: Bool?
    /// Humanoid: the actuator forces `qfrc_actuator[6...]` in the observation.
    public var includeQfrcActuatorInObservation: Bool?
    /// Ant, Humanoid: the external contact forces `cfrc_ext[1...]` (6 per body) in the observation.
    public var includeCfrcExtInObservation: Bool?

    public init(
        resetNoiseScale: Double? = nil, terminateWhenUnhealthy: Bool? = nil, forwardRewardWeight: Double? = nil,
        ctrlCostWeight: Double? = nil, healthyReward: Double? = nil, contactCostWeight: Double? = nil,
        includeCinertInObservation: Bool? = nil, includeCvelInObservation: Bool? = nil,
        includeQfrcActuatorInObservation: Bool? = nil, includeCfrcExtInObservation: Bool? = nil
    ) {
        self.resetNoiseScale = resetNoiseScale
        self.terminateWhenUnhealthy = terminateWhenUnhealthy
        self.forwardRewardWeight = forwardRewardWeight
        self.ctrlCostWeight = ctrlCostWeight
        self.healthyReward = healthyReward
        self.contactCostWeight = contactCostWeight
        self.includeCinertInObservation = includeCinertInObservation
        self.includeCvelInObservation = includeCvelInObservation
        self.includeQfrcActuatorInObservation = includeQfrcActuatorInObservation
        self.includeCfrcExtInObservation = includeCfrcExtInObservation
    }

    /// One option: its Gymnasium keyword name and where it lives in this value.
    public enum Field: @unchecked Sendable {  // key paths into a value type: immutable
        case number(WritableKeyPath<EnvironmentOptions, Double?>)
        case flag(WritableKeyPath<EnvironmentOptions, Bool?>)
    }

    /// Every option by its Gymnasium v5 constructor name, in a fixed order. This table is the one
    /// place that names the options: parsing, JSON, error messages and `satr envs` read it.
    public static let fields: [(name: String, field: Field)] = [
        ("reset_noise_scale", .number(\.resetNoiseScale)),
        ("terminate_when_unhealthy", .flag(\.terminateWhenUnhealthy)),
        ("forward_reward_weight", .number(\.forwardRewardWeight)),
        ("ctrl_cost_weight", .number(\.ctrlCostWeight)),
        ("healthy_reward", .number(\.healthyReward)),
        ("contact_cost_weight", .number(\.contactCostWeight)),
        ("include_cinert_in_observation", .flag(\.includeCinertInObservation)),
        ("include_cvel_in_observation", .flag(\.includeCvelInObservation)),
        ("include_qfrc_actuator_in_observation", .flag(\.includeQfrcActuatorInObservation)),
        ("include_cfrc_ext_in_observation", .flag(\.includeCfrcExtInObservation)),
    ]

    /// The observation options (`include_*_in_observation`), which shape the observation.
    public static let observationOptionNames: Set<String> = [
        "include_cinert_in_observation", "include_cvel_in_observation", "include_qfrc_actuator_in_observation",
        "include_cfrc_ext_in_observation",
    ]

    /// Only the observation options of these options (the rest unset).
    public var observationOptions: EnvironmentOptions {
        EnvironmentOptions(
            includeCinertInObservation: includeCinertInObservation, includeCvelInObservation: includeCvelInObservation,
            includeQfrcActuatorInObservation: includeQfrcActuatorInObservation,
            includeCfrcExtInObservation: includeCfrcExtInObservation)
    }

    /// These options with the observation options replaced by those of `other`.
    public func withObservationOptions(of other: EnvironmentOptions) -> EnvironmentOptions {
        var copy = self
        copy.includeCinertInObservation = other.includeCinertInObservation
        copy.includeCvelInObservation = other.includeCvelInObservation
        copy.includeQfrcActuatorInObservation = other.includeQfrcActuatorInObservation
        copy.includeCfrcExtInObservation = other.includeCfrcExtInObservation
        return copy
    }

    /// These options with every option that `other` sets replaced by `other`'s value.
    public func overlaid(by other: EnvironmentOptions) -> EnvironmentOptions {
        var copy = self
        for entry in Self.fields {
            switch entry.field {
            case .number(let path): if let value = other[keyPath: path] { copy[keyPath: path] = value }
            case .flag(let path): if let value = other[keyPath: path] { copy[keyPath: path] = value }
            }
        }
        return copy
    }

    /// The set options as `NAME=VALUE` texts (the `--env-option` form), in `fields` order.
    public var assignments: [String] {
        Self.fields.compactMap { entry in
            switch entry.field {
            case .number(let path): return self[keyPath: path].map { "\(entry.name)=\($0)" }
            case .flag(let path): return self[keyPath: path].map { "\(entry.name)=\($0)" }
            }
        }
    }

    /// Gymnasium names of the options that are set (non-nil), in `fields` order.
    public var setOptionNames: [String] {
        Self.fields.compactMap { entry in
            switch entry.field {
            case .number(let path): return self[keyPath: path] == nil ? nil : entry.name
            case .flag(let path): return self[keyPath: path] == nil ? nil : entry.name
            }
        }
    }

    /// Sets the option `name` (a Gymnasium keyword, e.g. `healthy_reward`) from its text `value`
    /// (a number, or `true`/`false` for flags).
    ///
    /// Throws `EnvironmentError.unsupportedOption` for a name no task has (listing every name) and
    /// `invalidOption` for a value of the wrong kind. Whether the task has the option is checked
    /// by `resolved(over:)`.
    public mutating func set(_ name: String, to value: String) throws {
        guard let entry = Self.fields.first(where: { $0.name == name }) else {
            throw EnvironmentError.unsupportedOption(task: "any task", option: name, accepted: Self.fields.map(\.name))
        }
        switch entry.field {
        case .number(let path):
            guard let v = Double(value.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw EnvironmentError.invalidOption(task: "any task", option: name, reason: "'\(value)' is not a finite number")
            }
            self[keyPath: path] = v
        case .flag(let path):
            switch value.lowercased() {
            case "true", "1": self[keyPath: path] = true
            case "false", "0": self[keyPath: path] = false
            default:
                throw EnvironmentError.invalidOption(task: "any task", option: name, reason: "'\(value)' is not true or false")
            }
        }
    }

    /// Parses `NAME=VALUE` assignments (as given to `--env-option`) into options.
    public static func parse(assignments: [String]) throws -> EnvironmentOptions {
        var options = EnvironmentOptions()
        for text in assignments {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
                throw EnvironmentError.invalidOption(
                    task: "any task", option: text,
                    reason: "expected NAME=VALUE with NAME one of \(fields.map(\.name).joined(separator: ", "))")
            }
            try options.set(String(text[..<eq]), to: String(text[text.index(after: eq)...]))
        }
        return options
    }

    /// JSON keys are the Gymnasium names; an absent key is an unset option.
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init()
        let known = Set(Self.fields.map(\.name))
        for key in c.allKeys where !known.contains(key.stringValue) {
            throw EnvironmentError.unsupportedOption(task: "any task", option: key.stringValue, accepted: Self.fields.map(\.name))
        }
        for entry in Self.fields {
            let key = Key(stringValue: entry.name)
            switch entry.field {
            case .number(let path): self[keyPath: path] = try c.decodeIfPresent(Double.self, forKey: key)
            case .flag(let path): self[keyPath: path] = try c.decodeIfPresent(Bool.self, forKey: key)
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for entry in Self.fields {
            let key = Key(stringValue: entry.name)
            switch entry.field {
            case .number(let path): try c.encodeIfPresent(self[keyPath: path], forKey: key)
            case .flag(let path): try c.encodeIfPresent(self[keyPath: path], forKey: key)
            }
        }
    }

    /// These options over `defaults`: every option set here must exist in `defaults`, and every
    /// number must be finite (`resetNoiseScale` also >= 0). The result has exactly the fields of
    /// `defaults` set.
    public func resolved(over spec: TaskSpec) throws -> EnvironmentOptions {
        let accepted = Set(spec.defaults.setOptionNames)
        for name in setOptionNames where !accepted.contains(name) {
            throw EnvironmentError.unsupportedOption(
                task: spec.id, option: name, accepted: spec.defaults.setOptionNames)
        }
        for entry in Self.fields {
            if case .number(let path) = entry.field, let value = self[keyPath: path], !value.isFinite {
                throw EnvironmentError.invalidOption(task: spec.id, option: entry.name, reason: "\(value) is not finite")
            }
        }
        if let scale = resetNoiseScale, scale < 0 {
            throw EnvironmentError.invalidOption(
                task: spec.id, option: "reset_noise_scale", reason: "\(scale) is negative")
        }
        let d = spec.defaults
        return EnvironmentOptions(
            resetNoiseScale: resetNoiseScale ?? d.resetNoiseScale,
            terminateWhenUnhealthy: terminateWhenUnhealthy ?? d.terminateWhenUnhealthy,
            forwardRewardWeight: forwardRewardWeight ?? d.forwardRewardWeight,
            ctrlCostWeight: ctrlCostWeight ?? d.ctrlCostWeight,
            healthyReward: healthyReward ?? d.healthyReward,
            contactCostWeight: contactCostWeight ?? d.contactCostWeight,
            includeCinertInObservation: includeCinertInObservation ?? d.includeCinertInObservation,
            includeCvelInObservation: includeCvelInObservation ?? d.includeCvelInObservation,
            includeQfrcActuatorInObservation: includeQfrcActuatorInObservation ?? d.includeQfrcActuatorInObservation,
            includeCfrcExtInObservation: includeCfrcExtInObservation ?? d.includeCfrcExtInObservation)
    }
}

/// What one environment step returns.
public struct StepResult: Sendable, Equatable {
    /// The observation after the step (`TaskSpec.observationSize` values).
    public var observation: [Double]
    /// The reward of the step.
    public var reward: Double
    /// The episode ended by the task's rule (e.g. the robot fell).
    public var terminated: Bool
    /// The episode ended by the time limit (`maxEpisodeSteps`).
    public var truncated: Bool
    /// Gymnasium's info dictionary: the reward terms and positions under Gymnasium's key names
    /// (e.g. "x_position", "x_velocity", "reward_forward", "reward_ctrl", "reward_survive").
    /// Vector entries are flattened as "name[i]" (Humanoid's "tendon_length[0]").
    public var info: [String: Double]

    public init(observation: [Double], reward: Double, terminated: Bool, truncated: Bool, info: [String: Double]) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
        self.info = info
    }
}

/// Errors of the environments.
public enum EnvironmentError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No task with this id.
    case unknownTask(String, known: [String])
    /// An option the task does not have.
    case unsupportedOption(task: String, option: String, accepted: [String])
    /// An option value out of its domain.
    case invalidOption(task: String, option: String, reason: String)
    /// The action has the wrong length.
    case actionSizeMismatch(task: String, expected: Int, actual: Int)
    /// The observation buffer has the wrong length.
    case observationSizeMismatch(task: String, expected: Int, actual: Int)
    /// An action component is NaN or infinite. The environment's state is unchanged.
    case nonFiniteAction(task: String, index: Int, value: Double)
    /// `step` was called before the first `reset`, or after the episode ended.
    case resetRequired(task: String, reason: String)
    /// A model file is missing from the package resources.
    case modelFileMissing(String)

    public var description: String {
        switch self {
        case .unknownTask(let id, let known):
            return "unknown task '\(id)'; known: \(known.joined(separator: ", "))"
        case .unsupportedOption(let task, let option, let accepted):
            return "\(task) has no option '\(option)'; it accepts: \(accepted.joined(separator: ", "))"
        case .invalidOption(let task, let option, let reason):
            return "invalid option '\(option)' for \(task): \(reason)"
        case .actionSizeMismatch(let task, let expected, let actual):
            return "\(task) needs an action of \(expected) values, got \(actual)"
        case .observationSizeMismatch(let task, let expected, let actual):
            return "\(task) writes an observation of \(expected) values; the buffer has \(actual)"
        case .nonFiniteAction(let task, let index, let value):
            return "\(task): action component \(index) is \(value), not a finite number; the step was not taken"
        case .resetRequired(let task, let reason):
            return "\(task): call reset(seed:) first (\(reason))"
        case .modelFileMissing(let name):
            return "model file '\(name).xml' is missing from the package resources"
        }
    }
}

/// A task instance in the spirit of Gymnasium's `Env`: `reset(seed:)`, then `step` until
/// `terminated` or `truncated`, then `reset` again.
///
/// Every instance owns its own `mjData` and shares its task's compiled model with all other
/// instances, so instances on different threads run in parallel safely. One instance must not be
/// used by two threads at once; create one per worker (`TaskRegistry.make` is cheap once the model
/// is compiled).
///
/// The step rule of every task: `ctrl = action` (not clipped; MuJoCo clamps to `ctrlrange`
/// internally while the control cost sees the action as given), `mj_step` `frameSkip` times,
/// `mj_rnePostConstraint` once, then observation and reward from the data as it stands.
///
/// Errors: a non-finite action throws `EnvironmentError.nonFiniteAction` before anything changes
/// (the episode may continue with a valid action). A diverging simulation throws
/// `MuJoCoError.simulationUnstable`; the episode is then over and needs `reset`. Stepping after
/// `terminated`/`truncated` or before the first reset throws `EnvironmentError.resetRequired`.
public protocol Environment {
    /// The task's static description.
    var spec: TaskSpec { get }
    /// The options in effect (task defaults filled in).
    var options: EnvironmentOptions { get }
    /// Steps taken in the current episode.
    var elapsedSteps: Int { get }
    /// The environment's own simulation state (its `mjData`) on the task's shared model. Read it
    /// freely (e.g. `data.qpos`); changing it between steps leaves the task's rules undefined.
    var data: MuJoCoData { get }

    /// Starts an episode and returns the first observation. The reset noise is drawn from
    /// `CounterStream(seed: seed, generation: 0, member: 0, purpose: .resetNoise)`: first the nq
    /// position noises, then the nv velocity noises. The state is then exactly qpos0 + noise and
    /// the velocity noise (see each task's file for the distributions), followed by `mj_forward`.
    ///
    /// This variant does not throw: if MuJoCo fails (practically impossible for these models), the
    /// observation is NaN and the next `step` throws the reason.
    mutating func reset(seed: UInt64) -> [Double]

    /// `reset(seed:)` writing the observation into `observation` (no allocation).
    mutating func reset(seed: UInt64, observation: UnsafeMutableBufferPointer<Double>) throws

    /// Gymnasium's reset info for the current state: the position keys ("x_position", ...);
    /// empty for the pendulums.
    func resetInfo() -> [String: Double]

    /// Applies `action` for one environment step.
    mutating func step(_ action: [Double]) throws -> StepResult

    /// The hot-path step: reads `action` (`actionSize` values), writes the next observation into
    /// `observation` (`observationSize` values), allocates nothing.
    mutating func step(action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>) throws
        -> (reward: Double, terminated: Bool, truncated: Bool)
}

import Foundation

/// The project's MJCF model files, shipped as package resources in `Models/`.
public enum ModelFile {
    /// Base names of the model files of the eight tasks.
    public static let names = [
        "hopper", "walker2d", "half_cheetah", "ant", "humanoid", "swimmer", "inverted_pendulum",
        "inverted_double_pendulum",
    ]

    /// The URL of `Models/<name>.xml` in the package resources.
    public static func url(named name: String) throws -> URL {
        if let url = Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Models") {
            return url
        }
        // Some Foundation versions do not index copied folders; look in the folder directly.
        if let base = Bundle.module.resourceURL {
            let url = base.appendingPathComponent("Models").appendingPathComponent(name + ".xml")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        throw EnvironmentError.modelFileMissing(name)
    }
}

/// Compiled models, one per model file, loaded lazily and shared by all environments.
/// Loading holds a lock, so each model is compiled once, on one thread.
final class ModelCache: @unchecked Sendable {
    // @unchecked: `models` is only touched under `lock`; MuJoCoModel is immutable and Sendable.
    private let lock = NSLock()
    private var models: [String: MuJoCoModel] = [:]

    static let shared = ModelCache()

    func model(named name: String) throws -> MuJoCoModel {
        lock.lock()
        defer { lock.unlock() }
        if let model = models[name] { return model }
        let model = try MuJoCoModel(contentsOf: ModelFile.url(named: name))
        models[name] = model
        return model
    }
}

/// The eight Gymnasium v5 tasks.
public enum TaskRegistry {
    /// Every task, in the order Hopper, Walker2d, HalfCheetah, Ant, Humanoid, Swimmer,
    /// InvertedPendulum, InvertedDoublePendulum.
    public static let all: [TaskSpec] = factories.map(\.spec)

    /// The task ids of `all`.
    public static var ids: [String] { all.map(\.id) }

    /// The spec of task `id` with its default options; throws `EnvironmentError.unknownTask`
    /// listing the known ids.
    public static func spec(id: String) throws -> TaskSpec {
        try factory(id: id).spec
    }

    /// The spec of task `id` under `options` (validated as `make` does): the same as `spec(id:)`
    /// except `observationSize`, which follows the observation options (e.g. Humanoid-v5 with
    /// every `include_*_in_observation` false has 45 entries instead of 348).
    public static func spec(id: String, options: EnvironmentOptions) throws -> TaskSpec {
        let factory = try factory(id: id)
        return factory.resolvedSpec(try options.resolved(over: factory.spec))
    }

    /// The shared compiled model of task `id` (compiled on first use, then cached).
    public static func model(id: String) throws -> MuJoCoModel {
        try ModelCache.shared.model(named: factory(id: id).spec.modelName)
    }

    /// A new environment of task `id` with `options` over the task defaults. It shares the task's
    /// compiled model and owns a new `mjData`. Call `reset(seed:)` before stepping.
    public static func make(id: String, options: EnvironmentOptions = EnvironmentOptions()) throws -> any Environment {
        let factory = try factory(id: id)
        let resolved = try options.resolved(over: factory.spec)
        let model = try ModelCache.shared.model(named: factory.spec.modelName)
        return try factory.make(model, resolved)
    }

    /// Makes an environment of task `id` on a given compiled model (e.g. a test's in-memory model).
    static func make(id: String, model: MuJoCoModel, options: EnvironmentOptions) throws -> any Environment {
        let factory = try factory(id: id)
        return try factory.make(model, options.resolved(over: factory.spec))
    }

    struct Factory: Sendable {
        /// The spec with the task's default options.
        var spec: TaskSpec
        /// The spec under resolved options.
        var resolvedSpec: @Sendable (EnvironmentOptions) -> TaskSpec
        /// A new environment on a compiled model, with resolved options.
        var make: @Sendable (MuJoCoModel, EnvironmentOptions) throws -> any Environment

        init<Rules: TaskRules>(_ rules: Rules.Type) {
            spec = Rules.spec
            resolvedSpec = { Rules.spec(options: $0) }
            make = { try TaskEnvironment<Rules>(model: $0, options: $1) }
        }
    }

    static let factories: [Factory] = [
        Factory(HopperRules.self), Factory(Walker2dRules.self), Factory(HalfCheetahRules.self), Factory(AntRules.self),
        Factory(HumanoidRules.self), Factory(SwimmerRules.self), Factory(InvertedPendulumRules.self),
        Factory(InvertedDoublePendulumRules.self),
    ]

    static func factory(id: String) throws -> Factory {
        guard let factory = factories.first(where: { $0.spec.id == id }) else {
            throw EnvironmentError.unknownTask(id, known: factories.map(\.spec.id))
        }
        return factory
    }
}

import Foundation
import Environments
import Search
import Spiking

/// The trained deterministic policy in a compact, self-describing JSON file (docs/POLICY_FORMAT.md):
/// the task, the network's shape, the observation normalizer and the network's parameters
/// (connection bits, or DenseSNN weights), readable without this project's code.
public struct PolicyFile: Codable, Sendable, Equatable {
    public static let formatName = "satr-policy"
    public static let currentVersion = 1
    public static let fileName = "policy.json"

    /// Network kinds.
    public enum Kind: String, Codable, Sendable {
        /// Bit connectivity (SATR, EC): `connectivity` holds the packed bits.
        case bitset
        /// DenseSNN real weights (Gaussian ES): `weights` holds Float32 values.
        case dense
    }

    public struct Normalization: Codable, Sendable, Equatable {
        public var mean: [Double]
        public var std: [Double]
    }

    public struct Provenance: Codable, Sendable, Equatable {
        public var algo: String
        public var seed: UInt64
        public var generation: Int
        public var envSteps: Int
        public var evalReturnMean: Double?
        enum CodingKeys: String, CodingKey {
            case algo, seed, generation, envSteps = "env_steps", evalReturnMean = "eval_return_mean"
        }
    }

    public var format: String = formatName
    public var version: Int = currentVersion
    public var task: String
    public var network: Kind
    public var observationSize: Int
    public var actionSize: Int
    public var neurons: Int
    public var excitatoryNeurons: Int
    public var actionLow: [Double]
    public var actionHigh: [Double]
    public var normalizer: Normalization
    /// Bitset networks: the d = 2DN + N*N + NA connection bits as d/64 little-endian UInt64 words
    /// (bit p is bit p & 63 of word p >> 6), the words' bytes little-endian, base64-encoded.
    public var connectivity: String?
    /// Dense networks: the DenseSNN weights as little-endian Float32, base64-encoded.
    public var weights: String?
    public var training: Provenance
    /// The environment options of the run's evaluations (nil: the task's v5 default).
    public var resetNoiseScale: Double?
    public var terminateWhenUnhealthy: Bool?
    /// The observation options the policy was trained with (nil: the v5 default, included); they
    /// fix `observationSize`.
    public var includeCinertInObservation: Bool?
    public var includeCvelInObservation: Bool?
    public var includeQfrcActuatorInObservation: Bool?
    public var includeCfrcExtInObservation: Bool?

    /// The environment options of the run's evaluations.
    public var environmentOptions: EnvironmentOptions {
        EnvironmentOptions(
            resetNoiseScale: resetNoiseScale, terminateWhenUnhealthy: terminateWhenUnhealthy,
            includeCinertInObservation: includeCinertInObservation, includeCvelInObservation: includeCvelInObservation,
            includeQfrcActuatorInObservation: includeQfrcActuatorInObservation,
            includeCfrcExtInObservation: includeCfrcExtInObservation)
    }

    /// Records the options a policy runs with: `options`' reset noise, termination rule and
    /// observation options (its reward weights are not part of a policy).
    public mutating func record(environmentOptions options: EnvironmentOptions) {
        resetNoiseScale = options.resetNoiseScale
        terminateWhenUnhealthy = options.terminateWhenUnhealthy
        includeCinertInObservation = options.includeCinertInObservation
        includeCvelInObservation = options.includeCvelInObservation
        includeQfrcActuatorInObservation = options.includeQfrcActuatorInObservation
        includeCfrcExtInObservation = options.includeCfrcExtInObservation
    }

    enum CodingKeys: String, CodingKey {
        case format, version, task, network, observationSize = "observation_size", actionSize = "action_size"
        case neurons, excitatoryNeurons = "excitatory_neurons", actionLow = "action_low", actionHigh = "action_high"
        case normalizer, connectivity, weights, training
        case resetNoiseScale = "reset_noise_scale", terminateWhenUnhealthy = "terminate_when_unhealthy"
        case includeCinertInObservation = "include_cinert_in_observation"
        case includeCvelInObservation = "include_cvel_in_observation"
        case includeQfrcActuatorInObservation = "include_qfrc_actuator_in_observation"
        case includeCfrcExtInObservation = "include_cfrc_ext_in_observation"
    }

    /// A bitset policy.
    public init(spec: TaskSpec, shape: NetworkShape, words: [UInt64], normalization: FrozenNormalization, training: Provenance) {
        task = spec.id
        network = .bitset
        observationSize = shape.observationSize
        actionSize = shape.actionSize
        neurons = shape.neurons
        excitatoryNeurons = shape.excitatoryNeurons
        actionLow = spec.actionLow
        actionHigh = spec.actionHigh
        normalizer = Normalization(mean: normalization.mean, std: normalization.standardDeviation)
        var data = Data(capacity: words.count * 8)
        for w in words { withUnsafeBytes(of: w.littleEndian) { data.append(contentsOf: $0) } }
        connectivity = data.base64EncodedString()
        self.training = training
    }

    /// A dense (DenseSNN) policy.
    public init(spec: TaskSpec, shape: DenseSNNShape, weights: [Float], normalization: FrozenNormalization, training: Provenance) {
        task = spec.id
        network = .dense
        observationSize = shape.observationSize
        actionSize = shape.actionSize
        neurons = shape.neurons
        excitatoryNeurons = 0
        actionLow = spec.actionLow
        actionHigh = spec.actionHigh
        normalizer = Normalization(mean: normalization.mean, std: normalization.standardDeviation)
        var data = Data(capacity: weights.count * 4)
        for w in weights { withUnsafeBytes(of: w.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        self.weights = data.base64EncodedString()
        self.training = training
    }

    public var normalization: FrozenNormalization {
        FrozenNormalization(mean: normalizer.mean, standardDeviation: normalizer.std)
    }

    /// The connection words of a bitset policy.
    public func connectivityWords() throws -> [UInt64] {
        guard let text = connectivity, let data = Data(base64Encoded: text) else {
            throw PolicyError.invalid("the \"connectivity\" field is missing or not base64")
        }
        guard data.count % 8 == 0 else { throw PolicyError.invalid("\"connectivity\" is not a whole number of 64-bit words") }
        let bytes = [UInt8](data)
        return (0..<(bytes.count / 8)).map { w in
            var v: UInt64 = 0
            for b in 0..<8 { v |= UInt64(bytes[w * 8 + b]) << (8 * UInt64(b)) }
            return v
        }
    }

    /// The weights of a dense policy.
    public func denseWeights() throws -> [Float] {
        guard let text = weights, let data = Data(base64Encoded: text) else {
            throw PolicyError.invalid("the \"weights\" field is missing or not base64")
        }
        guard data.count % 4 == 0 else { throw PolicyError.invalid("\"weights\" is not a whole number of Float32 values") }
        let bytes = [UInt8](data)
        return (0..<(bytes.count / 4)).map { i in
            var v: UInt32 = 0
            for b in 0..<4 { v |= UInt32(bytes[i * 4 + b]) << (8 * UInt32(b)) }
            return Float(bitPattern: v)
        }
    }

    /// The task's spec under the policy's observation options (its `observationSize` is the
    /// policy's input size). Throws for an unknown task or an observation option the task lacks.
    public func taskSpec() throws -> TaskSpec {
        try TaskRegistry.spec(id: task, options: environmentOptions.observationOptions)
    }

    /// Readable JSON.
    public func jsonData() throws -> Data {
        try JSONCoding.encoder(pretty: true).encode(self)
    }

    /// Reads a policy file, or `DIR/policy.json` when `path` is a directory, and checks it against
    /// the task registry.
    public static func load(path: String) throws -> PolicyFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PolicyError.invalid("\(path) does not exist")
        }
        let url = isDirectory.boolValue ? URL(fileURLWithPath: path).appendingPathComponent(fileName) : URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PolicyError.invalid("cannot read \(url.path)\(isDirectory.boolValue ? " (the run has not written its policy yet)" : "")")
        }
        let d = JSONCoding.decoder()
        let policy: PolicyFile
        do { policy = try d.decode(PolicyFile.self, from: data) } catch {
            throw PolicyError.invalid("\(url.path) is not a SATR policy file: \(describe(decodingError: error))")
        }
        guard policy.format == formatName else { throw PolicyError.invalid("\(url.path): format is \"\(policy.format)\", expected \"\(formatName)\"") }
        guard policy.version == currentVersion else {
            throw PolicyError.invalid("\(url.path): policy format version \(policy.version); this build reads version \(currentVersion)")
        }
        let spec = try policy.taskSpec()
        guard spec.observationSize == policy.observationSize, spec.actionSize == policy.actionSize else {
            throw PolicyError.invalid("\(url.path): sizes D=\(policy.observationSize), A=\(policy.actionSize) do not match \(spec.id) (D=\(spec.observationSize), A=\(spec.actionSize))")
        }
        guard policy.normalizer.mean.count == spec.observationSize, policy.normalizer.std.count == spec.observationSize else {
            throw PolicyError.invalid("\(url.path): the normalizer has the wrong size")
        }
        switch policy.network {
        case .bitset:
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: policy.neurons)
            let words = try policy.connectivityWords()
            guard words.count == shape.wordsPerMember else {
                throw PolicyError.invalid("\(url.path): \(words.count) connectivity words, the shape needs \(shape.wordsPerMember)")
            }
        case .dense:
            let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: policy.neurons)
            let w = try policy.denseWeights()
            guard w.count == shape.parameterCount else {
                throw PolicyError.invalid("\(url.path): \(w.count) weights, the shape needs \(shape.parameterCount)")
            }
        }
        return policy
    }
}

extension PolicyFile {
    /// Where the policy runs under `options`: the task's spec and the options with the policy's own
    /// observation options filled in (a policy reads the observation it was trained on). Throws
    /// `PolicyError` when `options` sets an observation option to another value than the policy's.
    public func evaluationSetting(options: EnvironmentOptions) throws -> (spec: TaskSpec, options: EnvironmentOptions) {
        let own = environmentOptions.observationOptions
        let merged = options.withObservationOptions(of: own.overlaid(by: options.observationOptions))
        let base = try TaskRegistry.spec(id: task)
        guard try merged.resolved(over: base).observationOptions == own.resolved(over: base).observationOptions else {
            throw PolicyError.invalid(
                "the policy was trained on \(task) with \(own.setOptionNames.isEmpty ? "the default observation" : "observation options \(own.assignments.joined(separator: ", "))"); it cannot read the observation of \(options.observationOptions.assignments.joined(separator: ", "))")
        }
        let spec = try TaskRegistry.spec(id: task, options: merged)
        guard spec.observationSize == observationSize else {
            throw PolicyError.invalid("the policy reads \(observationSize) observation values, but \(task) writes \(spec.observationSize)")
        }
        return (spec, merged)
    }
}

public struct PolicyError: Error, CustomStringConvertible {
    public var description: String
    static func invalid(_ message: String) -> PolicyError { PolicyError(description: message) }
}

/// Evaluating a saved policy (what `satr eval` calls and what a training run's scheduled
/// evaluations share): episodes of one fixed network, no search strategy involved.
public enum PolicyEvaluation {
    /// Runs `episodes` episodes of `policy` on `threads` threads. Episode e uses the seeds of
    /// `evaluationEpisodeSeeds(runSeed: seed, generation: generation, episode: e)`; the result
    /// does not depend on `threads`.
    public static func evaluate(
        policy: PolicyFile, episodes: Int, seed: UInt64, generation: Int = 0, threads: Int,
        options: EnvironmentOptions = EnvironmentOptions()
    ) throws -> EvaluationSummary {
        precondition(episodes >= 1 && threads >= 1)
        let (spec, options) = try policy.evaluationSetting(options: options)
        switch policy.network {
        case .bitset:
            return try evaluate(
                BitsetRolloutNetwork.self, shape: try policy.networkShape(), genome: try policy.connectivityWords(),
                normalization: policy.normalization, spec: spec, episodes: episodes, seed: seed, generation: generation,
                threads: threads, options: options)
        case .dense:
            let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: policy.neurons)
            return try evaluate(
                DenseRolloutNetwork.self, shape: shape, genome: try policy.denseWeights(),
                normalization: policy.normalization, spec: spec, episodes: episodes, seed: seed, generation: generation,
                threads: threads, options: options)
        }
    }

    /// `episodes` episodes of the network of `shape` with `genome` (`RolloutSource.fixed`).
    static func evaluate<N: SpikingPolicyNetwork>(
        _ network: SpikingRolloutNetwork<N>.Type, shape: N.Shape, genome: [N.GenomeElement], normalization: FrozenNormalization,
        spec: TaskSpec, episodes: Int, seed: UInt64, generation: Int, threads: Int, options: EnvironmentOptions
    ) throws -> EvaluationSummary {
        let evaluator = try ThreadedPopulationEvaluator(threads: min(threads, episodes)) {
            try PolicyWorker(task: spec, options: options, network: SpikingRolloutNetwork<N>(shape: shape),
                             genomeCount: N.genomeCount(of: shape))
        }
        let outcomes = try evaluator.evaluate(GenerationRequest(
            generation: generation, members: Array(0..<episodes), population: .fixed(genome: genome, seed: seed),
            normalization: normalization))
        return EvaluationSummary(generation: generation, returns: outcomes.map(\.fitness), lengths: outcomes.map(\.steps))
    }
}

/// Building a policy file from a run directory, a checkpoint or a policy file (`satr export`).
public enum PolicyExport {
    public static func policy(from path: String) throws -> PolicyFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PolicyError.invalid("\(path) does not exist")
        }
        let url = URL(fileURLWithPath: path)
        let checkpointURL = isDirectory.boolValue ? url.appendingPathComponent(Checkpoint.fileName) : url
        if !isDirectory.boolValue {
            let head = (try? FileHandle(forReadingFrom: url).read(upToCount: 8)) ?? Data()
            if head != Data("SATRCKPT".utf8) { return try PolicyFile.load(path: path) }
        }
        return try policy(from: try Checkpoint.read(from: checkpointURL))
    }

    /// The most likely network of a checkpoint's distribution, with its normalizer.
    public static func policy(from checkpoint: Checkpoint) throws -> PolicyFile {
        let spec = try TaskRegistry.spec(id: checkpoint.task, options: checkpoint.config.envOptions.observationOptions)
        let provenance = PolicyFile.Provenance(
            algo: checkpoint.config.algo.rawValue, seed: checkpoint.config.seed, generation: checkpoint.generation,
            envSteps: checkpoint.envSteps,
            evalReturnMean: checkpoint.lastEvaluation.flatMap { $0.generation == checkpoint.generation ? $0.mean : nil })
        let normalization = checkpoint.normalizer.frozen()
        var policy: PolicyFile
        func bitset(_ distribution: BernoulliDistribution) throws -> PolicyFile {
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: checkpoint.neurons)
            let searched = distribution.mostLikely
            let words = BitsetNetwork.genomeExpansion(config: checkpoint.config, shape: shape)?.expand(searched) ?? searched
            return PolicyFile(spec: spec, shape: shape, words: words, normalization: normalization, training: provenance)
        }
        switch checkpoint.optimizer {
        case .satr(let state):
            policy = try bitset(state.distribution)
        case .ec(let state):
            policy = try bitset(state.distribution)
        case .es(let state):
            let shape = try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: checkpoint.neurons)
            policy = PolicyFile(spec: spec, shape: shape, weights: state.mean.map { Float($0) }, normalization: normalization, training: provenance)
        }
        policy.record(environmentOptions: checkpoint.config.evaluationEnvOptions)
        return policy
    }
}

import Environments
import Randomness
import Search
import Spiking

/// A policy network the rollout loop can drive: load a genome, start an episode, map a normalized
/// observation to y (before the clip).
public protocol RolloutNetwork {
    associatedtype GenomeElement: BitwiseCopyable & Sendable
    /// Binds one member's genome (packed connection bits, or real weights).
    mutating func load(genome: UnsafeBufferPointer<GenomeElement>)
    /// Starts an episode with `v_n` drawn from `CounterStream(seed, generation, member,
    /// .networkInitialState)` (docs/NETWORK.md, "State and its initialization"), all other state zero.
    mutating func startEpisode(seed: UInt64, generation: Int, member: Int)
    /// One environment step: y (A values, before the clip) for the normalized observation (D values).
    mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>)
}

/// A spiking network the training rollouts run: the bitset network (SATR, EC; its genome is the
/// packed connection bits) or DenseSNN (Gaussian ES; real weights).
public protocol SpikingPolicyNetwork {
    /// The network's shape type.
    associatedtype Shape: Sendable
    /// The element type of its genome.
    associatedtype GenomeElement: BitwiseCopyable & Sendable & Numeric
    /// An unloaded network of `shape`.
    init(shape: Shape)
    /// N, the neurons.
    var neuronCount: Int { get }
    /// Binds a genome (`genomeCount(of:)` elements).
    mutating func load(genome: UnsafeBufferPointer<GenomeElement>)
    /// Sets the membrane potentials to `initialMembrane` and all other state to zero.
    mutating func reset(initialMembrane: UnsafeBufferPointer<Float>)
    /// One environment step: y (A values, before the clip) for the normalized observation.
    mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>)
    /// The genome elements of one network of `shape`.
    static func genomeCount(of shape: Shape) -> Int
    /// The shape of this network for `spec`'s sizes and `neurons` neurons.
    static func shape(for spec: TaskSpec, neurons: Int) throws -> Shape
    /// How the genome the run's search samples becomes this network's genome (nil: they are the
    /// same). A frozen recurrent layer for the bitset network; always nil for DenseSNN.
    static func genomeExpansion(config: TrainingConfig, shape: Shape) -> GenomeExpansion<GenomeElement>?
    /// The policy file of the network of `shape` with `genome`.
    static func policyFile(
        spec: TaskSpec, shape: Shape, genome: [GenomeElement], normalization: FrozenNormalization,
        training: PolicyFile.Provenance
    ) -> PolicyFile
}

extension BitsetNetwork: SpikingPolicyNetwork {
    public var neuronCount: Int { shape.neurons }
    public mutating func load(genome: UnsafeBufferPointer<UInt64>) { load(connectivity: genome) }
    public static func genomeCount(of shape: NetworkShape) -> Int { shape.wordsPerMember }
    public static func genomeExpansion(config: TrainingConfig, shape: NetworkShape) -> GenomeExpansion<UInt64>? {
        config.frozenRecurrent ? .frozenRecurrent(shape: shape, seed: config.seed) : nil
    }
    public static func shape(for spec: TaskSpec, neurons: Int) throws -> NetworkShape {
        try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: neurons)
    }
    public static func policyFile(
        spec: TaskSpec, shape: NetworkShape, genome: [UInt64], normalization: FrozenNormalization, training: PolicyFile.Provenance
    ) -> PolicyFile {
        PolicyFile(spec: spec, shape: shape, words: genome, normalization: normalization, training: training)
    }
}

extension DenseSNN: SpikingPolicyNetwork {
    public var neuronCount: Int { shape.neurons }
    public mutating func load(genome: UnsafeBufferPointer<Float>) { load(weights: genome) }
    public static func genomeCount(of shape: DenseSNNShape) -> Int { shape.parameterCount }
    public static func genomeExpansion(config: TrainingConfig, shape: DenseSNNShape) -> GenomeExpansion<Float>? { nil }
    public static func shape(for spec: TaskSpec, neurons: Int) throws -> DenseSNNShape {
        try DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: neurons)
    }
    public static func policyFile(
        spec: TaskSpec, shape: DenseSNNShape, genome: [Float], normalization: FrozenNormalization, training: PolicyFile.Provenance
    ) -> PolicyFile {
        PolicyFile(spec: spec, shape: shape, weights: genome, normalization: normalization, training: training)
    }
}

/// A spiking network as the rollout loop drives it: episodes start from the initial membrane of
/// docs/NETWORK.md ("State and its initialization"). With an `expansion`, `load(genome:)` takes
/// the searched genome and loads its expansion (`GenomeExpansion`).
public struct SpikingRolloutNetwork<Network: SpikingPolicyNetwork>: RolloutNetwork {
    public var network: Network
    private var membrane: [Float]
    private let expansion: GenomeExpansion<Network.GenomeElement>?
    /// The expanded genome: the template once, then each member's searched pieces (empty without
    /// an expansion).
    private var full: [Network.GenomeElement]

    public init(shape: Network.Shape, expansion: GenomeExpansion<Network.GenomeElement>? = nil) {
        network = Network(shape: shape)
        membrane = [Float](repeating: 0, count: network.neuronCount)
        self.expansion = expansion
        full = expansion?.template ?? []
    }

    public mutating func load(genome: UnsafeBufferPointer<Network.GenomeElement>) {
        guard let expansion else { return network.load(genome: genome) }
        full.withUnsafeMutableBufferPointer { expansion.place(genome, into: $0) }
        full.withUnsafeBufferPointer { network.load(genome: $0) }
    }

    public mutating func startEpisode(seed: UInt64, generation: Int, member: Int) {
        membrane.withUnsafeMutableBufferPointer {
            NetworkConstants.writeInitialMembrane(into: $0, seed: seed, generation: generation, member: member)
        }
        membrane.withUnsafeBufferPointer { network.reset(initialMembrane: $0) }
    }

    public mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        network.step(observation: observation, output: output)
    }
}

/// The bitset network of one member (SATR and EC).
public typealias BitsetRolloutNetwork = SpikingRolloutNetwork<BitsetNetwork>
/// The DenseSNN baseline network (Gaussian ES).
public typealias DenseRolloutNetwork = SpikingRolloutNetwork<DenseSNN>

/// What a worker rolls out: members of a generation drawn from a search strategy's sample, or
/// episodes of one fixed (deterministic) policy.
public enum RolloutSource<Element: BitwiseCopyable & Sendable>: Sendable {
    /// Member k of generation t: genome `sample.draw(member: k)` (which keeps it for the
    /// statistics when the sample keeps genomes); network state from
    /// `(seed, t, k, .networkInitialState)`; reset noise seed `derivedSeed((seed, t, k, .resetNoise))`.
    case population(PopulationSample<Element>, seed: UInt64)
    /// Evaluation episode e of a fixed genome ("member" = episode e, "generation" = g): the
    /// episode's own seed is `s_e = derivedSeed((seed, g, e, .evaluation))`; the network state
    /// comes from `(s_e, 0, 0, .networkInitialState)` and the reset noise seed is
    /// `derivedSeed((s_e, 0, 0, .resetNoise))`.
    case fixed(genome: [Element], seed: UInt64)
}

/// The evaluation seeds of a fixed policy's episode `episode` at generation `generation`
/// (see `RolloutSource.fixed`): (network-state seed key, reset seed).
public func evaluationEpisodeSeeds(runSeed: UInt64, generation: Int, episode: Int) -> (networkSeed: UInt64, resetSeed: UInt64) {
    let episodeSeed = derivedSeed(StreamKey(seed: runSeed, generation: generation, member: episode, purpose: .evaluation))
    return (episodeSeed, derivedSeed(StreamKey(seed: episodeSeed, generation: 0, member: 0, purpose: .resetNoise)))
}

/// Maps the network output to the environment's action: `a = clip(y, -1, 1)`, then
/// `center + halfWidth * a` with `center = (high + low) / 2`, `halfWidth = (high - low) / 2`
/// (for a symmetric box [-b, b] this is exactly `b * a`; docs/NETWORK.md, "One environment step").
public struct ActionMap: Sendable, Equatable {
    public var center: [Double]
    public var halfWidth: [Double]

    public init(low: [Double], high: [Double]) {
        precondition(low.count == high.count)
        center = zip(low, high).map { ($0 + $1) / 2 }
        halfWidth = zip(low, high).map { ($1 - $0) / 2 }
    }

    @inlinable
    public func apply(_ y: UnsafeBufferPointer<Float>, into action: UnsafeMutableBufferPointer<Double>) {
        for a in 0..<action.count {
            let v = Double(y[a])
            let clipped = v.isNaN ? 0 : Swift.min(Swift.max(v, -1), 1)
            action[a] = center[a] == 0 ? halfWidth[a] * clipped : center[a] + halfWidth[a] * clipped
        }
    }
}

/// One worker: an environment instance, a network and the episode buffers.
///
/// Fitness is the undiscounted return of one episode (reset, then step until terminated or
/// truncated at the task's limit). If the simulation diverges (MuJoCo reports an unstable state,
/// or an observation or reward is not finite), the episode ends there and the member's fitness is
/// `-infinity`, so it ranks lowest (docs/SEARCH.md, "Fitness shaping"); the run goes on.
public struct PolicyWorker<Network: RolloutNetwork>: MemberWorker where Network.GenomeElement: Numeric {
    public typealias Population = RolloutSource<Network.GenomeElement>

    var environment: any Environment
    /// The environment of the deterministic evaluations (`RolloutSource.fixed`) when its options
    /// differ from the training rollouts' (nil: `environment` serves both).
    var evaluationEnvironment: (any Environment)?
    var network: Network
    let actionMap: ActionMap
    var genome: [Network.GenomeElement]
    let buffers: EpisodeBuffers

    public init(
        task: TaskSpec, options: EnvironmentOptions, evaluationOptions: EnvironmentOptions? = nil,
        network: Network, genomeCount: Int
    ) throws {
        environment = try TaskRegistry.make(id: task.id, options: options)
        if let evaluationOptions, try evaluationOptions.resolved(over: task) != options.resolved(over: task) {
            evaluationEnvironment = try TaskRegistry.make(id: task.id, options: evaluationOptions)
        }
        self.network = network
        actionMap = ActionMap(low: task.actionLow, high: task.actionHigh)
        genome = [Network.GenomeElement](repeating: 0, count: genomeCount)
        buffers = EpisodeBuffers(observationSize: task.observationSize, actionSize: task.actionSize)
    }

    public mutating func evaluate(
        member: Int, generation: Int, population: RolloutSource<Network.GenomeElement>, normalization: FrozenNormalization
    ) throws -> MemberOutcome {
        switch population {
        case .population(let sample, let seed):
            precondition(sample.generation == generation, "the sample is of generation \(sample.generation), not \(generation)")
            genome.withUnsafeMutableBufferPointer { sample.draw(member: member, into: $0) }
            genome.withUnsafeBufferPointer { network.load(genome: $0) }
            network.startEpisode(seed: seed, generation: generation, member: member)
            let resetSeed = derivedSeed(StreamKey(seed: seed, generation: generation, member: member, purpose: .resetNoise))
            var training = environment  // a reference: the environments are classes
            return try runEpisode(in: &training, resetSeed: resetSeed, normalization: normalization)
        case .fixed(let fixedGenome, let seed):
            fixedGenome.withUnsafeBufferPointer { network.load(genome: $0) }
            let seeds = evaluationEpisodeSeeds(runSeed: seed, generation: generation, episode: member)
            network.startEpisode(seed: seeds.networkSeed, generation: 0, member: 0)
            var evaluation = evaluationEnvironment ?? environment
            return try runEpisode(in: &evaluation, resetSeed: seeds.resetSeed, normalization: normalization)
        }
    }

    /// One episode with the loaded, reset network.
    mutating func runEpisode(
        in environment: inout any Environment, resetSeed: UInt64, normalization: FrozenNormalization
    ) throws -> MemberOutcome {
        let obs = buffers.observation, x = buffers.normalized, y = buffers.output, act = buffers.action
        var stats = ObservationStatistics(size: obs.count)
        var total = 0.0
        var steps = 0
        var diverged = false
        do {
            try environment.reset(seed: resetSeed, observation: obs)
        } catch is MuJoCoError {
            return MemberOutcome(fitness: -.infinity, steps: 0, episodes: 1, diverged: true, observations: stats)
        }
        while true {
            let o = UnsafeBufferPointer(obs)
            if !allFinite(o) { diverged = true; break }
            stats.add(o)
            normalization.apply(o, into: x)
            network.step(observation: UnsafeBufferPointer(x), output: y)
            actionMap.apply(UnsafeBufferPointer(y), into: act)
            let result: (reward: Double, terminated: Bool, truncated: Bool)
            do {
                result = try environment.step(action: UnsafeBufferPointer(act), observation: obs)
            } catch is MuJoCoError {
                diverged = true
                break
            }
            steps += 1
            if !result.reward.isFinite { diverged = true; break }
            total += result.reward
            if result.terminated || result.truncated {
                if !allFinite(UnsafeBufferPointer(obs)) { diverged = true }
                break
            }
        }
        return MemberOutcome(fitness: diverged ? -.infinity : total, steps: steps, episodes: 1, diverged: diverged, observations: stats)
    }
}

/// The per-worker episode buffers (observation, normalized observation, network output, action),
/// allocated once.
final class EpisodeBuffers {
    let observation: UnsafeMutableBufferPointer<Double>
    let normalized: UnsafeMutableBufferPointer<Float>
    let output: UnsafeMutableBufferPointer<Float>
    let action: UnsafeMutableBufferPointer<Double>

    init(observationSize: Int, actionSize: Int) {
        observation = .allocate(capacity: observationSize)
        observation.initialize(repeating: 0)
        normalized = .allocate(capacity: observationSize)
        normalized.initialize(repeating: 0)
        output = .allocate(capacity: actionSize)
        output.initialize(repeating: 0)
        action = .allocate(capacity: actionSize)
        action.initialize(repeating: 0)
    }

    deinit {
        observation.deallocate()
        normalized.deallocate()
        output.deallocate()
        action.deallocate()
    }
}

@inlinable
func allFinite(_ values: UnsafeBufferPointer<Double>) -> Bool {
    for v in values where !v.isFinite { return false }
    return true
}

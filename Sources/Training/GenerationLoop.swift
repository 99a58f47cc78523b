import Dispatch
import Environments
import Search
import Spiking

/// A search strategy a training run can drive: checkpointable, searching the genomes of one
/// spiking network kind, and startable from a config.
public protocol TrainableStrategy: CheckpointableStrategy where GenomeElement == Network.GenomeElement {
    /// The network whose genomes the strategy searches.
    associatedtype Network: SpikingPolicyNetwork
    /// A fresh strategy for `config` (its algorithm's hyperparameters, population and seed)
    /// searching networks of `shape`; nil when `config` names another algorithm.
    init?(config: TrainingConfig, shape: Network.Shape)
}

extension SATRStrategy: TrainableStrategy {
    public typealias Network = BitsetNetwork
    public init?(config: TrainingConfig, shape: NetworkShape) {
        guard case .satr(let h) = config.algorithm else { return nil }
        // The trust-region blocks of `blockwise`: K_in, K_h and K_out (NetworkShape's layout),
        // without K_h when it is frozen.
        let blocks = shape.searchedBlocks(frozenRecurrent: config.frozenRecurrent)
        self.init(dimension: blocks.reduce(0, +), populationSize: config.population, seed: config.seed,
                  hyperparameters: h, blocks: blocks)
    }
}

extension ECStrategy: TrainableStrategy {
    public typealias Network = BitsetNetwork
    public init?(config: TrainingConfig, shape: NetworkShape) {
        guard case .ec(let h) = config.algorithm else { return nil }
        self.init(dimension: shape.searchedBitCount(frozenRecurrent: config.frozenRecurrent),
                  populationSize: config.population, seed: config.seed, hyperparameters: h)
    }
}

extension GaussianESStrategy: TrainableStrategy {
    public typealias Network = DenseSNN
    public init?(config: TrainingConfig, shape: DenseSNNShape) {
        guard case .es(let h) = config.algorithm else { return nil }
        self.init(parameterCount: shape.parameterCount, populationSize: config.population, seed: config.seed, hyperparameters: h)
    }
}

/// What one generation step produced, before any bookkeeping (evaluation, files, clock).
public struct GenerationStep: Sendable {
    /// Generations completed (the step's generation + 1).
    public var generation: Int
    /// Environment steps and episodes of all members so far.
    public var envSteps: Int
    public var episodes: Int
    public var fitness: FitnessSummary
    public var diagnostics: Diagnostics
    /// Wall seconds of the rollouts (nil when the outcomes were handed in) and of the update.
    public var rolloutSeconds: Double?
    public var updateSeconds: Double
    /// The generation's members, M(E) (nil: no population schedule, the config's population).
    public var population: Int? = nil
}

/// The generation loop of a training run, apart from its bookkeeping:
///
///     ask (PopulationSample) -> request -> rollouts (threads; ranks with a distributor)
///         -> outcomes -> statistics (sample + fitnesses) -> update strategy and normalizer
///         -> GenerationStep
///
/// It holds the search state (strategy, shared observation normalizer, step and episode
/// counters) and the workers, and writes nothing. The evaluation schedule, the files and the
/// clock are `TrainingRun`'s.
///
/// ## Seams for a distributed backend
///
/// `request(members:)` + `PopulationEvaluating.evaluate(_:)` evaluate any subset of members on
/// any thread or process (a member is a pure function of (seed, t, k) and the frozen state);
/// `finishGeneration(outcomes:statistics:)` takes **all** outcomes in member order and is
/// deterministic, so processes that run it stay in lockstep. With a `GenerationDistributor`,
/// `runGeneration` does both across the processes, and the statistics are reduced from each
/// process's share (`MergeableStatistics`).
public final class GenerationLoop<Strategy: TrainableStrategy> {
    public typealias Network = SpikingRolloutNetwork<Strategy.Network>
    public typealias Worker = PolicyWorker<Network>
    public typealias Request = GenerationRequest<RolloutSource<Strategy.GenomeElement>>

    public private(set) var strategy: Strategy
    public private(set) var normalizer: ObservationNormalizer
    /// Environment steps and episodes of all members so far (evaluation episodes excluded).
    public private(set) var envSteps: Int
    public private(set) var episodes: Int
    /// The run seed (member and evaluation episode seeds derive from it).
    public let seed: UInt64
    /// Evaluates members on this process's threads.
    public let evaluator: ThreadedPopulationEvaluator<Worker>
    /// The threads of the statistics (the evaluator's).
    public let executor: Executor
    /// When set (MPI runs), shares every evaluation and the statistics among the processes.
    public let distributor: (any GenerationDistributor)?
    /// Where the samples keep the drawn genomes, so that the statistics need not draw them again.
    /// Kept only while it stays modest (512 MiB: e.g. 16k Humanoid members); beyond that the
    /// statistics draw the members again, which gives the same result.
    let store: MemberGenomes<Strategy.GenomeElement>?
    /// The population schedule: the strategy's M is set from it before every generation.
    let populationSchedule: PopulationSchedule?
    /// The current generation's sample, once requested.
    private var sample: PopulationSample<Strategy.GenomeElement>?
    /// The last rollouts' wall time and end (the update is timed from there).
    private var lastRollouts: (seconds: Double, end: UInt64)?

    init(strategy: Strategy, normalizer: ObservationNormalizer, envSteps: Int, episodes: Int, seed: UInt64,
         threads: Int, makeWorker: () throws -> Worker, distributor: (any GenerationDistributor)?,
         populationSchedule: PopulationSchedule?) throws {
        self.strategy = strategy
        self.populationSchedule = populationSchedule
        self.normalizer = normalizer
        self.envSteps = envSteps
        self.episodes = episodes
        self.seed = seed
        self.distributor = distributor
        let slots = populationSchedule?.largest ?? strategy.populationSize
        let storeBytes = slots * strategy.genomeCount * MemoryLayout<Strategy.GenomeElement>.stride
        store = storeBytes <= 512 << 20 ? MemberGenomes(members: slots, genomeCount: strategy.genomeCount) : nil
        evaluator = try ThreadedPopulationEvaluator(threads: threads, makeWorker: makeWorker)
        executor = Executor(threads: evaluator.threadCount)
        applyPopulationSchedule()
    }

    /// Sets the strategy's M to M(envSteps) of the population schedule (nothing without one).
    /// Called before the first generation and after each, so that every request, sample and
    /// statistics of a generation sees the same M, on every process and after a resume.
    private func applyPopulationSchedule() {
        if let populationSchedule { strategy.setPopulationSize(populationSchedule.population(afterEnvSteps: envSteps)) }
    }

    /// Generations completed.
    public var generation: Int { strategy.generation }

    /// "Evaluate members `members` of the current generation" (the generation's sample is asked
    /// for once and shared by every request of the generation).
    public func request(members: [Int]) -> Request {
        let sample = currentSample()
        return GenerationRequest(generation: strategy.generation, members: members,
                                 population: .population(sample, seed: seed), normalization: normalizer.frozen())
    }

    private func currentSample() -> PopulationSample<Strategy.GenomeElement> {
        if let sample, sample.generation == strategy.generation { return sample }
        let fresh = strategy.ask(keepingIn: store)
        sample = fresh
        return fresh
    }

    /// Rolls out the whole generation (across the processes with a distributor) and finishes it.
    public func runGeneration() throws -> GenerationStep {
        let request = request(members: Array(0..<strategy.populationSize))
        let start = DispatchTime.now().uptimeNanoseconds
        let outcomes = try distributor?.evaluateAll(request, local: evaluator, purpose: .population)
            ?? evaluator.evaluate(request)
        let end = DispatchTime.now().uptimeNanoseconds
        lastRollouts = (Double(end - start) / 1e9, end)
        let statistics = try distributor?.statistics(
            of: strategy, sample: currentSample(), fitnesses: outcomes.map(\.fitness), executor: executor)
        return try finishGeneration(outcomes: outcomes, statistics: statistics)
    }

    /// Combines all members' outcomes (member order): statistics (unless a distributor reduced
    /// them already), update, normalizer (merged in member order), counters.
    public func finishGeneration(outcomes: [MemberOutcome], statistics: Strategy.Statistics? = nil) throws -> GenerationStep {
        precondition(outcomes.count == strategy.populationSize, "finishGeneration needs one outcome per member, in member order")
        let fitnesses = outcomes.map(\.fitness)
        let rollouts = lastRollouts
        lastRollouts = nil
        let updateStart = rollouts?.end ?? DispatchTime.now().uptimeNanoseconds
        let sample = currentSample()
        let diagnostics = strategy.update(
            with: statistics ?? strategy.statistics(of: sample, fitnesses: fitnesses, executor: executor))
        self.sample = nil
        normalizer.update(withMembers: outcomes.map(\.observations))
        let updateSeconds = Double(DispatchTime.now().uptimeNanoseconds - updateStart) / 1e9
        envSteps += outcomes.reduce(0) { $0 + $1.steps }
        episodes += outcomes.reduce(0) { $0 + $1.episodes }
        applyPopulationSchedule()
        return GenerationStep(
            generation: strategy.generation, envSteps: envSteps, episodes: episodes, fitness: FitnessSummary(fitnesses),
            diagnostics: diagnostics, rolloutSeconds: rollouts?.seconds, updateSeconds: updateSeconds,
            population: populationSchedule == nil ? nil : outcomes.count)
    }

    /// Evaluates the deterministic network (bits with rho > 0.5, or the ES mean) over `episodes`
    /// episodes with their own seeds (`RolloutSource.fixed`), with the current normalizer (a
    /// collective with a distributor): episodes `firstEpisode ..< firstEpisode + episodes` of
    /// generation `g`'s evaluation seeds, so a later call with `firstEpisode` = the earlier call's
    /// `episodes` continues it with new episodes.
    public func evaluateDeterministic(generation g: Int, episodes: Int, firstEpisode: Int = 0) throws -> EvaluationSummary {
        let request = Request(generation: g, members: Array(firstEpisode..<(firstEpisode + episodes)),
                              population: .fixed(genome: strategy.mostLikely(), seed: seed), normalization: normalizer.frozen())
        let outcomes = try distributor?.evaluateAll(request, local: evaluator, purpose: .deterministic)
            ?? evaluator.evaluate(request)
        return EvaluationSummary(generation: g, returns: outcomes.map(\.fitness), lengths: outcomes.map(\.steps))
    }
}

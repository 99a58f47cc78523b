import Environments
import Foundation
import Randomness
import Search
import Spiking
import Training

/// `satr bench train`: the training loop's environment steps per second against raw environment
/// stepping on the same number of threads, measured in one run.
///
/// A real training run (`Trainer.train`: population M, G generations, T threads, metrics written
/// to a temporary directory, a checkpoint at the last generation, no evaluation episodes) is
/// interleaved with raw stepping: after each generation, with the training paused, T workers of
/// the training's own evaluator (`ThreadedPopulationEvaluator`), each with its own environment,
/// step a fixed pseudo-random action sequence (uniform in the action box; resets included) for as
/// many steps as that generation took, then the same again with a policy network stepped too (one
/// random member, rho = 0.5), then (bitset algorithms) the physics of policy-driven episodes alone:
/// each worker replays, without the network, the actions a sampled spiking policy (rho = 0.5, one
/// per worker) produced in closed loop before the measurement, resetting where those episodes
/// ended: physics driven by a spiking policy rather than by uniform noise (whether that costs
/// more per step is what `policy_physics_ratio` says; the training's own episodes are longer, as
/// `train_episode_steps` shows, so neither yardstick is the training's physics exactly).
/// ratio = training env steps/s / raw env steps/s; ratio_vs_policy_physics = training env steps/s
/// / replayed env steps/s.
public enum TrainBenchmark {
    public struct Settings: Sendable {
        /// Task id (`TaskRegistry`).
        public var environmentID: String
        public var algorithm: Algorithm
        public var population: Int
        public var generations: Int
        /// Worker threads (resolved: at least 1).
        public var threads: Int
        public var neurons: Int
        public var seed: UInt64
        /// Fresh training runs, each measured on its own.
        public var repeats: Int

        public init(
            environmentID: String, algorithm: Algorithm = .satr, population: Int = 64, generations: Int = 3, threads: Int = 2,
            neurons: Int = 256, seed: UInt64 = 0, repeats: Int = 1
        ) {
            self.environmentID = environmentID
            self.algorithm = algorithm
            self.population = population
            self.generations = generations
            self.threads = threads
            self.neurons = neurons
            self.seed = seed
            self.repeats = repeats
        }
    }

    /// The result (`satr bench train --json`).
    public struct Result: Codable, Sendable, Equatable {
        public var env: String
        public var algo: String
        public var population: Int
        public var generations: Int
        public var neurons: Int
        public var threads: Int
        public var trainEnvSteps: Int
        public var trainSeconds: Double
        public var trainStepsPerSecond: Double
        public var rawSeconds: Double
        public var rawStepsPerSecond: Double
        public var ratio: Double
        public var ratioPerGeneration: [Double]
        public var repeats: Int
        public var ratioPerRepeat: [Double]
        public var ratioMedian: Double
        /// Raw stepping with the policy network stepped too (absent for ES, whose network is dense).
        public var rawWithNetworkStepsPerSecond: Double?
        public var rawWithNetworkRatio: Double?
        public var ratioVsRawWithNetwork: Double?
        /// Replayed policy-driven physics (absent for ES): its env steps/s, that over the uniform
        /// raw rate, and the training's rate over it.
        public var policyPhysicsStepsPerSecond: Double?
        public var policyPhysicsRatio: Double?
        public var ratioVsPolicyPhysics: Double?
        /// ratio_vs_policy_physics of each repeat, and their median.
        public var ratioVsPolicyPhysicsPerRepeat: [Double]?
        public var ratioVsPolicyPhysicsMedian: Double?
        /// Mean steps per episode: the training's, the uniform raw loop's, the replayed policies'
        /// (how alike the workloads are: every reset costs physics time too).
        public var trainEpisodeSteps: Double
        public var rawEpisodeSteps: Double
        public var policyPhysicsEpisodeSteps: Double?

        enum CodingKeys: String, CodingKey {
            case env, algo, population, generations, neurons, threads, ratio, repeats
            case trainEnvSteps = "train_env_steps", trainSeconds = "train_seconds", trainStepsPerSecond = "train_steps_per_s"
            case rawSeconds = "raw_seconds", rawStepsPerSecond = "raw_steps_per_s"
            case ratioPerGeneration = "ratio_per_generation", ratioPerRepeat = "ratio_per_repeat", ratioMedian = "ratio_median"
            case rawWithNetworkStepsPerSecond = "raw_with_network_steps_per_s", rawWithNetworkRatio = "raw_with_network_ratio"
            case ratioVsRawWithNetwork = "ratio_vs_raw_with_network"
            case policyPhysicsStepsPerSecond = "policy_physics_steps_per_s", policyPhysicsRatio = "policy_physics_ratio"
            case ratioVsPolicyPhysics = "ratio_vs_policy_physics"
            case ratioVsPolicyPhysicsPerRepeat = "ratio_vs_policy_physics_per_repeat"
            case ratioVsPolicyPhysicsMedian = "ratio_vs_policy_physics_median"
            case trainEpisodeSteps = "train_episode_steps", rawEpisodeSteps = "raw_episode_steps"
            case policyPhysicsEpisodeSteps = "policy_physics_episode_steps"
        }
    }

    /// One generation's measurement: its env steps, the training's wall seconds for them, and
    /// the raw loop's (the raw loop with the network's, the replayed policy physics') seconds for
    /// as many steps.
    public struct Row: Sendable, Equatable {
        public var steps: Int
        public var train: Double
        public var raw: Double
        public var rawWithNetwork: Double?
        public var policyPhysics: Double?
    }

    public static func run(_ settings: Settings) throws -> Result {
        guard settings.repeats >= 1, settings.population >= 2, settings.generations >= 1, settings.threads >= 1 else {
            throw BenchmarkError("bench train needs repeats >= 1, population >= 2, generations >= 1 and threads >= 1")
        }
        let spec = try TaskRegistry.spec(id: settings.environmentID)
        var config = TrainingConfig()
        config.env = spec.id
        config.algorithm = settings.algorithm.defaultSettings
        config.population = settings.population
        config.generations = settings.generations
        config.neurons = settings.neurons
        config.threads = settings.threads
        config.seed = settings.seed
        config.evalEvery = 0
        config.evalEpisodes = 1
        config.checkpointEvery = max(1, settings.generations)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("satr-bench-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }

        let raw = try RawStepping(spec: spec, threads: settings.threads, network: nil)
        let shape = settings.algorithm == .es ? nil
            : try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: settings.neurons)
        let rawWithNetwork = try shape.map { try RawStepping(spec: spec, threads: settings.threads, network: $0) }
        let policyPhysics = try shape.map { try RawStepping(spec: spec, threads: settings.threads, network: $0, replayingPolicy: true) }
        // Warm-up: touch the code paths and the memory.
        _ = try raw.run(steps: 2000)
        _ = try rawWithNetwork?.run(steps: 2000)
        _ = try policyPhysics?.run(steps: 2000)

        var rows: [Row] = []
        var repeatRatios: [Double] = []
        var repeatPolicyRatios: [Double] = []
        for pass in 0..<settings.repeats {
            let mine = try interleaved(
                config: config, directory: directory.appendingPathComponent("pass-\(pass)"), raw: raw, rawWithNetwork: rawWithNetwork,
                policyPhysics: policyPhysics)
            rows += mine
            let train = mine.reduce(0) { $0 + $1.train }
            repeatRatios.append(mine.reduce(0) { $0 + $1.raw } / train)
            if policyPhysics != nil { repeatPolicyRatios.append(mine.reduce(0) { $0 + ($1.policyPhysics ?? .nan) } / train) }
        }
        func medianOf(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let median = medianOf(repeatRatios)

        let steps = rows.reduce(0) { $0 + $1.steps }
        let trainSeconds = rows.reduce(0) { $0 + $1.train }
        let rawSeconds = rows.reduce(0) { $0 + $1.raw }
        let trainRate = Double(steps) / trainSeconds
        let rawRate = Double(steps) / rawSeconds
        var result = Result(
            env: spec.id, algo: settings.algorithm.rawValue, population: settings.population, generations: settings.generations,
            neurons: settings.neurons, threads: settings.threads, trainEnvSteps: steps, trainSeconds: trainSeconds,
            trainStepsPerSecond: trainRate, rawSeconds: rawSeconds, rawStepsPerSecond: rawRate, ratio: trainRate / rawRate,
            ratioPerGeneration: rows.map { $0.raw / $0.train }, repeats: settings.repeats, ratioPerRepeat: repeatRatios,
            ratioMedian: median, trainEpisodeSteps: Double(steps) / Double(settings.population * rows.count),  // one episode per member
            rawEpisodeSteps: raw.meanEpisodeSteps, policyPhysicsEpisodeSteps: policyPhysics?.meanEpisodeSteps)
        /// steps / (the yardstick's seconds over all generations); every generation must have one.
        func rate(of yardstick: KeyPath<Row, Double?>, _ name: String) throws -> Double {
            let seconds = rows.compactMap { $0[keyPath: yardstick] }
            guard seconds.count == rows.count else { throw BenchmarkError("bench train: a generation has no \(name) measurement") }
            return Double(steps) / seconds.reduce(0, +)
        }
        if rawWithNetwork != nil {
            let networkRate = try rate(of: \.rawWithNetwork, "raw-with-network")
            result.rawWithNetworkStepsPerSecond = networkRate
            result.rawWithNetworkRatio = networkRate / rawRate
            result.ratioVsRawWithNetwork = trainRate / networkRate
        }
        if policyPhysics != nil {
            let replayRate = try rate(of: \.policyPhysics, "replayed-policy")
            result.policyPhysicsStepsPerSecond = replayRate
            result.policyPhysicsRatio = replayRate / rawRate
            result.ratioVsPolicyPhysics = trainRate / replayRate
            result.ratioVsPolicyPhysicsPerRepeat = repeatPolicyRatios
            result.ratioVsPolicyPhysicsMedian = medianOf(repeatPolicyRatios)
        }
        var measured: KeyValuePairs<String, Double> = [
            "train_steps_per_s": trainRate, "raw_steps_per_s": rawRate, "ratio": result.ratio, "ratio_median": median,
        ]
        try requireMeasured(measured, in: "bench train")
        for (i, r) in (result.ratioPerGeneration + repeatRatios).enumerated() {
            try requireMeasured(["ratio \(i)": r], in: "bench train")
        }
        if let n = result.rawWithNetworkStepsPerSecond, let r = result.ratioVsRawWithNetwork {
            measured = ["raw_with_network_steps_per_s": n, "ratio_vs_raw_with_network": r]
            try requireMeasured(measured, in: "bench train")
        }
        if let p = result.policyPhysicsStepsPerSecond, let r = result.ratioVsPolicyPhysics {
            try requireMeasured(["policy_physics_steps_per_s": p, "ratio_vs_policy_physics": r], in: "bench train")
        }
        return result
    }

    /// One training run with raw stepping after each generation (see the type's documentation).
    static func interleaved(
        config: TrainingConfig, directory: URL, raw: RawStepping, rawWithNetwork: RawStepping?, policyPhysics: RawStepping?
    ) throws -> [Row] {
        var rows: [Row] = []
        var failure: Error? = nil
        var lastSteps = 0
        var mark = BenchmarkClock.now()
        _ = try Trainer.train(config: config, directory: directory) { report in
            let trainSeconds = BenchmarkClock.seconds(from: mark, to: BenchmarkClock.now())
            let steps = report.envSteps - lastSteps
            lastSteps = report.envSteps
            do {
                let rawSeconds = try raw.run(steps: steps)
                let networkSeconds = try rawWithNetwork?.run(steps: steps)
                let replaySeconds = try policyPhysics?.run(steps: steps)
                rows.append(Row(steps: steps, train: trainSeconds, raw: rawSeconds, rawWithNetwork: networkSeconds, policyPhysics: replaySeconds))
            } catch {
                if failure == nil { failure = error }
            }
            mark = BenchmarkClock.now()
        }
        if let failure { throw failure }
        guard !rows.isEmpty else { throw BenchmarkError("the training run reported no generations") }
        return rows
    }
}

/// Raw environment stepping on T threads, run by the training's own evaluator
/// (`ThreadedPopulationEvaluator`, the same worker threads and work queue as the population
/// rollouts): each worker owns an environment and steps a fixed action sequence, resetting where an
/// episode ends. The sequence is pseudo-random (uniform in the action box), optionally with a
/// policy network stepped beside it (fed the raw observation, its output unused); or, with
/// `replayingPolicy`, the actions a sampled policy network produced in closed loop, recorded when
/// the worker is made and then replayed without the network. Successive `run` calls continue where
/// the last one stopped.
final class RawStepping {
    let evaluator: ThreadedPopulationEvaluator<RawSteppingWorker>
    let observationSize: Int
    /// Steps and episode ends over all `run` calls (warm-up included).
    private(set) var steps = 0, episodes = 0
    /// Mean steps per episode so far.
    var meanEpisodeSteps: Double { Double(steps) / Double(max(1, episodes)) }

    init(spec: TaskSpec, threads: Int, network: NetworkShape?, replayingPolicy: Bool = false) throws {
        guard !replayingPolicy || network != nil else { throw BenchmarkError("replaying a policy's actions needs a network shape") }
        var lane = 0
        evaluator = try ThreadedPopulationEvaluator(threads: threads) {
            defer { lane += 1 }
            return try RawSteppingWorker(spec: spec, lane: lane, network: network, replayingPolicy: replayingPolicy)
        }
        observationSize = spec.observationSize
    }

    /// Steps `steps` in total (one share per worker, rounded up) and returns the seconds, scaled to
    /// exactly `steps`.
    func run(steps: Int) throws -> Double {
        let threads = evaluator.threadCount
        let perWorker = (steps + threads - 1) / threads
        let request = GenerationRequest(
            generation: 0, members: Array(0..<threads), population: perWorker,
            normalization: .identity(size: observationSize))
        let start = BenchmarkClock.now()
        let outcomes = try evaluator.evaluate(request)
        let seconds = BenchmarkClock.seconds(from: start, to: BenchmarkClock.now())
        let stepped = outcomes.reduce(0) { $0 + $1.steps }
        self.steps += stepped
        episodes += outcomes.reduce(0) { $0 + $1.episodes }
        guard stepped == perWorker * threads else {
            throw BenchmarkError("raw stepping took \(stepped) steps, not \(perWorker * threads)")
        }
        return seconds * Double(steps) / Double(stepped)
    }
}

/// One raw-stepping worker: "member" k of a request is one share of `population` steps; which
/// worker takes it does not matter (each continues its own action sequence).
///
/// The sequence is a cycle of `actions.count / actionSize` steps. With uniform actions an episode
/// ends where the environment says so; a replayed sequence ends its episodes exactly where the
/// recording's ended (`endsEpisode`), and the environment must agree at every step (MuJoCo is
/// deterministic: the same reset seed and actions give the same trajectory), or the run fails.
struct RawSteppingWorker: MemberWorker {
    typealias Population = Int

    var environment: any Environment
    var network: BitsetNetwork?
    let actions: [Double]
    let actionSize: Int
    /// Replay only: `PolicyRecording.endsEpisode` and `.episodes`.
    let endsEpisode: [UInt8]?
    let episodesPerCycle: UInt64
    var observation: [Double]
    var x: [Float]
    var y: [Float]
    var position = 0
    var episode: UInt64 = 0

    /// Steps per cycle of the action sequence.
    static let cycle = 4096

    init(spec: TaskSpec, lane: Int, network shape: NetworkShape?, replayingPolicy: Bool = false) throws {
        var policy: BitsetNetwork? = nil
        if let shape {
            var net = BitsetNetwork(shape: shape)
            let distribution = BernoulliDistribution(dimension: shape.parameterCount)
            var words = [UInt64](repeating: 0, count: shape.wordsPerMember)
            words.withUnsafeMutableBufferPointer { distribution.sample(member: lane, generation: 0, seed: 99, into: $0) }
            net.load(connectivity: words)
            net.reset(initialMembrane: shape.initialMembrane(seed: 99, generation: 0, member: lane))
            policy = net
        }
        if replayingPolicy, let shape, let recorder = policy {
            self = try RawSteppingWorker(spec: spec, replaying: PolicyRecording(spec: spec, shape: shape, network: recorder, lane: lane))
            return
        }
        environment = try TaskRegistry.make(id: spec.id)
        network = policy
        actionSize = spec.actionSize
        observation = [Double](repeating: 0, count: spec.observationSize)
        x = [Float](repeating: 0, count: spec.observationSize)
        y = [Float](repeating: 0, count: spec.actionSize)
        var random = CounterStream(seed: 1234, generation: 0, member: lane, purpose: .auxiliary)
        var actions = [Double](repeating: 0, count: Self.cycle * spec.actionSize)
        for i in 0..<Self.cycle {
            for j in 0..<spec.actionSize { actions[i * spec.actionSize + j] = random.nextUniform(spec.actionLow[j], spec.actionHigh[j]) }
        }
        self.actions = actions
        endsEpisode = nil
        episodesPerCycle = 0
        try observation.withUnsafeMutableBufferPointer { try environment.reset(seed: episode, observation: $0) }
    }

    /// A worker that replays `recording` (physics alone).
    init(spec: TaskSpec, replaying recording: PolicyRecording) throws {
        environment = try TaskRegistry.make(id: spec.id)
        actionSize = spec.actionSize
        actions = recording.actions
        endsEpisode = recording.endsEpisode
        episodesPerCycle = recording.episodes
        observation = [Double](repeating: 0, count: spec.observationSize)
        x = []
        y = []
        try observation.withUnsafeMutableBufferPointer { try environment.reset(seed: episode, observation: $0) }
    }

    mutating func evaluate(member: Int, generation: Int, population count: Int, normalization: FrozenNormalization) throws -> MemberOutcome {
        let episodesBefore = episode
        try step(count: count)
        return MemberOutcome(
            fitness: 0, steps: count, episodes: Int(episode - episodesBefore), diverged: false,
            observations: ObservationStatistics(size: observation.count))
    }

    mutating func step(count: Int) throws {
        let a = actionSize, cycle = actions.count / a
        var environment = self.environment  // a reference: the environments are classes
        let replayEnds = endsEpisode, replayEpisodes = episodesPerCycle
        try actions.withUnsafeBufferPointer { all in
            try observation.withUnsafeMutableBufferPointer { obs in
                for _ in 0..<count {
                    let k = position % cycle
                    position += 1
                    let action = UnsafeBufferPointer(rebasing: all[(k * a)..<((k + 1) * a)])
                    if network != nil {
                        for d in 0..<x.count { x[d] = Float(obs[d]) }
                        x.withUnsafeBufferPointer { xb in
                            y.withUnsafeMutableBufferPointer { yb in network!.step(observation: xb, output: yb) }
                        }
                    }
                    let ended = try stepEndsEpisode(&environment, action: action, observation: obs)
                    if let replayEnds {
                        // Replay: reset where the recording did; the environment must agree.
                        let recorded = replayEnds[k]
                        guard (recorded == 1) == ended else {
                            throw BenchmarkError("the replayed episode diverged from its recording at step \(k) of the cycle")
                        }
                        if recorded != 0 {
                            episode += 1
                            try environment.reset(seed: episode % replayEpisodes, observation: obs)
                        }
                    } else if ended {
                        episode += 1
                        try environment.reset(seed: episode, observation: obs)
                    }
                }
            }
        }
    }
}

/// A closed-loop policy's actions and where its episodes ended (1: the environment ended it, 2: the
/// recording stopped there), over one cycle of a raw-stepping worker.
struct PolicyRecording {
    var actions: [Double]
    var endsEpisode: [UInt8]
    /// Episodes in the cycle (reset seeds 0 ..< episodes).
    var episodes: UInt64

    init(actions: [Double], endsEpisode: [UInt8], episodes: UInt64) {
        self.actions = actions
        self.endsEpisode = endsEpisode
        self.episodes = episodes
    }

    /// Records `RawSteppingWorker.cycle` steps of closed-loop episodes (reset seeds 0, 1, ...; the
    /// network restarts with each episode and sees the raw observation; a = clip(y) mapped to the
    /// action box, as in training).
    init(spec: TaskSpec, shape: NetworkShape, network: BitsetNetwork, lane: Int) throws {
        let cycle = RawSteppingWorker.cycle
        var environment = try TaskRegistry.make(id: spec.id)
        var network = network
        let actionMap = ActionMap(low: spec.actionLow, high: spec.actionHigh)
        var actions = [Double](repeating: 0, count: cycle * spec.actionSize)
        var ends = [UInt8](repeating: 0, count: cycle)
        var observation = [Double](repeating: 0, count: spec.observationSize)
        var x = [Float](repeating: 0, count: spec.observationSize)
        var y = [Float](repeating: 0, count: spec.actionSize)
        var episode: UInt64 = 0
        func startEpisode() throws {
            network.reset(initialMembrane: shape.initialMembrane(seed: 99, generation: Int(episode), member: lane))
            try observation.withUnsafeMutableBufferPointer { try environment.reset(seed: episode, observation: $0) }
        }
        try startEpisode()
        for t in 0..<cycle {
            for d in 0..<x.count { x[d] = Float(observation[d]) }
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { network.step(observation: xb, output: $0) } }
            let ended = try actions.withUnsafeMutableBufferPointer { all in
                let action = UnsafeMutableBufferPointer(rebasing: all[(t * spec.actionSize)..<((t + 1) * spec.actionSize)])
                y.withUnsafeBufferPointer { actionMap.apply($0, into: action) }
                return try observation.withUnsafeMutableBufferPointer {
                    try stepEndsEpisode(&environment, action: UnsafeBufferPointer(action), observation: $0)
                }
            }
            if ended {
                ends[t] = 1
                episode += 1
                if t + 1 < cycle { try startEpisode() }
            }
        }
        if ends[cycle - 1] == 0 {
            ends[cycle - 1] = 2
            episode += 1
        }
        self.actions = actions
        endsEpisode = ends
        episodes = episode
    }
}

/// One raw environment step: whether the episode ends there (terminated, truncated, or the
/// simulation became unstable, which the raw loops treat as a termination).
private func stepEndsEpisode(
    _ environment: inout any Environment, action: UnsafeBufferPointer<Double>, observation: UnsafeMutableBufferPointer<Double>
) throws -> Bool {
    do {
        let result = try environment.step(action: action, observation: observation)
        return result.terminated || result.truncated
    } catch is MuJoCoError {
        return true
    }
}

import Environments
import Randomness
import Search
import Spiking

/// `satr bench search`: the optimizers' own cost per generation (no environment): sampling every
/// member, shaping the fitnesses, the statistics pass (regenerating every member) and the update,
/// for EC and SATR on a bit vector of the task's size, and for Gaussian ES on the DenseSNN
/// weights; compared with the environment-only time of the population's episodes, measured in
/// the same run. `runSynthetic` runs the synthetic problems of docs/SEARCH.md.
public enum SearchBenchmark {
    public struct Settings: Sendable {
        /// The task whose sizes and environment to use (a `TaskRegistry` id).
        public var environmentID: String
        /// Recurrent neurons of the networks whose sizes give the dimensions.
        public var neurons: Int
        /// Bits d of the Bernoulli distribution and weights of ES (nil: the task's network sizes).
        public var bits: Int?
        /// Population size M (even).
        public var population: Int
        /// Generations to time (after one warm-up generation).
        public var generations: Int
        /// Threads for the statistics pass.
        public var threads: Int
        /// Include the Gaussian ES baseline.
        public var includeES: Bool
        /// Seconds of environment stepping for the env steps/s measurement.
        public var environmentSeconds: Double

        public init(
            environmentID: String, neurons: Int = 256, bits: Int? = nil, population: Int = 256, generations: Int = 3,
            threads: Int = 1, includeES: Bool = true, environmentSeconds: Double = 0.5
        ) {
            self.environmentID = environmentID
            self.neurons = neurons
            self.bits = bits
            self.population = population
            self.generations = generations
            self.threads = threads
            self.includeES = includeES
            self.environmentSeconds = environmentSeconds
        }
    }

    /// Mean seconds per generation of each phase of one optimizer.
    public struct OptimizerTiming: Codable, Sendable, Equatable {
        public var optimizer: String
        public var dimension: Int
        public var sampleSeconds: Double
        public var shapeSeconds: Double
        public var statisticsSeconds: Double
        public var updateSeconds: Double
        /// sample + shape + statistics + update.
        public var totalSeconds: Double
        /// totalSeconds / the environment-only rollout time of the population.
        public var overheadRatio: Double
    }

    /// The result (`satr bench search --json`).
    public struct Result: Codable, Sendable, Equatable {
        /// The CLI's short task name (hopper, humanoid).
        public var task: String
        public var bits: Int
        public var population: Int
        public var generations: Int
        public var threads: Int
        public var environment: String
        /// Single-thread env steps per second with uniform random actions, resets included.
        public var environmentStepsPerSecond: Double
        /// M x (the task's episode limit) steps at that rate.
        public var environmentRolloutSeconds: Double
        /// The task's episode limit, the steps of one member's rollout in the comparison.
        public var episodeSteps: Int
        public var optimizers: [OptimizerTiming]
    }

    public static func run(_ settings: Settings, taskName: String) throws -> Result {
        guard settings.population >= 2, settings.population % 2 == 0 else {
            throw BenchmarkError("bench search needs an even population of at least 2 (got \(settings.population))")
        }
        guard settings.generations >= 1, settings.threads >= 1 else {
            throw BenchmarkError("bench search needs at least one generation and one thread")
        }
        let spec = try TaskRegistry.spec(id: settings.environmentID)
        let bits = try settings.bits
            ?? NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: settings.neurons).parameterCount
        let weights = try settings.bits
            ?? DenseSNNShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: settings.neurons).parameterCount
        let stepsPerSecond: Double
        do {
            stepsPerSecond = try environmentStepsPerSecond(spec: spec, seconds: settings.environmentSeconds)
        } catch {
            throw BenchmarkError("cannot measure \(spec.id)'s env steps/s, so there is no rollout time to compare with: \(error)")
        }
        let rolloutSeconds = Double(settings.population * spec.maxEpisodeSteps) / stepsPerSecond
        var rows: [OptimizerTiming] = []
        var ec = ECStrategy(dimension: bits, populationSize: settings.population, seed: 1)
        rows.append(time(&ec, name: "EC", dimension: bits, rollout: rolloutSeconds, settings: settings))
        var satr = SATRStrategy(dimension: bits, populationSize: settings.population, seed: 1, hyperparameters: .prototype)
        rows.append(time(&satr, name: "SATR", dimension: bits, rollout: rolloutSeconds, settings: settings))
        if settings.includeES {
            var es = GaussianESStrategy(parameterCount: weights, populationSize: settings.population, seed: 1)
            rows.append(time(&es, name: "ES", dimension: weights, rollout: rolloutSeconds, settings: settings))
        }
        try requireMeasured(["environmentStepsPerSecond": stepsPerSecond], in: "bench search")
        for row in rows {
            try requireMeasured(["\(row.optimizer) totalSeconds": row.totalSeconds, "\(row.optimizer) overheadRatio": row.overheadRatio],
                                in: "bench search")
        }
        return Result(
            task: taskName, bits: bits, population: settings.population, generations: settings.generations,
            threads: settings.threads, environment: spec.id, environmentStepsPerSecond: stepsPerSecond,
            environmentRolloutSeconds: rolloutSeconds, episodeSteps: spec.maxEpisodeSteps, optimizers: rows)
    }

    /// Single-thread env steps per second of the task with uniform random actions (resets
    /// included), about `seconds` of stepping. Throws when the environment cannot be made or
    /// stepped.
    static func environmentStepsPerSecond(spec: TaskSpec, seconds limit: Double) throws -> Double {
        var environment = try TaskRegistry.make(id: spec.id)
        var random = CounterStream(seed: 7, generation: 0, member: 0, purpose: .auxiliary)
        var observation = [Double](repeating: 0, count: spec.observationSize)
        var action = [Double](repeating: 0, count: spec.actionSize)
        let clock = ContinuousClock()
        let start = clock.now
        var steps = 0
        var episode: UInt64 = 0
        try observation.withUnsafeMutableBufferPointer { obs in
            try environment.reset(seed: episode, observation: obs)
            while BenchmarkClock.seconds(clock.now - start) < limit {
                for a in 0..<spec.actionSize { action[a] = random.nextUniform(spec.actionLow[a], spec.actionHigh[a]) }
                let result = try action.withUnsafeBufferPointer { try environment.step(action: $0, observation: obs) }
                steps += 1
                if result.terminated || result.truncated {
                    episode += 1
                    try environment.reset(seed: episode, observation: obs)
                }
            }
        }
        return Double(steps) / BenchmarkClock.seconds(clock.now - start)
    }

    /// Mean seconds per generation of each phase for `strategy`, with pure-noise fitnesses.
    static func time<S: SearchStrategy>(
        _ strategy: inout S, name: String, dimension: Int, rollout: Double, settings: Settings
    ) -> OptimizerTiming where S.GenomeElement: Numeric {
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { BenchmarkClock.seconds(d) }
        var sample = 0.0, shape = 0.0, statistics = 0.0, update = 0.0
        var genome = [S.GenomeElement](repeating: 0, count: strategy.genomeCount)
        for g in 0...settings.generations {
            let t0 = clock.now
            genome.withUnsafeMutableBufferPointer { buffer in
                for k in 0..<strategy.populationSize { strategy.sampleMember(k, into: buffer) }
            }
            let t1 = clock.now
            let fitnesses = (0..<strategy.populationSize).map { k -> Double in
                var s = CounterStream(seed: 1, generation: strategy.generation, member: k, purpose: .evaluation)
                return s.nextNormal()
            }
            let weights = FitnessShaping.integerWeights(fitnesses)
            let t2 = clock.now
            let stats = strategy.statistics(fitnesses: fitnesses, threads: settings.threads)
            let t3 = clock.now
            _ = strategy.update(with: stats)
            let t4 = clock.now
            precondition(weights.count == strategy.populationSize)
            if g == 0 { continue }  // warm-up
            sample += seconds(t1 - t0); shape += seconds(t2 - t1)
            statistics += seconds(t3 - t2); update += seconds(t4 - t3)
        }
        let n = Double(settings.generations)
        let total = (sample + shape + statistics + update) / n
        return OptimizerTiming(
            optimizer: name, dimension: dimension, sampleSeconds: sample / n, shapeSeconds: shape / n,
            statisticsSeconds: statistics / n, updateSeconds: update / n, totalSeconds: total, overheadRatio: total / rollout)
    }
}

extension SearchBenchmark {
    /// One row of the synthetic comparisons (fields by problem; absent ones are not written).
    public struct SyntheticRow: Codable, Sendable, Equatable {
        public var problem: String
        public var population: Int
        public var seed: UInt64
        public var bits: Int?
        public var ecFound: Double?
        public var satrFound: Double?
        public var ecGenerations: Int?
        public var satrGenerations: Int?
        public var ecMeanKL: Double?
        public var satrMeanKL: Double?
        public var ecMeanVariance: Double?
        public var satrMeanVariance: Double?

        public init(problem: String, population: Int, seed: UInt64) {
            self.problem = problem
            self.population = population
            self.seed = seed
        }
    }

    /// `satr bench search --synthetic --json`.
    public struct SyntheticResult: Codable, Sendable, Equatable {
        public var synthetic: [SyntheticRow]
    }

    /// The synthetic comparisons of docs/SEARCH.md over seeds 1...`seeds`; `row` is called with
    /// each row as it is done.
    public static func runSynthetic(seeds: Int, threads: Int, row report: (SyntheticRow) -> Void = { _ in }) throws -> SyntheticResult {
        var results: [SyntheticRow] = []
        func emit(_ row: SyntheticRow) {
            results.append(row)
            report(row)
        }
        let seedList = (1...max(1, seeds)).map { UInt64($0) }
        // 1. Noisy linear prototype (d = 20,000, 500 relevant, noise sd 2 sqrt(500), 150 generations).
        for m in [64, 256] {
            for seed in seedList {
                let problem = LinearBitProblem.prototype(noisy: true, seed: seed)
                var ec = ECStrategy(dimension: problem.dimension, populationSize: m, seed: seed)
                var satr = SATRStrategy(dimension: problem.dimension, populationSize: m, seed: seed, hyperparameters: .prototype)
                let a = SyntheticRun.run(&ec, problem: problem, generations: 150, threads: threads)
                let b = SyntheticRun.run(&satr, problem: problem, generations: 150, threads: threads)
                var row = SyntheticRow(problem: "noisy-linear", population: m, seed: seed)
                row.ecFound = a.foundOverOptimum
                row.satrFound = b.foundOverOptimum
                emit(row)
            }
        }
        // 2. Generations to the exact optimum (noise-free, 100 relevant bits, M = 64, cap 300).
        for d in [20_000, 100_000] {
            for seed in seedList {
                let problem = LinearBitProblem.prototype(dimension: d, relevantCount: 100, noisy: false, seed: seed)
                var ec = ECStrategy(dimension: d, populationSize: 64, seed: seed)
                var satr = SATRStrategy(dimension: d, populationSize: 64, seed: seed, hyperparameters: .prototype)
                let a = SyntheticRun.run(&ec, problem: problem, generations: 300, threads: threads, stopAtOptimum: true)
                let b = SyntheticRun.run(&satr, problem: problem, generations: 300, threads: threads, stopAtOptimum: true)
                func gens(_ p: SyntheticRun.Progress) -> Int { p.optimal ? p.generation + 1 : -1 }
                var row = SyntheticRow(problem: "sparse-linear", population: 64, seed: seed)
                row.bits = d
                row.ecGenerations = gens(a)
                row.satrGenerations = gens(b)
                emit(row)
            }
        }
        // 3. Pure noise (d = 20,000, M = 128, 100 generations).
        for seed in seedList {
            let problem = LinearBitProblem.pureNoise(dimension: 20_000, seed: seed)
            var ec = ECStrategy(dimension: 20_000, populationSize: 128, seed: seed)
            var satr = SATRStrategy(dimension: 20_000, populationSize: 128, seed: seed, hyperparameters: .prototype)
            var ecKL = 0.0, satrKL = 0.0
            var missing: String? = nil
            func realizedKL(_ p: SyntheticRun.Progress, _ name: String) -> Double {
                guard let v = p.diagnostics["realizedKL"] else { missing = "\(name) reports no realizedKL"; return .nan }
                return v
            }
            let a = SyntheticRun.run(&ec, problem: problem, generations: 100, threads: threads) { ecKL += realizedKL($0, "EC") }
            let b = SyntheticRun.run(&satr, problem: problem, generations: 100, threads: threads) { satrKL += realizedKL($0, "SATR") }
            guard let ecV = a.diagnostics["meanVariance"], let satrV = b.diagnostics["meanVariance"] else {
                throw BenchmarkError("synthetic pure noise: an optimizer reports no meanVariance")
            }
            if let missing { throw BenchmarkError("synthetic pure noise: \(missing)") }
            var row = SyntheticRow(problem: "pure-noise", population: 128, seed: seed)
            row.ecMeanKL = ecKL / 100
            row.satrMeanKL = satrKL / 100
            row.ecMeanVariance = ecV
            row.satrMeanVariance = satrV
            emit(row)
        }
        return SyntheticResult(synthetic: results)
    }
}

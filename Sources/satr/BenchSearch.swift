import ArgumentParser
import Environments
import Foundation
import Randomness
import Search
import Spiking

/// `satr bench search`: the optimizers' own cost per generation (no environment): sampling every
/// member, shaping the fitnesses, the statistics pass (regenerating every member) and the update,
/// for EC and SATR on a bit vector of the task's size, and for Gaussian ES on the DenseSNN weights.
/// `--synthetic` instead runs the synthetic problems of docs/SEARCH.md.
struct BenchSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Benchmark the optimizers (no environment), or run the synthetic comparisons.",
        discussion: """
            Times --generations generations (after one warm-up generation) of EC, SATR and Gaussian ES \
            with pure-noise fitnesses and prints the mean time per generation of each phase. The ratio \
            column divides the optimizer's time (sample + shaping + statistics + update) by the \
            environment-only time of the same population's episodes on the task (M x 1000 steps at the \
            env steps/s measured in the same run with random actions, resets included; the network is \
            not counted, so this is a lower bound of the rollout time and the ratio an upper bound). \
            Use a release build:
              swift run -c release satr bench search --task hopper --population 256 --json
              swift run -c release satr bench search --synthetic
            """)

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case hopper, humanoid
        /// The Gymnasium id.
        var environmentID: String { self == .hopper ? "Hopper-v5" : "Humanoid-v5" }
        /// The task's spec from the registry.
        func spec() throws -> TaskSpec { try TaskRegistry.spec(id: environmentID) }
        /// Searchable bits of the bitset network with N = 256 (`NetworkShape.parameterCount`).
        func bits() throws -> Int {
            let s = try spec()
            return try NetworkShape(observationSize: s.observationSize, actionSize: s.actionSize, neurons: 256).parameterCount
        }
        /// DenseSNN weights with N = 256 (`DenseSNNShape.parameterCount`).
        func denseWeights() throws -> Int {
            let s = try spec()
            return try DenseSNNShape(observationSize: s.observationSize, actionSize: s.actionSize, neurons: 256).parameterCount
        }
    }

    @Option(help: "Bits d of the Bernoulli distribution (default: the task's size).")
    var bits: Int?

    @Option(help: "Task whose sizes to use: \(Task.allCases.map(\.rawValue).joined(separator: ", ")).")
    var task: Task = .hopper

    @Option(help: "Population size M.")
    var population: Int = 256

    @Option(help: "Generations to time (after one warm-up generation).")
    var generations: Int = 3

    @Option(help: "Threads for the statistics pass.")
    var threads: Int = 1

    @Flag(help: "Skip the Gaussian ES baseline.")
    var skipES = false

    @Flag(help: "Run the synthetic EC-vs-SATR comparisons of docs/SEARCH.md instead of timing.")
    var synthetic = false

    @Option(help: "Seeds for --synthetic.")
    var seeds: Int = 3

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        if let bits, bits < 1 { throw ValidationError("--bits must be positive (got \(bits)); try --bits 71936") }
        guard population >= 2, population % 2 == 0 else {
            throw ValidationError("--population must be even and at least 2 (got \(population)); try --population 256")
        }
        guard generations >= 1 else { throw ValidationError("--generations must be at least 1 (got \(generations))") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1 (got \(seeds))") }
    }

    func run() throws {
        if synthetic { return try runSynthetic() }
        let d = try bits ?? task.bits()
        let stepsPerSecond: Double
        do {
            stepsPerSecond = try environmentStepsPerSecond()
        } catch {
            throw CLIError(message: "cannot measure \(task.environmentID)'s env steps/s, so there is no rollout time to compare with: \(error)")
        }
        let rolloutSeconds = Double(population) * 1000 / stepsPerSecond
        var rows: [[String: Any]] = []
        var ec = ECStrategy(dimension: d, populationSize: population, seed: 1)
        rows.append(time(&ec, name: "EC", dimension: d, rollout: rolloutSeconds))
        var satr = SATRStrategy(dimension: d, populationSize: population, seed: 1, hyperparameters: .prototype)
        rows.append(time(&satr, name: "SATR", dimension: d, rollout: rolloutSeconds))
        if !skipES {
            let n = try bits ?? task.denseWeights()
            var es = GaussianESStrategy(parameterCount: n, populationSize: population, seed: 1)
            rows.append(time(&es, name: "ES", dimension: n, rollout: rolloutSeconds))
        }
        if json {
            let object: [String: Any] = [
                "task": task.rawValue, "bits": d, "population": population, "generations": generations,
                "threads": threads, "environment": task.environmentID, "environmentStepsPerSecond": stepsPerSecond,
                "environmentRolloutSeconds": rolloutSeconds, "optimizers": rows,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("d = \(d) (\(bits == nil ? task.rawValue : "--bits")), M = \(population), \(generations) generations, \(threads) thread(s)")
            print(
                "\(task.environmentID): \(Int(stepsPerSecond)) env steps/s measured in this run, "
                    + "so M x 1000 steps take \(String(format: "%.2f", rolloutSeconds)) s")
            print("optimizer  dimension  sample ms  shape ms  statistics ms  update ms  total ms  / env rollout")
            for row in rows {
                func ms(_ key: String) -> String { String(format: "%9.2f", (row[key] as? Double ?? 0) * 1e3) }
                print(
                    "\((row["optimizer"] as? String ?? "").padding(toLength: 9, withPad: " ", startingAt: 0))  "
                        + "\(String(format: "%9d", row["dimension"] as? Int ?? 0))  \(ms("sampleSeconds"))  \(ms("shapeSeconds"))"
                        + "      \(ms("statisticsSeconds"))  \(ms("updateSeconds"))  \(ms("totalSeconds"))  "
                        + String(format: "%.4f%%", 100 * (row["overheadRatio"] as? Double ?? 0)))
            }
        }
    }

    /// Single-thread env steps per second of the task with uniform random actions (resets included),
    /// about 0.5 s of stepping. Throws when the environment cannot be made or stepped: a
    /// benchmark reports a measurement or an error, never a stand-in constant.
    func environmentStepsPerSecond() throws -> Double {
        let spec = try task.spec()
        var environment = try TaskRegistry.make(id: task.environmentID)
        var random = CounterStream(seed: 7, generation: 0, member: 0, purpose: .auxiliary)
        var observation = [Double](repeating: 0, count: spec.observationSize)
        var action = [Double](repeating: 0, count: spec.actionSize)
        let clock = ContinuousClock()
        let start = clock.now
        var steps = 0
        var episode: UInt64 = 0
        try observation.withUnsafeMutableBufferPointer { obs in
                try environment.reset(seed: episode, observation: obs)
                while seconds(clock.now - start) < 0.5 {
                    for a in 0..<spec.actionSize { action[a] = random.nextUniform(spec.actionLow[a], spec.actionHigh[a]) }
                    let result = try action.withUnsafeBufferPointer { try environment.step(action: $0, observation: obs) }
                    steps += 1
                    if result.terminated || result.truncated {
                        episode += 1
                        try environment.reset(seed: episode, observation: obs)
                    }
                }
        }
        return Double(steps) / seconds(clock.now - start)
    }

    /// Mean seconds per generation of each phase for `strategy`.
    func time<S: SearchStrategy>(_ strategy: inout S, name: String, dimension: Int, rollout: Double) -> [String: Any]
    where S.GenomeElement: Numeric {
        let clock = ContinuousClock()
        var sample = 0.0, shape = 0.0, statistics = 0.0, update = 0.0
        var genome = [S.GenomeElement](repeating: 0, count: strategy.genomeCount)
        for g in 0...generations {
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
            let stats = strategy.statistics(fitnesses: fitnesses, threads: threads)
            let t3 = clock.now
            _ = strategy.update(with: stats)
            let t4 = clock.now
            precondition(weights.count == strategy.populationSize)
            if g == 0 { continue }  // warm-up
            sample += seconds(t1 - t0); shape += seconds(t2 - t1)
            statistics += seconds(t3 - t2); update += seconds(t4 - t3)
        }
        let n = Double(generations)
        let total = (sample + shape + statistics + update) / n
        return [
            "optimizer": name, "dimension": dimension, "sampleSeconds": sample / n, "shapeSeconds": shape / n,
            "statisticsSeconds": statistics / n, "updateSeconds": update / n, "totalSeconds": total,
            "overheadRatio": total / rollout,
        ]
    }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The synthetic comparisons of docs/SEARCH.md.
    func runSynthetic() throws {
        var results: [[String: Any]] = []
        func emit(_ row: [String: Any], _ text: String) {
            results.append(row)
            if !json { print(text) }
        }
        let seedList = (1...seeds).map { UInt64($0) }
        // 1. Noisy linear prototype (d = 20,000, 500 relevant, noise sd 2 sqrt(500), 150 generations).
        for m in [64, 256] {
            for seed in seedList {
                let problem = LinearBitProblem.prototype(noisy: true, seed: seed)
                var ec = ECStrategy(dimension: problem.dimension, populationSize: m, seed: seed)
                var satr = SATRStrategy(dimension: problem.dimension, populationSize: m, seed: seed, hyperparameters: .prototype)
                let a = SyntheticRun.run(&ec, problem: problem, generations: 150, threads: threads)
                let b = SyntheticRun.run(&satr, problem: problem, generations: 150, threads: threads)
                emit(
                    ["problem": "noisy-linear", "population": m, "seed": seed, "ecFound": a.foundOverOptimum,
                     "satrFound": b.foundOverOptimum],
                    String(format: "noisy linear  M = %3d seed %d: found/optimum EC %.3f  SATR %.3f", m, seed, a.foundOverOptimum, b.foundOverOptimum))
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
                emit(
                    ["problem": "sparse-linear", "bits": d, "population": 64, "seed": seed,
                     "ecGenerations": gens(a), "satrGenerations": gens(b)],
                    "sparse linear d = \(d) M = 64 seed \(seed): generations to optimum EC \(gens(a))  SATR \(gens(b))  (-1: not within 300)")
            }
        }
        // 3. Pure noise (d = 20,000, M = 128, 100 generations).
        for seed in seedList {
            let problem = LinearBitProblem.pureNoise(dimension: 20_000, seed: seed)
            var ec = ECStrategy(dimension: 20_000, populationSize: 128, seed: seed)
            var satr = SATRStrategy(dimension: 20_000, populationSize: 128, seed: seed, hyperparameters: .prototype)
            var ecKL = 0.0, satrKL = 0.0
            let a = SyntheticRun.run(&ec, problem: problem, generations: 100, threads: threads) { ecKL += $0.diagnostics["realizedKL"] ?? 0 }
            let b = SyntheticRun.run(&satr, problem: problem, generations: 100, threads: threads) { satrKL += $0.diagnostics["realizedKL"] ?? 0 }
            let ecV = a.diagnostics["meanVariance"] ?? 0, satrV = b.diagnostics["meanVariance"] ?? 0
            emit(
                ["problem": "pure-noise", "population": 128, "seed": seed, "ecMeanKL": ecKL / 100, "satrMeanKL": satrKL / 100,
                 "ecMeanVariance": ecV, "satrMeanVariance": satrV],
                String(format: "pure noise    M = 128 seed %d: KL/gen EC %.2f SATR %.2f; mean rho(1-rho) after 100 gens EC %.4f SATR %.4f",
                       seed, ecKL / 100, satrKL / 100, ecV, satrV))
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["synthetic": results], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

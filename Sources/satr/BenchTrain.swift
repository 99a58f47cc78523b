import ArgumentParser
import Environments
import Foundation
import Randomness
import Search
import Spiking
import Training

/// `satr bench train`: the training loop's environment steps per second against raw environment
/// stepping on the same number of threads, measured in one run.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Benchmark the training loop against raw environment stepping.",
        discussion: """
        A real `satr train` run (population M, G generations, T threads, metrics written to a \
        temporary directory, a checkpoint at the last generation, no evaluation episodes) is \
        interleaved with raw stepping: after each generation, with the training paused, T \
        threads (each with its own environment) step a fixed pseudo-random action sequence \
        (uniform in the action box; resets included) for as many steps as that generation took, \
        then the same again with the policy network stepped too (one random member, rho = 0.5). \
        Alternating per generation exposes all three to the same machine load. \
        ratio = training env steps/s / raw env steps/s, over all generations (the time of a \
        generation runs from the end of the previous one's raw stepping, the first from the \
        start of the run, so setup counts). --repeats R runs the whole measurement R times (a \
        fresh training run each time) and reports each repeat's ratio, their median, and the \
        ratio over all of them; on a shared machine single ratios scatter by 10% or more. The \
        target on Hopper-v5 with 2 threads is >= 0.85: network, sampling, normalization and the \
        update together cost under 15%.
        """)

    @Option(help: "Task id.")
    var env: String = "Hopper-v5"
    @Option(help: "Population size M.")
    var population: Int = 64
    @Option(help: "Generations G.")
    var generations: Int = 3
    @Option(help: "Threads T (0 = one per core).")
    var threads: Int = 2
    @Option(help: "Recurrent neurons N.")
    var neurons: Int = 256
    @Option(help: "Update rule: satr, ec or es.")
    var algo: Algorithm = .satr
    @Option(help: "Run seed.")
    var seed: UInt64 = 0
    @Option(help: "Repeat the whole measurement this many times.")
    var repeats: Int = 1
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard population >= 2 else { throw ValidationError("--population must be at least 2") }
        guard generations >= 1 else { throw ValidationError("--generations must be at least 1") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0") }
    }

    func run() throws {
        do {
            try measure()
        } catch let e as ValidationError {
            throw e
        } catch {
            throw CLIError(error)
        }
    }

    func measure() throws {
        let spec = try TaskRegistry.spec(id: env)
        let threadCount = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        var config = TrainingConfig()
        config.env = env
        config.algorithm = algo.defaultSettings
        config.population = population
        config.generations = generations
        config.neurons = neurons
        config.threads = threadCount
        config.seed = seed
        config.evalEvery = 0
        config.evalEpisodes = 1
        config.checkpointEvery = max(1, generations)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("satr-bench-train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }

        let raw = try RawStepping(spec: spec, threads: threadCount, network: nil)
        let shape = algo == .es ? nil
            : try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: neurons)
        let rawWithNetwork = try shape.map { try RawStepping(spec: spec, threads: threadCount, network: $0) }
        // Warm-up: touch the code paths and the memory.
        _ = try raw.run(steps: 2000)
        _ = try rawWithNetwork?.run(steps: 2000)

        var rows: [Row] = []
        var repeatRatios: [Double] = []
        for pass in 0..<repeats {
            let mine = try Self.interleaved(
                config: config, directory: directory.appendingPathComponent("pass-\(pass)"),
                raw: raw, rawWithNetwork: rawWithNetwork)
            rows += mine
            repeatRatios.append(mine.reduce(0) { $0 + $1.raw } / mine.reduce(0) { $0 + $1.train })
        }
        let median = repeatRatios.sorted()[repeatRatios.count / 2]

        let steps = rows.reduce(0) { $0 + $1.steps }
        let trainSeconds = rows.reduce(0) { $0 + $1.train }
        let rawSeconds = rows.reduce(0) { $0 + $1.raw }
        let trainRate = Double(steps) / trainSeconds
        let rawRate = Double(steps) / rawSeconds
        let perGeneration = rows.map { $0.raw / $0.train }
        let networkRate = rawWithNetwork == nil ? nil : Double(steps) / rows.reduce(0) { $0 + ($1.rawWithNetwork ?? 0) }

        var r = MetricsRecord()
        r.append("env", .string(env))
        r.append("algo", .string(algo.rawValue))
        r.append("population", population)
        r.append("generations", generations)
        r.append("neurons", neurons)
        r.append("threads", threadCount)
        r.append("train_env_steps", steps)
        r.append("train_seconds", trainSeconds)
        r.append("train_steps_per_s", trainRate)
        r.append("raw_seconds", rawSeconds)
        r.append("raw_steps_per_s", rawRate)
        r.append("ratio", trainRate / rawRate)
        r.append("ratio_per_generation", .array(perGeneration.map(JSONValue.double)))
        r.append("repeats", repeats)
        r.append("ratio_per_repeat", .array(repeatRatios.map(JSONValue.double)))
        r.append("ratio_median", median)
        if let networkRate {
            r.append("raw_with_network_steps_per_s", networkRate)
            r.append("raw_with_network_ratio", networkRate / rawRate)
            r.append("ratio_vs_raw_with_network", trainRate / networkRate)
        }
        if json {
            print(r.line)
        } else {
            print("""
            \(env), \(algo.rawValue), M=\(population), G=\(generations), N=\(neurons), \(threadCount) threads
            training loop: \(formatCount(trainRate)) env steps/s (\(steps) steps in \(format(trainSeconds)) s)
            raw env:       \(formatCount(rawRate)) env steps/s (the same steps, interleaved per generation)
            ratio:         \(String(format: "%.3f", trainRate / rawRate)) (per generation \(perGeneration.map { String(format: "%.3f", $0) }.joined(separator: ", ")))
            """)
            if repeats > 1 {
                print("repeats:       \(repeatRatios.map { String(format: "%.3f", $0) }.joined(separator: ", ")); median \(String(format: "%.3f", median))")
            }
            if let networkRate {
                print("raw env + network: \(formatCount(networkRate)) env steps/s (\(String(format: "%.3f", networkRate / rawRate)) of raw); training loop / that = \(String(format: "%.3f", trainRate / networkRate))")
            }
        }
    }
}

extension BenchTrain {
    /// One generation's measurement: its env steps, the training's wall seconds for them, and
    /// the raw loop's (and the raw loop with the network's) seconds for as many steps.
    typealias Row = (steps: Int, train: Double, raw: Double, rawWithNetwork: Double?)

    /// One training run with raw stepping after each generation (see the discussion above).
    static func interleaved(
        config: TrainingConfig, directory: URL, raw: RawStepping, rawWithNetwork: RawStepping?
    ) throws -> [Row] {
        var rows: [Row] = []
        var failure: Error? = nil
        var lastSteps = 0
        var mark = DispatchTime.now().uptimeNanoseconds
        _ = try Trainer.train(config: config, directory: directory) { report in
            let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - mark) / 1e9
            let steps = report.envSteps - lastSteps
            lastSteps = report.envSteps
            do {
                let rawSeconds = try raw.run(steps: steps)
                let networkSeconds = try rawWithNetwork?.run(steps: steps)
                rows.append((steps, trainSeconds, rawSeconds, networkSeconds))
            } catch {
                if failure == nil { failure = error }
            }
            mark = DispatchTime.now().uptimeNanoseconds
        }
        if let failure { throw failure }
        guard !rows.isEmpty else { throw CLIError(message: "the training run reported no generations") }
        return rows
    }
}

/// Raw environment stepping on T threads: each thread owns an environment (and optionally a
/// policy network fed the raw observation) and steps a fixed pseudo-random action sequence,
/// resetting when an episode ends. Successive `run` calls continue where the last one stopped.
final class RawStepping: @unchecked Sendable {
    /// One thread's environment, network and position in its action sequence; touched only by
    /// that thread during a `run`.
    final class Lane: @unchecked Sendable {
        var environment: any Environment
        var network: BitsetNetwork?
        let actions: [Double]
        let actionSize: Int
        var observation: [Double]
        var x: [Float]
        var y: [Float]
        var position = 0
        var episode: UInt64 = 0

        init(spec: TaskSpec, thread: Int, network shape: NetworkShape?) throws {
            environment = try TaskRegistry.make(id: spec.id)
            if let shape {
                var net = BitsetNetwork(shape: shape)
                let distribution = BernoulliDistribution(dimension: shape.parameterCount)
                var words = [UInt64](repeating: 0, count: shape.wordsPerMember)
                words.withUnsafeMutableBufferPointer { distribution.sample(member: thread, generation: 0, seed: 99, into: $0) }
                net.load(connectivity: words)
                net.reset(initialMembrane: shape.initialMembrane(seed: 99, generation: 0, member: thread))
                network = net
            }
            actionSize = spec.actionSize
            var random = CounterStream(seed: 1234, generation: 0, member: thread, purpose: .auxiliary)
            let cycle = 4096
            var actions = [Double](repeating: 0, count: cycle * spec.actionSize)
            for i in 0..<cycle {
                for j in 0..<spec.actionSize { actions[i * spec.actionSize + j] = random.nextUniform(spec.actionLow[j], spec.actionHigh[j]) }
            }
            self.actions = actions
            observation = [Double](repeating: 0, count: spec.observationSize)
            x = [Float](repeating: 0, count: spec.observationSize)
            y = [Float](repeating: 0, count: spec.actionSize)
            try observation.withUnsafeMutableBufferPointer { try environment.reset(seed: episode, observation: $0) }
        }

        func step(count: Int) throws {
            let a = actionSize, cycle = actions.count / a
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
                        let result: (reward: Double, terminated: Bool, truncated: Bool)
                        do {
                            result = try environment.step(action: action, observation: obs)
                        } catch is MuJoCoError {
                            result = (0, true, false)
                        }
                        if result.terminated || result.truncated {
                            episode += 1
                            try environment.reset(seed: episode, observation: obs)
                        }
                    }
                }
            }
        }
    }

    let lanes: [Lane]

    init(spec: TaskSpec, threads: Int, network: NetworkShape?) throws {
        lanes = try (0..<threads).map { try Lane(spec: spec, thread: $0, network: network) }
    }

    /// Steps `steps` in total (split evenly over the threads, rounded up) and returns the seconds.
    func run(steps: Int) throws -> Double {
        let perThread = (steps + lanes.count - 1) / lanes.count
        let errors = ErrorBox()
        let start = DispatchTime.now().uptimeNanoseconds
        let done = DispatchSemaphore(value: 0)
        for lane in lanes {
            let thread = Thread {
                do { try lane.step(count: perThread) } catch { errors.set(error) }
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in lanes { done.wait() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let e = errors.error { throw e }
        return seconds * Double(steps) / Double(perThread * lanes.count)
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ e: Error) {
        lock.lock()
        if stored == nil { stored = e }
        lock.unlock()
    }
    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

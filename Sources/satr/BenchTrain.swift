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
        1. raw: T threads, each with its own environment, step a fixed pseudo-random action \
        sequence (uniform in the action box; resets included) for the same total number of steps \
        the training run takes, split evenly; 2. train: a real `satr train` run (population M, G \
        generations, T threads, metrics and checkpoints written to a temporary directory) whose \
        steps/s is its env steps divided by the wall time of its G generations (the final \
        evaluation excluded); 3. raw again. ratio = train steps/s / mean of the two raw \
        measurements (bracketing the training run against load drift). The target on Hopper-v5 \
        with 2 threads is >= 0.85: network, sampling, normalization and the update together cost \
        under 15%.
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
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
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
        config.algo = algo
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

        // Warm-up: compile the model, touch the code paths.
        _ = try RawStepping.measure(spec: spec, steps: 2000, threads: threadCount)

        // The training run decides how many steps the raw loops take.
        let before = try RawStepping.measure(spec: spec, steps: 20_000 * threadCount, threads: threadCount)
        let result = try Trainer.train(config: config, directory: directory)
        let rows = try MetricsFile.read(result.metricsPath)
        guard let last = rows.last, let trainSeconds = (last["wall_s"] as? NSNumber)?.doubleValue,
              let trainSteps = (last["env_steps"] as? NSNumber)?.intValue, trainSeconds > 0 else {
            throw CLIError(message: "the training run wrote no metrics")
        }
        let after = try RawStepping.measure(spec: spec, steps: max(trainSteps, 1000), threads: threadCount)
        let rawRate = (before.stepsPerSecond + after.stepsPerSecond) / 2
        let trainRate = Double(trainSteps) / trainSeconds
        // The same raw loop with the policy network stepped too (one random member, rho = 0.5):
        // separates the network's cost from the rest of the training loop's.
        var withNetwork: RawStepping.Measurement? = nil
        if algo != .es {
            let shape = try NetworkShape(observationSize: spec.observationSize, actionSize: spec.actionSize, neurons: neurons)
            withNetwork = try RawStepping.measure(spec: spec, steps: max(trainSteps, 1000), threads: threadCount, network: shape)
        }

        var r = MetricsRecord()
        r.append("env", .string(env))
        r.append("algo", .string(algo.rawValue))
        r.append("population", population)
        r.append("generations", generations)
        r.append("neurons", neurons)
        r.append("threads", threadCount)
        r.append("train_env_steps", trainSteps)
        r.append("train_seconds", trainSeconds)
        r.append("train_steps_per_s", trainRate)
        r.append("raw_steps_per_s_before", before.stepsPerSecond)
        r.append("raw_steps_per_s_after", after.stepsPerSecond)
        r.append("raw_steps_per_s", rawRate)
        r.append("ratio", trainRate / rawRate)
        if let withNetwork {
            r.append("raw_with_network_steps_per_s", withNetwork.stepsPerSecond)
            r.append("ratio_vs_raw_with_network", trainRate / withNetwork.stepsPerSecond)
        }
        if json {
            print(r.line)
        } else {
            print("""
            \(env), \(algo.rawValue), M=\(population), G=\(generations), N=\(neurons), \(threadCount) threads
            training loop: \(formatCount(trainRate)) env steps/s (\(trainSteps) steps in \(format(trainSeconds)) s)
            raw env:       \(formatCount(rawRate)) env steps/s (before \(formatCount(before.stepsPerSecond)), after \(formatCount(after.stepsPerSecond)))
            ratio:         \(String(format: "%.3f", trainRate / rawRate))
            """)
            if let withNetwork {
                print("raw env + network: \(formatCount(withNetwork.stepsPerSecond)) env steps/s; training loop / that = \(String(format: "%.3f", trainRate / withNetwork.stepsPerSecond))")
            }
        }
    }
}

/// Raw environment stepping on T threads: each thread owns an environment and steps a fixed
/// pseudo-random action sequence, resetting when an episode ends.
enum RawStepping {
    struct Measurement {
        var steps: Int
        var seconds: Double
        var stepsPerSecond: Double { Double(steps) / seconds }
    }

    static func measure(spec: TaskSpec, steps: Int, threads: Int, network: NetworkShape? = nil) throws -> Measurement {
        let perThread = (steps + threads - 1) / threads
        let errors = ErrorBox()
        let start = DispatchTime.now().uptimeNanoseconds
        let done = DispatchSemaphore(value: 0)
        for t in 0..<threads {
            let thread = Thread {
                do {
                    try stepLoop(spec: spec, steps: perThread, thread: t, network: network)
                } catch {
                    errors.set(error)
                }
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<threads { done.wait() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let e = errors.error { throw e }
        return Measurement(steps: perThread * threads, seconds: seconds)
    }

    static func stepLoop(spec: TaskSpec, steps: Int, thread: Int, network shape: NetworkShape?) throws {
        var environment = try TaskRegistry.make(id: spec.id)
        var network: BitsetNetwork? = nil
        var x = [Float](repeating: 0, count: spec.observationSize), y = [Float](repeating: 0, count: spec.actionSize)
        if let shape {
            var net = BitsetNetwork(shape: shape)
            let distribution = BernoulliDistribution(dimension: shape.parameterCount)
            var words = [UInt64](repeating: 0, count: shape.wordsPerMember)
            words.withUnsafeMutableBufferPointer { distribution.sample(member: thread, generation: 0, seed: 99, into: $0) }
            net.load(connectivity: words)
            net.reset(initialMembrane: shape.initialMembrane(seed: 99, generation: 0, member: thread))
            network = net
        }
        let a = spec.actionSize
        var random = CounterStream(seed: 1234, generation: 0, member: thread, purpose: .auxiliary)
        let cycle = 4096
        var actions = [Double](repeating: 0, count: cycle * a)
        for i in 0..<cycle {
            for j in 0..<a { actions[i * a + j] = random.nextUniform(spec.actionLow[j], spec.actionHigh[j]) }
        }
        var observation = [Double](repeating: 0, count: spec.observationSize)
        try actions.withUnsafeBufferPointer { all in
            try observation.withUnsafeMutableBufferPointer { obs in
                var episode: UInt64 = 0
                try environment.reset(seed: episode, observation: obs)
                for i in 0..<steps {
                    let k = i % cycle
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

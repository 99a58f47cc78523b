import ArgumentParser
import Dispatch
import Foundation
import Randomness
import Spiking

/// `satr bench network`: environment steps per second of the bitset kernel, the dense Float32
/// reference and the DenseSNN baseline, measured in one run, and their ratios.
struct BenchNetwork: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Benchmark the spiking network kernels (bitset vs. Float32 reference vs. DenseSNN).",
        discussion: """
            Runs every implementation on the same task-sized networks (random connectivity of density \
            0.5, N(0, 1) DenseSNN weights) for at least --seconds each and reports network environment \
            steps (33 substeps each) per second, summed over members and threads. Use a release build:
              swift run -c release satr bench network --task hopper --json
            """)

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case hopper, walker, humanoid
        /// (observation size D, action size A) of the Gymnasium v5 task.
        var sizes: (observation: Int, action: Int) {
            switch self {
            case .hopper: return (11, 3)
            case .walker: return (17, 6)
            case .humanoid: return (348, 17)
            }
        }
    }

    @Option(help: "Task whose observation and action sizes to use: \(Task.allCases.map(\.rawValue).joined(separator: ", ")).")
    var task: Task = .hopper

    @Option(help: "Recurrent neurons N (a positive multiple of 64).")
    var neurons: Int = 256

    @Option(help: "Population members (each with its own connectivity), split evenly over the threads.")
    var members: Int = 64

    @Option(help: "Worker threads (each runs its share of the members).")
    var threads: Int = 1

    @Option(help: "Measuring time per implementation, in seconds (taken in turns of about 0.1 s).")
    var seconds: Double = 1.0

    @Option(help: "Seed of the random connectivity, weights and observations.")
    var seed: UInt64 = 1

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard neurons > 0, neurons % 64 == 0 else {
            throw ValidationError("--neurons must be a positive multiple of 64 (got \(neurons)); try --neurons 256")
        }
        guard members > 0 else { throw ValidationError("--members must be positive (got \(members))") }
        guard threads > 0 else { throw ValidationError("--threads must be positive (got \(threads))") }
        guard threads <= members else {
            throw ValidationError("--threads (\(threads)) must not exceed --members (\(members))")
        }
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600] (got \(seconds))") }
    }

    func run() throws {
        let (d, a) = task.sizes
        let shape = try NetworkShape(observationSize: d, actionSize: a, neurons: neurons)
        let denseShape = try DenseSNNShape(observationSize: d, actionSize: a, neurons: neurons)
        let workers = NetworkBenchmark.partition(members: members, threads: threads)
        let observations = NetworkBenchmark.observations(d: d, frames: 16, members: members, seed: seed)

        // The three implementations take turns in short slices so that a change in machine load
        // during the run affects all of them alike.
        var bitsetRun = NetworkBenchmark.Run(workers: workers) { range in
            NetworkBenchmark.BitsetWorker(shape: shape, members: range, seed: seed, observations: observations)
        }
        var referenceRun = NetworkBenchmark.Run(workers: workers) { range in
            NetworkBenchmark.referenceWorker(shape: shape, members: range, seed: seed, observations: observations)
        }
        var denseRun = NetworkBenchmark.Run(workers: workers) { range in
            NetworkBenchmark.denseWorker(shape: denseShape, members: range, seed: seed, observations: observations)
        }
        let slices = max(1, Int((seconds / 0.1).rounded()))
        for _ in 0..<slices {
            bitsetRun.measure(seconds: seconds / Double(slices))
            referenceRun.measure(seconds: seconds / Double(slices))
            denseRun.measure(seconds: seconds / Double(slices))
        }
        let bitset = bitsetRun.total, reference = referenceRun.total, dense = denseRun.total
        let substeps = Double(NetworkConstants.substepsPerEnvStep)
        let result: [(String, Any)] = [
            ("benchmark", "network"),
            ("task", task.rawValue),
            ("observation_size", d),
            ("action_size", a),
            ("neurons", neurons),
            ("members", members),
            ("threads", threads),
            ("seconds_per_implementation", seconds),
            ("substeps_per_env_step", NetworkConstants.substepsPerEnvStep),
            ("parameter_count", shape.parameterCount),
            ("dense_snn_parameter_count", denseShape.parameterCount),
            ("connection_density", 0.5),
            ("kernel_codegen", Spiking.codegenDescription),
            ("bitset_steps_per_s", bitset.stepsPerSecond),
            ("reference_steps_per_s", reference.stepsPerSecond),
            ("dense_snn_steps_per_s", dense.stepsPerSecond),
            ("speedup_vs_reference", bitset.stepsPerSecond / reference.stepsPerSecond),
            ("speedup_vs_dense_snn", bitset.stepsPerSecond / dense.stepsPerSecond),
            ("bitset_spikes_per_neuron_substep", Double(bitset.spikes) / (Double(bitset.steps) * substeps * Double(neurons))),
            ("reference_spikes_per_neuron_substep", Double(reference.spikes) / (Double(reference.steps) * substeps * Double(neurons))),
            ("dense_snn_spikes_per_neuron_substep", Double(dense.spikes) / (Double(dense.steps) * substeps * Double(neurons))),
            ("bitset_env_steps_measured", bitset.steps),
            ("reference_env_steps_measured", reference.steps),
            ("dense_snn_env_steps_measured", dense.steps),
        ]
        if json {
            print(NetworkBenchmark.jsonObject(result))
        } else {
            for (key, value) in result {
                print("\(key.padding(toLength: 36, withPad: " ", startingAt: 0)) \(NetworkBenchmark.format(value))")
            }
        }
    }
}

/// The machinery of `satr bench network`.
enum NetworkBenchmark {
    struct Measurement {
        var steps: Int
        var spikes: Int
        var elapsed: Double
        var stepsPerSecond: Double { Double(steps) / elapsed }
    }

    /// One thread's share of the members; `runEnvStep()` advances all of them by one env step and
    /// returns the spikes fired.
    protocol Worker: SendableMetatype {
        var memberCount: Int { get }
        mutating func runEnvStep() -> Int
    }

    static func partition(members: Int, threads: Int) -> [Range<Int>] {
        (0..<threads).map { t in (members * t / threads)..<(members * (t + 1) / threads) }
    }

    /// `frames` observation frames of `members x d` values, uniform in [-2, 2].
    static func observations(d: Int, frames: Int, members: Int, seed: UInt64) -> [[Float]] {
        var stream = CounterStream(seed: seed, generation: 0, member: 0, purpose: .auxiliary)
        return (0..<frames).map { _ in (0..<(members * d)).map { _ in Float(stream.nextUniform(-2, 2)) } }
    }

    static func randomConnectivity(_ shape: NetworkShape, member: Int, seed: UInt64) -> [UInt64] {
        var stream = CounterStream(seed: seed, generation: 0, member: member, purpose: .connectivity)
        return (0..<shape.wordsPerMember).map { _ in stream.next() }  // each bit set with probability 0.5
    }

    struct BitsetWorker: Worker {
        var population: BitsetPopulation
        let d: Int
        let a: Int
        let frames: [[Float]]
        var outputs: [Float]
        var frame = 0
        var memberCount: Int { population.members }

        init(shape: NetworkShape, members range: Range<Int>, seed: UInt64, observations: [[Float]]) {
            var population = BitsetPopulation(shape: shape, members: range.count)
            var words: [UInt64] = []
            var membrane: [Float] = []
            for m in range {
                words += NetworkBenchmark.randomConnectivity(shape, member: m, seed: seed)
                membrane += shape.initialMembrane(seed: seed, generation: 0, member: m)
            }
            words.withUnsafeBufferPointer { population.load(connectivity: $0) }
            membrane.withUnsafeBufferPointer { population.reset(initialMembrane: $0) }
            self.population = population
            d = shape.observationSize
            a = shape.actionSize
            frames = observations.map { Array($0[(range.lowerBound * shape.observationSize)..<(range.upperBound * shape.observationSize)]) }
            outputs = [Float](repeating: 0, count: range.count * shape.actionSize)
        }

        mutating func runEnvStep() -> Int {
            let x = frames[frame]
            frame = (frame + 1) % frames.count
            x.withUnsafeBufferPointer { xb in
                outputs.withUnsafeMutableBufferPointer { population.step(observations: xb, outputs: $0) }
            }
            var spikes = 0
            for m in 0..<population.members { spikes += population.lastStepSpikeCount(member: m) }
            return spikes
        }
    }

    /// The step API that `ReferenceNetwork` and `DenseSNN` share.
    protocol SingleNetwork {
        mutating func step(observation: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>)
        var lastStepSpikeCount: Int { get }
    }

    /// Members run one network at a time (the reference and the DenseSNN baseline).
    struct SingleNetworkWorker<Network: SingleNetwork>: Worker {
        var networks: [Network]
        let d: Int
        let frames: [[Float]]
        var output: [Float]
        var frame = 0
        var memberCount: Int { networks.count }

        /// `make(m)` builds member m's network, loaded and reset.
        init(
            observationSize: Int, actionSize: Int, members range: Range<Int>, observations: [[Float]],
            make: (Int) -> Network
        ) {
            networks = range.map(make)
            let d = observationSize
            self.d = d
            frames = observations.map { Array($0[(range.lowerBound * d)..<(range.upperBound * d)]) }
            output = [Float](repeating: 0, count: actionSize)
        }

        mutating func runEnvStep() -> Int {
            let x = frames[frame]
            frame = (frame + 1) % frames.count
            var spikes = 0
            x.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { y in
                    for m in networks.indices {
                        networks[m].step(observation: UnsafeBufferPointer(rebasing: xb[(m * d)..<((m + 1) * d)]), output: y)
                        spikes += networks[m].lastStepSpikeCount
                    }
                }
            }
            return spikes
        }
    }

    static func referenceWorker(
        shape: NetworkShape, members range: Range<Int>, seed: UInt64, observations: [[Float]]
    ) -> SingleNetworkWorker<ReferenceNetwork> {
        SingleNetworkWorker(
            observationSize: shape.observationSize, actionSize: shape.actionSize, members: range,
            observations: observations
        ) { m in
            var net = ReferenceNetwork(shape: shape)
            net.load(connectivity: NetworkBenchmark.randomConnectivity(shape, member: m, seed: seed))
            net.reset(initialMembrane: shape.initialMembrane(seed: seed, generation: 0, member: m))
            return net
        }
    }

    static func denseWorker(
        shape: DenseSNNShape, members range: Range<Int>, seed: UInt64, observations: [[Float]]
    ) -> SingleNetworkWorker<DenseSNN> {
        SingleNetworkWorker(
            observationSize: shape.observationSize, actionSize: shape.actionSize, members: range,
            observations: observations
        ) { m in
            var stream = CounterStream(seed: seed, generation: 0, member: m, purpose: .gaussianPerturbation)
            var net = DenseSNN(shape: shape)
            net.load(weights: (0..<shape.parameterCount).map { _ in Float(stream.nextNormal()) })
            net.reset(initialMembrane: shape.initialMembrane(seed: seed, generation: 0, member: m))
            return net
        }
    }

    /// Workers of one implementation (one per thread) and their accumulated measurement.
    struct Run<W: Worker> {
        let box: WorkerBox<W>
        var total = Measurement(steps: 0, spikes: 0, elapsed: 0)

        init(workers ranges: [Range<Int>], make: (Range<Int>) -> W) {
            box = WorkerBox(ranges.map(make))
            for cell in box.cells { _ = cell.worker.runEnvStep() }  // warm-up
        }

        /// Runs env steps on every worker at once (one thread each) until `seconds` have passed.
        mutating func measure(seconds: Double) {
            let box = self.box
            let start = DispatchTime.now().uptimeNanoseconds
            let deadline = start + UInt64(seconds * 1e9)
            DispatchQueue.concurrentPerform(iterations: box.cells.count) { t in
                let cell = box.cells[t]
                var steps = 0, spikes = 0
                repeat {
                    spikes += cell.worker.runEnvStep()
                    steps += cell.worker.memberCount
                } while DispatchTime.now().uptimeNanoseconds < deadline
                cell.steps = steps
                cell.spikes = spikes
            }
            total.elapsed += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for cell in box.cells {
                total.steps += cell.steps
                total.spikes += cell.spikes
            }
        }
    }

    /// Workers handed to `concurrentPerform`: thread t touches only cell t.
    final class WorkerBox<W: Worker>: @unchecked Sendable {
        final class Cell {
            var worker: W
            var steps = 0
            var spikes = 0
            init(_ worker: W) { self.worker = worker }
        }
        let cells: [Cell]
        init(_ workers: [W]) { cells = workers.map(Cell.init) }
    }

    static func format(_ value: Any) -> String {
        switch value {
        case let x as Double: return String(format: x >= 100 ? "%.1f" : "%.4g", x)
        default: return "\(value)"
        }
    }

    static func jsonObject(_ pairs: [(String, Any)]) -> String {
        let body = pairs.map { key, value -> String in
            let encoded: String
            switch value {
            case let s as String: encoded = "\"\(s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\""
            case let x as Double: encoded = x.isFinite ? "\(x)" : "null"
            default: encoded = "\(value)"
            }
            return "\"\(key)\": \(encoded)"
        }
        return "{" + body.joined(separator: ", ") + "}"
    }
}

extension ReferenceNetwork: NetworkBenchmark.SingleNetwork {}
extension DenseSNN: NetworkBenchmark.SingleNetwork {}

import Dispatch
import Environments
import Randomness
import Spiking

/// `satr bench network`: environment steps per second of the bitset kernel, the dense Float32
/// reference and the DenseSNN baseline on the same task-sized networks (random connectivity of
/// density 0.5, N(0, 1) DenseSNN weights), measured in one run, and their ratios.
public enum NetworkBenchmark {
    /// What to measure.
    public struct Settings: Sendable {
        /// The task whose observation and action sizes to use (a `TaskRegistry` id).
        public var environmentID: String
        /// Recurrent neurons N (a positive multiple of 64).
        public var neurons: Int
        /// Population members (each with its own connectivity), split evenly over the threads.
        public var members: Int
        /// Worker threads (each runs its share of the members).
        public var threads: Int
        /// Measuring time per implementation, in seconds (taken in turns of about 0.1 s).
        public var seconds: Double
        /// Seed of the random connectivity, weights and observations.
        public var seed: UInt64

        public init(environmentID: String, neurons: Int = 256, members: Int = 64, threads: Int = 1, seconds: Double = 1, seed: UInt64 = 1) {
            self.environmentID = environmentID
            self.neurons = neurons
            self.members = members
            self.threads = threads
            self.seconds = seconds
            self.seed = seed
        }
    }

    /// The density of the random connectivity (each bit set with probability 0.5).
    public static let connectionDensity = 0.5

    /// The result (`satr bench network --json`).
    public struct Result: Codable, Sendable, Equatable {
        public var benchmark = "network"
        /// The CLI's short task name (hopper, walker, humanoid).
        public var task: String
        public var observationSize: Int
        public var actionSize: Int
        public var neurons: Int
        public var members: Int
        public var threads: Int
        public var secondsPerImplementation: Double
        public var substepsPerEnvStep: Int
        public var parameterCount: Int
        public var denseSNNParameterCount: Int
        public var connectionDensity: Double
        public var kernelCodegen: String
        public var bitsetStepsPerSecond: Double
        public var referenceStepsPerSecond: Double
        public var denseSNNStepsPerSecond: Double
        public var speedupVsReference: Double
        public var speedupVsDenseSNN: Double
        public var bitsetSpikesPerNeuronSubstep: Double
        public var referenceSpikesPerNeuronSubstep: Double
        public var denseSNNSpikesPerNeuronSubstep: Double
        public var bitsetEnvStepsMeasured: Int
        public var referenceEnvStepsMeasured: Int
        public var denseSNNEnvStepsMeasured: Int

        enum CodingKeys: String, CodingKey {
            case benchmark, task, neurons, members, threads
            case observationSize = "observation_size", actionSize = "action_size"
            case secondsPerImplementation = "seconds_per_implementation", substepsPerEnvStep = "substeps_per_env_step"
            case parameterCount = "parameter_count", denseSNNParameterCount = "dense_snn_parameter_count"
            case connectionDensity = "connection_density", kernelCodegen = "kernel_codegen"
            case bitsetStepsPerSecond = "bitset_steps_per_s", referenceStepsPerSecond = "reference_steps_per_s"
            case denseSNNStepsPerSecond = "dense_snn_steps_per_s"
            case speedupVsReference = "speedup_vs_reference", speedupVsDenseSNN = "speedup_vs_dense_snn"
            case bitsetSpikesPerNeuronSubstep = "bitset_spikes_per_neuron_substep"
            case referenceSpikesPerNeuronSubstep = "reference_spikes_per_neuron_substep"
            case denseSNNSpikesPerNeuronSubstep = "dense_snn_spikes_per_neuron_substep"
            case bitsetEnvStepsMeasured = "bitset_env_steps_measured"
            case referenceEnvStepsMeasured = "reference_env_steps_measured"
            case denseSNNEnvStepsMeasured = "dense_snn_env_steps_measured"
        }
    }

    /// Runs the benchmark. `taskName` is only echoed in the result.
    public static func run(_ settings: Settings, taskName: String) throws -> Result {
        guard settings.members > 0, settings.threads > 0, settings.threads <= settings.members else {
            throw BenchmarkError("bench network needs 1 <= threads <= members (got \(settings.threads) threads, \(settings.members) members)")
        }
        guard settings.seconds > 0 else { throw BenchmarkError("bench network needs a positive measuring time (got \(settings.seconds) s)") }
        let spec = try TaskRegistry.spec(id: settings.environmentID)
        let d = spec.observationSize, a = spec.actionSize, neurons = settings.neurons, seed = settings.seed
        let shape = try NetworkShape(observationSize: d, actionSize: a, neurons: neurons)
        let denseShape = try DenseSNNShape(observationSize: d, actionSize: a, neurons: neurons)
        let workers = partition(members: settings.members, threads: settings.threads)
        let observations = observations(d: d, frames: 16, members: settings.members, seed: seed)

        // The three implementations take turns in short slices so that a change in machine load
        // during the run affects all of them alike.
        var bitsetRun = Run(workers: workers) { range in
            BitsetWorker(shape: shape, members: range, seed: seed, observations: observations)
        }
        var referenceRun = Run(workers: workers) { range in
            referenceWorker(shape: shape, members: range, seed: seed, observations: observations)
        }
        var denseRun = Run(workers: workers) { range in
            denseWorker(shape: denseShape, members: range, seed: seed, observations: observations)
        }
        let slices = max(1, Int((settings.seconds / 0.1).rounded()))
        for _ in 0..<slices {
            bitsetRun.measure(seconds: settings.seconds / Double(slices))
            referenceRun.measure(seconds: settings.seconds / Double(slices))
            denseRun.measure(seconds: settings.seconds / Double(slices))
        }
        let bitset = bitsetRun.total, reference = referenceRun.total, dense = denseRun.total
        let substeps = NetworkConstants.substepsPerEnvStep
        func spikeRate(_ m: Measurement) -> Double {
            Double(m.spikes) / (Double(m.steps) * Double(substeps) * Double(neurons))
        }
        let result = Result(
            task: taskName, observationSize: d, actionSize: a, neurons: neurons, members: settings.members,
            threads: settings.threads, secondsPerImplementation: settings.seconds, substepsPerEnvStep: substeps,
            parameterCount: shape.parameterCount, denseSNNParameterCount: denseShape.parameterCount,
            connectionDensity: connectionDensity, kernelCodegen: Spiking.codegenDescription,
            bitsetStepsPerSecond: bitset.stepsPerSecond, referenceStepsPerSecond: reference.stepsPerSecond,
            denseSNNStepsPerSecond: dense.stepsPerSecond,
            speedupVsReference: bitset.stepsPerSecond / reference.stepsPerSecond,
            speedupVsDenseSNN: bitset.stepsPerSecond / dense.stepsPerSecond,
            bitsetSpikesPerNeuronSubstep: spikeRate(bitset), referenceSpikesPerNeuronSubstep: spikeRate(reference),
            denseSNNSpikesPerNeuronSubstep: spikeRate(dense),
            bitsetEnvStepsMeasured: bitset.steps, referenceEnvStepsMeasured: reference.steps, denseSNNEnvStepsMeasured: dense.steps)
        try requireMeasured([
            "bitset_steps_per_s": result.bitsetStepsPerSecond, "reference_steps_per_s": result.referenceStepsPerSecond,
            "dense_snn_steps_per_s": result.denseSNNStepsPerSecond, "speedup_vs_reference": result.speedupVsReference,
            "speedup_vs_dense_snn": result.speedupVsDenseSNN,
        ], in: "bench network")
        return result
    }

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
            let start = BenchmarkClock.now()
            let deadline = start + UInt64(seconds * 1e9)
            DispatchQueue.concurrentPerform(iterations: box.cells.count) { t in
                let cell = box.cells[t]
                var steps = 0, spikes = 0
                repeat {
                    spikes += cell.worker.runEnvStep()
                    steps += cell.worker.memberCount
                } while BenchmarkClock.now() < deadline
                cell.steps = steps
                cell.spikes = spikes
            }
            total.elapsed += BenchmarkClock.seconds(from: start, to: BenchmarkClock.now())
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
}

extension ReferenceNetwork: NetworkBenchmark.SingleNetwork {}
extension DenseSNN: NetworkBenchmark.SingleNetwork {}

import ArgumentParser
import Benchmarks
import Foundation

/// `satr bench network`: parses the flags of `NetworkBenchmark` and prints its result.
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
        /// The Gymnasium id (its observation and action sizes come from the registry).
        var environmentID: String {
            switch self {
            case .hopper: return "Hopper-v5"
            case .walker: return "Walker2d-v5"
            case .humanoid: return "Humanoid-v5"
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
        let r: NetworkBenchmark.Result
        do {
            r = try NetworkBenchmark.run(
                .init(environmentID: task.environmentID, neurons: neurons, members: members, threads: threads, seconds: seconds, seed: seed),
                taskName: task.rawValue)
        } catch {
            throw CLIError(error)
        }
        if json { return try printJSON(r) }
        let rows: [(String, String)] = [
            ("benchmark", r.benchmark), ("task", r.task), ("observation_size", "\(r.observationSize)"),
            ("action_size", "\(r.actionSize)"), ("neurons", "\(r.neurons)"), ("members", "\(r.members)"),
            ("threads", "\(r.threads)"), ("seconds_per_implementation", number(r.secondsPerImplementation)),
            ("substeps_per_env_step", "\(r.substepsPerEnvStep)"), ("parameter_count", "\(r.parameterCount)"),
            ("dense_snn_parameter_count", "\(r.denseSNNParameterCount)"), ("connection_density", number(r.connectionDensity)),
            ("kernel_codegen", r.kernelCodegen),
            ("bitset_steps_per_s", number(r.bitsetStepsPerSecond)), ("reference_steps_per_s", number(r.referenceStepsPerSecond)),
            ("dense_snn_steps_per_s", number(r.denseSNNStepsPerSecond)),
            ("speedup_vs_reference", number(r.speedupVsReference)), ("speedup_vs_dense_snn", number(r.speedupVsDenseSNN)),
            ("bitset_spikes_per_neuron_substep", number(r.bitsetSpikesPerNeuronSubstep)),
            ("reference_spikes_per_neuron_substep", number(r.referenceSpikesPerNeuronSubstep)),
            ("dense_snn_spikes_per_neuron_substep", number(r.denseSNNSpikesPerNeuronSubstep)),
            ("bitset_env_steps_measured", "\(r.bitsetEnvStepsMeasured)"),
            ("reference_env_steps_measured", "\(r.referenceEnvStepsMeasured)"),
            ("dense_snn_env_steps_measured", "\(r.denseSNNEnvStepsMeasured)"),
        ]
        for (key, value) in rows {
            print("\(key.padding(toLength: 36, withPad: " ", startingAt: 0)) \(value)")
        }
    }

    func number(_ x: Double) -> String { String(format: x >= 100 ? "%.1f" : "%.4g", x) }
}

import ArgumentParser
import Benchmarks
import Foundation

/// `satr bench search`: parses the flags of `SearchBenchmark` and prints its result.
struct BenchSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Benchmark the optimizers (no environment), or run the synthetic comparisons.",
        discussion: """
            Times --generations generations (after one warm-up generation) of EC, SATR and Gaussian ES \
            with pure-noise fitnesses and prints the mean time per generation of each phase. The ratio \
            column divides the optimizer's time (sample + shaping + statistics + update) by the \
            environment-only time of the same population's episodes on the task (M x the task's \
            episode limit, 1000 steps, at the env steps/s measured in the same run with random actions, \
            resets included; the network is not counted, so this is a lower bound of the rollout time \
            and the ratio an upper bound). Use a release build:
              swift run -c release satr bench search --task hopper --population 256 --json
              swift run -c release satr bench search --synthetic
            """)

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case hopper, humanoid
        /// The Gymnasium id.
        var environmentID: String { self == .hopper ? "Hopper-v5" : "Humanoid-v5" }
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
        let r: SearchBenchmark.Result
        do {
            r = try SearchBenchmark.run(
                .init(environmentID: task.environmentID, bits: bits, population: population, generations: generations,
                      threads: threads, includeES: !skipES),
                taskName: task.rawValue)
        } catch {
            throw CLIError(error)
        }
        if json { return try printJSON(r) }
        print("d = \(r.bits) (\(bits == nil ? r.task : "--bits")), M = \(r.population), \(r.generations) generations, \(r.threads) thread(s)")
        print(
            "\(r.environment): \(Int(r.environmentStepsPerSecond)) env steps/s measured in this run, "
                + "so M x \(r.episodeSteps) steps take \(String(format: "%.2f", r.environmentRolloutSeconds)) s")
        print("optimizer  dimension  sample ms  shape ms  statistics ms  update ms  total ms  / env rollout")
        for row in r.optimizers {
            func ms(_ seconds: Double) -> String { String(format: "%9.2f", seconds * 1e3) }
            print(
                "\(row.optimizer.padding(toLength: 9, withPad: " ", startingAt: 0))  "
                    + "\(String(format: "%9d", row.dimension))  \(ms(row.sampleSeconds))  \(ms(row.shapeSeconds))"
                    + "      \(ms(row.statisticsSeconds))  \(ms(row.updateSeconds))  \(ms(row.totalSeconds))  "
                    + String(format: "%.4f%%", 100 * row.overheadRatio))
        }
    }

    /// The synthetic comparisons of docs/SEARCH.md: one text line per row as it finishes, or one
    /// JSON object at the end.
    func runSynthetic() throws {
        let json = self.json
        let result: SearchBenchmark.SyntheticResult
        do {
            result = try SearchBenchmark.runSynthetic(seeds: seeds, threads: threads) { row in
                if !json { print(Self.text(row)) }
            }
        } catch {
            throw CLIError(error)
        }
        if json { try printJSON(result) }
    }

    static func text(_ row: SearchBenchmark.SyntheticRow) -> String {
        switch row.problem {
        case "noisy-linear":
            return String(format: "noisy linear  M = %3d seed %d: found/optimum EC %.3f  SATR %.3f",
                          row.population, row.seed, row.ecFound ?? .nan, row.satrFound ?? .nan)
        case "sparse-linear":
            return "sparse linear d = \(row.bits.map(String.init) ?? "?") M = \(row.population) seed \(row.seed): generations to optimum "
                + "EC \(row.ecGenerations.map(String.init) ?? "?")  SATR \(row.satrGenerations.map(String.init) ?? "?")  (-1: not within 300)"
        default:
            return String(format: "pure noise    M = %d seed %d: KL/gen EC %.2f SATR %.2f; mean rho(1-rho) after 100 gens EC %.4f SATR %.4f",
                          row.population, row.seed, row.ecMeanKL ?? .nan, row.satrMeanKL ?? .nan,
                          row.ecMeanVariance ?? .nan, row.satrMeanVariance ?? .nan)
        }
    }
}

import ArgumentParser
import Foundation
import Training

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a trained deterministic policy: return mean/std/min/max and episode lengths.",
        discussion: """
        POLICY_OR_DIR is a policy file (policy.json) or a `satr train` output directory. Episode e \
        draws its network state and reset noise from seeds derived from (--seed, e); the result \
        does not depend on --threads. The environment options are the ones the policy was trained \
        with unless given here.
        """)

    @Argument(help: "A policy.json file or a training output directory.")
    var policy: String
    @Option(help: "Number of episodes.")
    var episodes: Int = 10
    @Option(help: "Evaluation seed.")
    var seed: UInt64 = 0
    @Option(help: "Worker threads (0 = one per core).")
    var threads: Int = 0
    @Option(help: "Environment: reset noise scale (default: the policy's training setting).")
    var resetNoiseScale: Double?
    @Option(help: "Environment: end episodes when unhealthy, true or false (default: the policy's training setting).")
    var terminateWhenUnhealthy: Bool?
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1 (got \(episodes))") }
        guard threads >= 0 else { throw ValidationError("--threads must be >= 0 (got \(threads))") }
    }

    func run() throws {
        do {
            let file = try PolicyFile.load(path: policy)
            var options = file.environmentOptions
            if let resetNoiseScale { options.resetNoiseScale = resetNoiseScale }
            if let terminateWhenUnhealthy { options.terminateWhenUnhealthy = terminateWhenUnhealthy }
            let threadCount = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
            // Bitset policies: the same episodes, with the operations counted from every substep's
            // spikes (docs/ENERGY.md); dense policies: returns only.
            let e: EvaluationSummary
            var energy: EnergyReport?
            if file.network == .bitset {
                let counted = try PolicyEvaluation.evaluateWithActivity(
                    policy: file, episodes: episodes, seed: seed, threads: threadCount, options: options)
                e = counted.summary
                energy = EnergyReport(shape: try file.networkShape(), operations: counted.operations)
            } else {
                e = try PolicyEvaluation.evaluate(policy: file, episodes: episodes, seed: seed, threads: threadCount, options: options)
            }
            if json {
                try printJSON(EvaluationReport(
                    task: file.task, network: file.network.rawValue, neurons: file.neurons, seed: seed, summary: e, energy: energy))
            } else {
                print("""
                \(file.task), \(file.network.rawValue) network N=\(file.neurons), \(episodes) episodes (seed \(seed))
                return: mean \(format(e.mean))  std \(format(e.standardDeviation))  min \(format(e.minimum))  max \(format(e.maximum))
                episode length: mean \(format(e.meanLength))  min \(e.lengths.min() ?? 0)  max \(e.lengths.max() ?? 0)
                """)
                if let energy { print(energy.humanReport) }
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CLIError(error)
        }
    }
}

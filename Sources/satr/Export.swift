import ArgumentParser
import Foundation
import Training

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the deterministic policy of a run (or checkpoint) as a policy file (docs/POLICY_FORMAT.md).",
        discussion: """
        SOURCE is a training output directory, a checkpoint file or a policy file. From a \
        checkpoint, the policy is its distribution's most likely network (rho > 0.5, or the ES \
        mean) with its normalizer, at the checkpoint's generation.
        """)

    @Argument(help: "A run directory, checkpoint.satr or policy.json.")
    var source: String
    @Option(help: "Output file (default: standard output).")
    var out: String?

    func run() throws {
        do {
            let policy = try PolicyExport.policy(from: source)
            let data = try policy.jsonData()
            if let out {
                try AtomicFile.write(data, to: URL(fileURLWithPath: out))
                FileHandle.standardError.write(Data("wrote \(out) (\(policy.task), \(policy.network.rawValue) N=\(policy.neurons), generation \(policy.training.generation))\n".utf8))
            } else {
                FileHandle.standardOutput.write(data)
                FileHandle.standardOutput.write(Data("\n".utf8))
            }
        } catch {
            throw CLIError(error)
        }
    }
}

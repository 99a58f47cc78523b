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
        mean) with its normalizer, at the checkpoint's generation. With --format nir (bitset \
        networks), --out is a NIR graph (Neuromorphic Intermediate Representation) in NIR's HDF5 \
        layout; docs/NIR.md says how the network maps to NIR's primitives.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, nir
    }

    @Argument(help: "A run directory, checkpoint.satr or policy.json.")
    var source: String
    @Option(help: "Output file (default: standard output; required for nir).")
    var out: String?
    @Option(help: "Output format: json (the policy file) or nir (NIR graph, HDF5).")
    var format: Format = .json

    func validate() throws {
        if format == .nir && out == nil { throw ValidationError("--format nir writes a binary HDF5 file: give --out FILE.nir") }
    }

    func run() throws {
        do {
            let policy = try PolicyExport.policy(from: source)
            if format == .nir, let out {
                let graph = try NIRExport.graph(policy: policy)
                try NIRFileWriter.write(graph, to: URL(fileURLWithPath: out))
                FileHandle.standardError.write(Data("wrote \(out) (NIR graph of \(policy.task), N=\(policy.neurons): \(graph.nodes.count) nodes, \(graph.edges.count) edges)\n".utf8))
                return
            }
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

import ArgumentParser
import Foundation
import Spiking

/// `satr info`: the build and which kernels run on this machine.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the build type, the CPU features and which kernel level runs.",
        discussion: """
            The hot kernels (recurrent AND + popcount and neuron update, Bernoulli sampling, statistics \
            accumulation) are compiled for several CPU levels in one binary; the best level this CPU \
            supports runs unless SATR_KERNEL=baseline|popcnt|avx2|avx512 forces one (a level the CPU lacks \
            stops the program). Results are bit-identical on every level.
            """)

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    struct Report: Encodable {
        var build: String
        var architecture: String
        var cpuFeatures: String
        var kernelLevels: [String: Bool]
        var bestKernelLevel: String
        var kernelLevel: String
        var kernelLevelForcedBy: String?

        enum CodingKeys: String, CodingKey {
            case build, architecture, cpuFeatures = "cpu_features", kernelLevels = "kernel_levels"
            case bestKernelLevel = "best_kernel_level", kernelLevel = "kernel_level"
            case kernelLevelForcedBy = "kernel_level_forced_by"
        }
    }

    static var report: Report {
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let architecture = Spiking.architecture
        let forced = ProcessInfo.processInfo.environment["SATR_KERNEL"].flatMap { $0.isEmpty ? nil : "SATR_KERNEL=\($0)" }
        return Report(
            build: build, architecture: architecture, cpuFeatures: KernelLevel.cpuFeatures,
            kernelLevels: Dictionary(uniqueKeysWithValues: KernelLevel.allCases.map { ($0.description, $0.isSupported) }),
            bestKernelLevel: KernelLevel.best.description, kernelLevel: KernelLevel.active.description,
            kernelLevelForcedBy: forced)
    }

    func run() throws {
        let r = Self.report
        if json { return try printJSON(r) }
        print("build: \(r.build) (\(r.architecture))")
        print("cpu features: \(r.cpuFeatures)")
        let levels = KernelLevel.allCases.map { "\($0) (\($0.isSupported ? "supported" : "not supported"))" }
        print("kernel levels: \(levels.joined(separator: ", "))")
        print("kernel level: \(r.kernelLevel) (\(r.kernelLevelForcedBy.map { "forced by \($0)" } ?? "the best this CPU supports"))")
    }
}

import ArgumentParser
import Foundation
import Training

struct Raster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raster",
        abstract: "Spike raster and activity figure of one evaluation episode (SVG, or PNG via rsvg-convert).",
        discussion: """
        Runs evaluation episode 0 of `satr eval --seed S` (the same episode, cut at --steps) and \
        draws every substep's spikes (excitatory and inhibitory neurons apart), the population \
        rates per env step, and the actions. --out FILE.png converts the SVG with rsvg-convert \
        (librsvg2-bin). --json FILE also writes the recorded episode: raw and normalized \
        observations, the initial membrane, the spiking neurons of every substep, y and the actions \
        (the NIR cross-check, scripts/test-nir.sh, replays it).
        """)

    @Argument(help: "A policy.json file or a training output directory (bitset network).")
    var policy: String
    @Option(help: "Output figure: FILE.svg or FILE.png.")
    var out: String
    @Option(help: "Environment steps to record (at most; the episode may end earlier).")
    var steps: Int = 100
    @Option(help: "Evaluation seed (episode 0 of satr eval --seed).")
    var seed: UInt64 = 0
    @Option(help: "Also write the recorded episode as JSON to this file.")
    var json: String?

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        _ = try FigureOutput(out)
    }

    func run() throws {
        do {
            let file = try PolicyFile.load(path: policy)
            let trace = try NetworkTrace.record(policy: file, seed: seed, maxSteps: steps)
            if let json {
                try AtomicFile.write(try JSONCoding.encoder().encode(trace), to: URL(fileURLWithPath: json))
            }
            let svg = RasterPlot.svg(trace)
            _ = try FigureOutput(out).write(svg: svg, pngBeside: false)
            let spikes = trace.spikes.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
            print("wrote \(out) (\(trace.task), \(trace.steps) steps, \(spikes) spikes\(json.map { "; trace \($0)" } ?? ""))")
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CLIError(error)
        }
    }
}

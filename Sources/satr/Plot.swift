import ArgumentParser
import Foundation
import Training

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot learning curves (return vs. env steps and vs. wall time) of one or more runs to SVG (and PNG).",
        discussion: """
        Runs with the same task, algorithm, population and neurons are treated as seeds of one \
        configuration: drawn as their mean with a min-max band. `LABEL=DIR` names a run's group \
        yourself (runs with the same LABEL are seeds of one setting, e.g. two SATR variants). A \
        PNG is written beside the SVG when `rsvg-convert` (librsvg2-bin) is on PATH; `--out \
        FILE.png` requires it (the SVG is written beside the PNG).
        """)

    @Argument(help: "Training output directories, each optionally as LABEL=DIR.")
    var runs: [String]
    @Option(help: "Output figure: FILE.svg (a PNG beside it when possible) or FILE.png (the SVG beside it).")
    var out: String = "learning_curves.svg"
    @Option(help: "Plot title.")
    var title: String?
    @Option(help: "Draw each run up to this many env steps only (default: the whole run).")
    var maxEnvSteps: Int?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
        if let maxEnvSteps, maxEnvSteps < 1 { throw ValidationError("--max-env-steps must be at least 1 (got \(maxEnvSteps))") }
        _ = try FigureOutput(out)
    }

    func run() throws {
        let curves: [RunCurve]
        do {
            curves = try runs.map(RunCurve.load(labelled:)).map { curve in
                maxEnvSteps.map { curve.truncated(atEnvSteps: Double($0)) } ?? curve
            }
        } catch {
            throw CLIError(error)
        }
        let svg = LearningCurvePlot.svg(curves, title: title)
        let written: [String]
        do {
            written = try FigureOutput(out).write(svg: svg, pngBeside: true)
        } catch {
            throw CLIError(error)
        }
        for path in written { print("wrote \(path)") }
    }
}

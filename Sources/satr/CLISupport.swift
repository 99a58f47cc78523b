import ArgumentParser
import Foundation
import Training

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error shown to the user as its own description (no type names, no stack).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ error: Error) {
        if let e = error as? CLIError {
            description = e.description
        } else {
            description = "\(error)"
        }
    }
    init(message: String) { description = message }
}

/// The progress line of `satr train`: on a terminal (stderr is a TTY), one line rewritten in place
/// after each generation; nothing otherwise.
final class ProgressLine {
    let enabled: Bool
    private var wrote = false

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    var report: ((ProgressReport) -> Void)? {
        guard enabled else { return nil }
        return { [self] p in
            let generations = p.totalGenerations.map { "gen \(p.generation)/\($0)" } ?? "gen \(p.generation)"
            let steps = p.maxEnvSteps.map { "\(formatCount(Double(p.envSteps)))/\(formatCount(Double($0))) steps" }
                ?? "\(formatCount(Double(p.envSteps))) steps"
            var line = "\(generations)  \(steps)  \(formatCount(p.stepsPerSecond)) steps/s"
            if p.generationBest.isFinite { line += "  gen best \(format(p.generationBest))" }
            if let e = p.evalReturn { line += "  eval \(format(e))" }
            line += "  ETA \(formatDuration(p.etaSeconds))"
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            wrote = true
        }
    }

    func finish() {
        if wrote { FileHandle.standardError.write(Data("\n".utf8)) }
        wrote = false
    }
}

/// Where a figure command writes: `--out FILE.svg` or `--out FILE.png`.
///
/// `FILE.svg` writes the SVG (and, when `pngBeside` is set, `FILE.png` beside it if
/// `rsvg-convert` is on PATH). `FILE.png` writes `FILE.svg` and converts it; without
/// `rsvg-convert` that is an error which says so (the SVG is kept). Any other suffix is refused
/// before any work is done, so a figure is never written in a format its name does not say.
struct FigureOutput {
    let path: String

    init(_ path: String) throws {
        guard path.hasSuffix(".svg") || path.hasSuffix(".png") else {
            throw ValidationError("--out must end in .svg or .png (got \(path))")
        }
        self.path = path
    }

    /// Writes `svg` as described above; returns the paths written, SVG first.
    func write(svg: String, pngBeside: Bool) throws -> [String] {
        let svgPath = path.hasSuffix(".svg") ? path : String(path.dropLast(4)) + ".svg"
        try AtomicFile.write(Data(svg.utf8), to: URL(fileURLWithPath: svgPath))
        let pngPath = String(svgPath.dropLast(4)) + ".png"
        if path.hasSuffix(".png") {
            guard let png = LearningCurvePlot.convertToPNG(svgPath: svgPath, pngPath: pngPath) else {
                throw CLIError(message: "could not convert \(svgPath) to PNG: rsvg-convert was not found or failed (install librsvg2-bin; the SVG is written)")
            }
            return [svgPath, png]
        }
        guard pngBeside, let png = LearningCurvePlot.convertToPNG(svgPath: svgPath, pngPath: pngPath) else { return [svgPath] }
        return [svgPath, png]
    }
}

/// Writing learning-curve plots (SVG, and PNG when `rsvg-convert` is available).
enum PlotOutput {
    /// Renders the runs in `runs` to `svgPath` (and a PNG beside it when possible). Returns a
    /// description of the written files, or nil when nothing could be written.
    static func write(runs: [String], svgPath: String, title: String? = nil) -> String? {
        guard let curves = try? runs.map(RunCurve.load(labelled:)),
              let written = try? FigureOutput(svgPath).write(svg: LearningCurvePlot.svg(curves, title: title), pngBeside: true)
        else { return nil }
        return written.count > 1 ? "\(written[0]) (and \(written[1]))" : written[0]
    }
}

func format(_ v: Double) -> String {
    guard v.isFinite else { return "\(v)" }
    if abs(v) >= 100 { return String(format: "%.1f", v) }
    return String(format: "%.3f", v)
}

func formatCount(_ v: Double) -> String {
    if v >= 1e6 { return String(format: "%.2fM", v / 1e6) }
    if v >= 1e4 { return String(format: "%.1fk", v / 1e3) }
    return String(format: "%.0f", v)
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return String(format: "%.1fs", seconds)
}

/// Prints `value` as one line of JSON with the project's shared encoder (`JSONCoding`: sorted
/// keys, no escaped slashes, non-finite numbers as "inf"/"-inf"/"nan").
func printJSON<T: Encodable>(_ value: T) throws {
    print(String(decoding: try JSONCoding.encoder().encode(value), as: UTF8.self))
}

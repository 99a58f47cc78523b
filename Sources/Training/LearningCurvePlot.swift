import Foundation

/// One run's learning curve, read from its output directory.
public struct RunCurve: Sendable {
    /// The run directory.
    public var directory: String
    /// Runs with the same label (same task, algorithm, population or population schedule, and
    /// neurons) are seeds of one configuration: they are averaged together.
    public var label: String
    /// What `returns` holds: "eval return" (the deterministic network) or "fitness mean" when the
    /// run has no evaluations yet.
    public var quantity: String
    public var envSteps: [Double]
    public var wallSeconds: [Double]
    public var returns: [Double]

    /// `DIR`, or `LABEL=DIR` with the group label given (when DIR is a directory).
    public static func load(labelled argument: String) throws -> RunCurve {
        if let eq = argument.firstIndex(of: "="), !FileManager.default.fileExists(atPath: argument) {
            var curve = try load(directory: String(argument[argument.index(after: eq)...]))
            curve.label = String(argument[..<eq])
            return curve
        }
        return try load(directory: argument)
    }

    /// Reads `DIR/config.json` (for the label) and `DIR/metrics.jsonl`.
    public static func load(directory: String) throws -> RunCurve {
        let dir = URL(fileURLWithPath: directory)
        let metricsURL = dir.appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metricsURL.path) else {
            throw IOError(description: "\(directory) has no metrics.jsonl (is it the output directory of `satr train`?)")
        }
        var label = dir.lastPathComponent
        if let config = try? TrainingConfig.load(contentsOf: dir.appendingPathComponent("config.json")) {
            let population = config.populationStart.map { "\($0)-\(config.population)" } ?? "\(config.population)"
            label = "\(config.algo.rawValue.uppercased()) \(config.env) M=\(population) N=\(config.neurons)"
        }
        let rows = try MetricsFile.read(metricsURL)
        var curve = RunCurve(directory: directory, label: label, quantity: "eval return", envSteps: [], wallSeconds: [], returns: [])
        func append(_ row: MetricsLine, _ y: Double, steps: Int) {
            curve.envSteps.append(Double(steps))
            curve.wallSeconds.append(row.wallSeconds ?? 0)
            curve.returns.append(y)
        }
        var lastGeneration = 0
        for row in rows {
            guard let steps = row.envSteps, let y = row.evalReturnMean else { continue }
            append(row, y, steps: steps)
            lastGeneration = row.generation
        }
        // The final evaluation of a run that ended off the evaluation schedule.
        if let final = try? MetricsFile.read(dir.appendingPathComponent(RunFiles.evaluation)).first,
           final.generation > lastGeneration, let steps = final.envSteps, let y = final.evalReturnMean {
            append(final, y, steps: steps)
        }
        if curve.returns.isEmpty {
            curve.quantity = "fitness mean"
            for row in rows {
                guard let steps = row.envSteps, let y = row.fitnessMean else { continue }
                append(row, y, steps: steps)
            }
        }
        return curve
    }

    /// The curve up to `limit` env steps: the points with `envSteps <= limit` (to compare runs
    /// of different lengths at one budget, e.g. a run continued to 20M at its first 10M).
    public func truncated(atEnvSteps limit: Double) -> RunCurve {
        var curve = self
        let kept = envSteps.indices.filter { envSteps[$0] <= limit }
        curve.envSteps = kept.map { envSteps[$0] }
        curve.wallSeconds = kept.map { wallSeconds[$0] }
        curve.returns = kept.map { returns[$0] }
        return curve
    }
}

/// Renders learning curves to SVG: return vs. environment steps and return vs. wall time, side by
/// side; runs of the same configuration (different seeds) are drawn as their mean with a band from
/// the minimum to the maximum across seeds (a run that ended earlier is held at its last value),
/// and each seed as a thin line.
public enum LearningCurvePlot {
    struct Series {
        var label: String
        var color: String
        var runs: [(x: [Double], y: [Double])]
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The SVG document for `curves`.
    public static func svg(_ curves: [RunCurve], title: String? = nil) -> String {
        var groups: [(label: String, curves: [RunCurve])] = []
        for c in curves {
            if let i = groups.firstIndex(where: { $0.label == c.label }) {
                groups[i].curves.append(c)
            } else {
                groups.append((c.label, [c]))
            }
        }
        let quantity = Set(curves.map(\.quantity)).sorted().joined(separator: " / ")
        let width = 1200.0, height = 500.0 + 18 * Double(max(0, (groups.count - 1) / 2))
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="13">
        <rect width="100%" height="100%" fill="white"/>

        """
        let heading = title ?? "Learning curves (\(quantity))"
        out += "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(escape(heading))</text>\n"
        let panels: [(String, KeyPath<RunCurve, [Double]>, (Double) -> String)] = [
            ("environment steps", \RunCurve.envSteps, formatCount),
            ("wall time", \RunCurve.wallSeconds, formatDuration),
        ]
        for (p, panel) in panels.enumerated() {
            let series = groups.enumerated().map { (i, g) in
                Series(label: g.label + (g.curves.count > 1 ? " (\(g.curves.count) seeds)" : ""),
                       color: palette[i % palette.count],
                       runs: g.curves.map { ($0[keyPath: panel.1], $0.returns) })
            }
            // 40 px right of each panel: room for half of its last x tick label (e.g. "25m00s").
            out += drawPanel(series, frame: (x: 20 + Double(p) * width / 2, y: 40, w: width / 2 - 60, h: 350),
                             xLabel: panel.0, yLabel: quantity, formatX: panel.2)
        }
        // Legend: one line per configuration, in two columns.
        for (i, g) in groups.enumerated() {
            let lx = 80 + Double(i % 2) * 560
            let ly = height - 45 + Double(i / 2) * 18
            out += "<rect x=\"\(lx)\" y=\"\(ly - 10)\" width=\"22\" height=\"10\" fill=\"\(palette[i % palette.count])\" fill-opacity=\"0.3\" stroke=\"\(palette[i % palette.count])\"/>"
            out += "<text x=\"\(lx + 28)\" y=\"\(ly)\">\(escape(g.label + (g.curves.count > 1 ? " (\(g.curves.count) seeds: mean, min-max band)" : "")))</text>\n"
        }
        out += "</svg>\n"
        return out
    }

    static func drawPanel(_ series: [Series], frame: (x: Double, y: Double, w: Double, h: Double),
                          xLabel: String, yLabel: String, formatX: (Double) -> String) -> String {
        let left = frame.x + 60, right = frame.x + frame.w, top = frame.y + 10, bottom = frame.y + frame.h
        let allX = series.flatMap { $0.runs.flatMap(\.x) }, allY = series.flatMap { $0.runs.flatMap(\.y) }
        var out = ""
        guard let x0 = allX.min(), let x1 = allX.max(), let y0 = allY.min(), let y1 = allY.max() else {
            out += "<text x=\"\((left + right) / 2)\" y=\"\((top + bottom) / 2)\" text-anchor=\"middle\">no data yet</text>\n"
            return out
        }
        let xTicks = niceTicks(min(0, x0), x1 > x0 ? x1 : x0 + 1)
        let yTicks = niceTicks(y0, y1 > y0 ? y1 : y0 + 1)
        let xs = (lo: xTicks.first!, hi: xTicks.last!), ys = (lo: yTicks.first!, hi: yTicks.last!)
        func px(_ x: Double) -> Double { left + (x - xs.lo) / (xs.hi - xs.lo) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - ys.lo) / (ys.hi - ys.lo) * (bottom - top) }
        // Grid and axes.
        for t in yTicks {
            out += "<line x1=\"\(left)\" y1=\(q(py(t))) x2=\"\(right)\" y2=\(q(py(t))) stroke=\"#ddd\"/>"
            out += "<text x=\"\(left - 6)\" y=\(q(py(t) + 4)) text-anchor=\"end\">\(escape(formatCount(t)))</text>\n"
        }
        for t in xTicks {
            out += "<line x1=\(q(px(t))) y1=\"\(top)\" x2=\(q(px(t))) y2=\"\(bottom)\" stroke=\"#eee\"/>"
            out += "<text x=\(q(px(t))) y=\"\(bottom + 16)\" text-anchor=\"middle\">\(escape(formatX(t)))</text>\n"
        }
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(right - left)\" height=\"\(bottom - top)\" fill=\"none\" stroke=\"#333\"/>\n"
        out += "<text x=\"\((left + right) / 2)\" y=\"\(bottom + 36)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        out += "<text transform=\"translate(\(frame.x + 14),\((top + bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for s in series {
            // Individual runs, thin.
            if s.runs.count > 1 {
                for run in s.runs where !run.x.isEmpty {
                    out += polyline(zip(run.x, run.y).map { (px($0), py($1)) }, color: s.color, width: 0.8, opacity: 0.35)
                }
                // Mean and min-max band across the runs; a run that ended (fewer steps or less
                // time than another) is held at its last value.
                let lo = s.runs.compactMap(\.x.first).max() ?? 0
                let hi = s.runs.compactMap(\.x.last).max() ?? 0
                if hi > lo {
                    let grid = (0...100).map { lo + (hi - lo) * Double($0) / 100 }
                    var mean: [(Double, Double)] = [], upper: [(Double, Double)] = [], lower: [(Double, Double)] = []
                    for x in grid {
                        let values = s.runs.compactMap { interpolate($0.x, $0.y, at: x) }
                        guard !values.isEmpty else { continue }
                        mean.append((px(x), py(values.reduce(0, +) / Double(values.count))))
                        upper.append((px(x), py(values.max()!)))
                        lower.append((px(x), py(values.min()!)))
                    }
                    let band = upper + lower.reversed()
                    out += "<polygon points=\"\(band.map { "\(r($0.0)),\(r($0.1))" }.joined(separator: " "))\" fill=\"\(s.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
                    out += polyline(mean, color: s.color, width: 2.2, opacity: 1)
                }
            } else if let run = s.runs.first {
                let points = zip(run.x, run.y).map { (px($0), py($1)) }
                out += polyline(points, color: s.color, width: 2, opacity: 1)
                for (x, y) in points { out += "<circle cx=\(q(x)) cy=\(q(y)) r=\"2.2\" fill=\"\(s.color)\"/>" }
                out += "\n"
            }
        }
        return out
    }

    /// Linear interpolation of the curve (xs ascending) at x; its last value after its end; nil
    /// before its start.
    static func interpolate(_ xs: [Double], _ ys: [Double], at x: Double) -> Double? {
        guard let first = xs.first, let last = xs.last, x >= first else { return nil }
        if x >= last { return ys[ys.count - 1] }
        var i = 0
        while i + 1 < xs.count && xs[i + 1] < x { i += 1 }
        if i + 1 >= xs.count || xs[i + 1] == xs[i] { return ys[i] }
        let t = (x - xs[i]) / (xs[i + 1] - xs[i])
        return ys[i] + t * (ys[i + 1] - ys[i])
    }

    static func polyline(_ points: [(Double, Double)], color: String, width: Double, opacity: Double) -> String {
        guard !points.isEmpty else { return "" }
        return "<polyline points=\"\(points.map { "\(r($0.0)),\(r($0.1))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" stroke-opacity=\"\(opacity)\"/>\n"
    }

    /// About five round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = max(hi - lo, 1e-12)
        let raw = span / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let start = (lo / step).rounded(.down) * step
        var ticks: [Double] = []
        var t = start
        while t < hi + step * 0.999 && ticks.count < 30 {
            ticks.append(t)
            t += step
            if t >= hi { ticks.append(t); break }
        }
        return ticks.count >= 2 ? ticks : [start, start + step]
    }

    static func formatCount(_ v: Double) -> String {
        let a = abs(v)
        func trim(_ x: Double) -> String {
            let s = String(format: "%.2f", x)
            var t = s
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
            return t
        }
        if a >= 1e9 { return trim(v / 1e9) + "G" }
        if a >= 1e6 { return trim(v / 1e6) + "M" }
        if a >= 1e4 { return trim(v / 1e3) + "k" }
        return trim(v)
    }

    static func formatDuration(_ seconds: Double) -> String {
        if seconds >= 3600 { return String(format: "%.1fh", seconds / 3600) }
        if seconds >= 60 { return String(format: "%.0fm%02.0fs", (seconds / 60).rounded(.down), seconds.truncatingRemainder(dividingBy: 60)) }
        if seconds > 0 && seconds < 10 && seconds != seconds.rounded() { return String(format: "%.1fs", seconds) }
        return String(format: "%.0fs", seconds)
    }

    static func r(_ v: Double) -> String { String(format: "%.1f", v) }
    static func q(_ v: Double) -> String { "\"\(r(v))\"" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Converts an SVG file to PNG with `rsvg-convert` when it is on PATH; returns the PNG path,
    /// or nil when the tool is missing or fails.
    public static func convertToPNG(svgPath: String, pngPath: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let tool = path.split(separator: ":").map({ "\($0)/rsvg-convert" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-o", pngPath, svgPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? pngPath : nil
    }
}

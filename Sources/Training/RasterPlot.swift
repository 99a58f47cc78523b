import Foundation

/// The spike raster and activity figure of one recorded episode (`satr raster`), as SVG:
///
/// 1. the raster: one dot per spike at (substep, neuron), excitatory neurons `0 ..< N_E` (blue,
///    bottom) and inhibitory neurons (red, top) apart, with a line between them;
/// 2. the population rate over time: spikes per neuron per substep of each population, averaged
///    over each environment step (T substeps), in spikes per second (`/ dt`);
/// 3. the actions (after the clip and scaling) of each step.
public enum RasterPlot {
    static let excitatoryColor = "#1f77b4"
    static let inhibitoryColor = "#d62728"
    static let palette = ["#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    public static func svg(_ trace: NetworkTrace, dt: Double = 0.0005) -> String {
        let width = 900.0, left = 70.0, right = 880.0
        let rasterTop = 40.0, rasterHeight = 300.0
        let rateTop = rasterTop + rasterHeight + 40, rateHeight = 120.0
        let actionTop = rateTop + rateHeight + 40, actionHeight = 120.0
        let height = actionTop + actionHeight + 40
        let steps = trace.steps, t = trace.substeps, n = trace.neurons, nE = trace.excitatoryNeurons
        let totalSubsteps = max(steps * t, 1)
        func x(_ substep: Double) -> Double { left + substep / Double(totalSubsteps) * (right - left) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(r(width / 2))" y="20" text-anchor="middle" font-size="14">\(escape(trace.task)): spikes of N = \(n) neurons over \(steps) env steps x \(t) substeps</text>

        """
        // 1. Raster: neuron 0 at the bottom; inhibitory above the excitatory ones.
        let dotW = max((right - left) / Double(totalSubsteps), 0.6), dotH = max(rasterHeight / Double(n), 0.6)
        func y(_ neuron: Int) -> Double { rasterTop + rasterHeight - (Double(neuron) + 1) / Double(n) * rasterHeight }
        s += "<rect x=\(q(left)) y=\(q(rasterTop)) width=\(q(right - left)) height=\(q(rasterHeight)) fill=\"none\" stroke=\"#999\"/>\n"
        for (excitatory, color) in [(true, excitatoryColor), (false, inhibitoryColor)] {
            s += "<g fill=\"\(color)\">"
            for k in 0..<steps {
                for sub in 0..<t {
                    let px = x(Double(k * t + sub))
                    for i in trace.spikes[k][sub] where (i < nE) == excitatory {
                        s += "<rect x=\"\(r(px))\" y=\"\(r(y(i)))\" width=\"\(r(dotW))\" height=\"\(r(dotH))\"/>"
                    }
                }
            }
            s += "</g>\n"
        }
        s += "<line x1=\(q(left)) x2=\(q(right)) y1=\(q(y(nE - 1))) y2=\(q(y(nE - 1))) stroke=\"#333\" stroke-dasharray=\"4 3\"/>\n"
        s += "<text x=\(q(left - 8)) y=\(q(rasterTop + rasterHeight * 0.75)) text-anchor=\"end\" fill=\"\(excitatoryColor)\">E</text>\n"
        s += "<text x=\(q(left - 8)) y=\(q(rasterTop + rasterHeight * 0.25)) text-anchor=\"end\" fill=\"\(inhibitoryColor)\">I</text>\n"
        s += "<text x=\(q(left - 30)) y=\(q(rasterTop + rasterHeight / 2)) text-anchor=\"middle\" transform=\"rotate(-90 \(r(left - 30)) \(r(rasterTop + rasterHeight / 2)))\">neuron</text>\n"

        // 2. Population rates per env step (spikes / neuron / s).
        var rateE: [Double] = [], rateI: [Double] = []
        for k in 0..<steps {
            var e = 0, i = 0
            for sub in 0..<t { for j in trace.spikes[k][sub] { if j < nE { e += 1 } else { i += 1 } } }
            rateE.append(Double(e) / (Double(max(nE, 1)) * Double(t) * dt))
            rateI.append(Double(i) / (Double(max(n - nE, 1)) * Double(t) * dt))
        }
        let stepX = { (k: Int) -> Double in x((Double(k) + 0.5) * Double(t)) }
        s += panel(top: rateTop, height: rateHeight, left: left, right: right, label: "rate (Hz)",
                   series: [(rateE, excitatoryColor, "excitatory"), (rateI, inhibitoryColor, "inhibitory")], x: stepX)
        // 3. Actions.
        let actionCount = trace.actions.first?.count ?? 0
        let actionSeries = (0..<actionCount).map { a in
            (trace.actions.map { $0[a] }, palette[a % palette.count], "action \(a)")
        }
        s += panel(top: actionTop, height: actionHeight, left: left, right: right, label: "action",
                   series: actionSeries, x: stepX)
        s += "<text x=\(q((left + right) / 2)) y=\(q(height - 10)) text-anchor=\"middle\">time: env step (\(t) substeps of \(r(dt * 1000)) ms each)</text>\n"
        s += "</svg>\n"
        return s
    }

    static func panel(top: Double, height: Double, left: Double, right: Double, label: String,
                      series: [([Double], String, String)], x: (Int) -> Double) -> String {
        let values = series.flatMap(\.0).filter(\.isFinite)
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        let nonNegative = lo >= 0
        lo -= pad; hi += pad
        if nonNegative { lo = max(lo, 0) }
        func y(_ v: Double) -> Double { top + height - (v - lo) / (hi - lo) * height }
        var s = "<rect x=\(q(left)) y=\(q(top)) width=\(q(right - left)) height=\(q(height)) fill=\"none\" stroke=\"#999\"/>\n"
        s += "<text x=\(q(left - 6)) y=\(q(top + 4)) text-anchor=\"end\">\(format(hi))</text>"
        s += "<text x=\(q(left - 6)) y=\(q(top + height)) text-anchor=\"end\">\(format(lo))</text>\n"
        s += "<text x=\(q(left - 40)) y=\(q(top + height / 2)) text-anchor=\"middle\" transform=\"rotate(-90 \(r(left - 40)) \(r(top + height / 2)))\">\(label)</text>\n"
        for (index, (ys, color, name)) in series.enumerated() {
            let points = ys.enumerated().filter { $0.element.isFinite }.map { "\(r(x($0.offset))),\(r(y($0.element)))" }
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.2\" points=\"\(points.joined(separator: " "))\"/>\n"
            s += "<text x=\(q(right - 4)) y=\(q(top + 14 + Double(index) * 13)) text-anchor=\"end\" fill=\"\(color)\">\(escape(name))</text>\n"
        }
        return s
    }

    static func format(_ v: Double) -> String { abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
    static func r(_ v: Double) -> String { String(format: "%.1f", v) }
    static func q(_ v: Double) -> String { "\"\(r(v))\"" }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

import Engine
import Foundation

/// The probes view (`g`): the metric against α, weight bits and NFE, one curve per model, the floor
/// dotted.
extension StudioView {
    func drawProbes(_ canvas: inout Canvas) {
        let rect = Rect(x: 1, y: 1, width: canvas.width - 2, height: canvas.height - 2)
        canvas.fill(rect)
        let probes = snapshot.probes
        let metric = probes?.metric.rawValue ?? "metric"
        let inner = canvas.panel(
            rect, title: "Probes · \(metric) against α, weight bits and NFE · g or Esc closes",
            style: style, highlighted: true)
        guard let probes else {
            canvas.text("starting…", in: inner, row: 0, foreground: theme.dim)
            return
        }
        let shownCurves = Array(probes.curves.prefix(max(1, inner.height / 4)))
        let legendHeight = shownCurves.count + 1
        let area = Rect(
            x: inner.x, y: inner.y, width: inner.width, height: inner.height - legendHeight)
        let palette = [theme.accent, theme.good, theme.warn, theme.bad, theme.title, theme.text]
        let values = shownCurves.flatMap { $0.alpha + $0.bits + $0.nfe }.compactMap { $0 }.filter(
            \.isFinite)
        let all = values + (probes.floor.map { [$0] } ?? [])
        let range = (all.min() ?? 0, max(all.max() ?? 1, (all.min() ?? 0) + 1e-9))
        let charts: [(KeyPath<ProbeCurve, [Double?]>, [String], String)] = [
            (\.alpha, Probes.alphas.map { Format.number($0) }, "noise α"),
            (\.bits, Probes.bits.map(String.init), "weight bits"),
            (\.nfe, Probes.nfe.map(String.init), "NFE (Heun)"),
        ]
        let side = area.width >= 3 * 24
        guard side ? area.height >= 6 : area.height >= 15 else {
            canvas.text(
                "enlarge the terminal for the charts", in: inner, row: 0, foreground: theme.warn)
            return drawProbeLegend(&canvas, inner, probes, shownCurves, palette, top: 1)
        }
        for (i, (path, labels, axis)) in charts.enumerated() {
            let chart =
                side
                ? Rect(
                    x: area.x + i * area.width / 3, y: area.y, width: area.width / 3 - 1,
                    height: area.height)
                : Rect(
                    x: area.x, y: area.y + i * area.height / 3, width: area.width,
                    height: area.height / 3)
            let curves = shownCurves.enumerated().reversed().map { index, curve in
                CurveChart.Curve(
                    values: curve[keyPath: path], color: palette[index % palette.count])
            }
            CurveChart.draw(
                curves, xLabels: labels, axis: axis, floor: probes.floor, range: range,
                into: &canvas, rect: chart, style: style)
        }
        drawProbeLegend(
            &canvas, inner, probes, shownCurves, palette, top: inner.height - legendHeight)
    }

    /// One line per model in its colour, with its value at the base point, then the floor and what
    /// is under way.
    func drawProbeLegend(
        _ canvas: inout Canvas, _ inner: Rect, _ probes: Probes, _ curves: [ProbeCurve],
        _ palette: [Int], top: Int
    ) {
        for (i, curve) in curves.enumerated() where top + i < inner.height {
            let base =
                curve.nfe.last.flatMap { $0 }
                .map { " · \(probes.metric) \(Format.number($0)) at α 0, 32 bits, NFE 35" } ?? ""
            canvas.text(
                "━━ \(curve.label), step \(Format.steps(curve.step))" + base, in: inner,
                row: top + i, column: 1,
                foreground: palette[i % palette.count], bold: i == 0)
        }
        let floor =
            probes.floor.map { "floor \(Format.number($0)) (true data, \(probes.count) samples)" }
            ?? "floor: after the first point"
        let line = floor + (probes.status.isEmpty ? " · done" : " · " + probes.status)
        canvas.text(
            line, in: inner, row: min(inner.height - 1, top + curves.count), column: 1,
            foreground: theme.dim)
    }
}

import Engine
import Foundation

/// Curves over a few named x values (evenly spaced), at braille resolution, with a dotted floor
/// line, round y ticks and the axis name under the tick labels.
public enum CurveChart {
    public struct Curve {
        public var values: [Double?]
        public var color: Int

        public init(values: [Double?], color: Int) {
            self.values = values
            self.color = color
        }
    }

    /// `range` is the y range shared with the charts beside it; it is drawn on a log scale when it
    /// spans more than a factor of 10. Curves drawn later lie on top.
    public static func draw(
        _ curves: [Curve], xLabels: [String], axis: String, floor: Double?, range: (Double, Double),
        into canvas: inout Canvas, rect: Rect, style: Style
    ) {
        let logScale = range.0 > 0 && range.1 / range.0 > 10
        let ticks = logScale ? logTicks(range) : LinePlot.roundTicks(range)
        let scale: (Double) -> Double = logScale ? { log10(max($0, 1e-300)) } : { $0 }
        let (lo, hi) = (scale(ticks.first ?? range.0), scale(ticks.last ?? range.1))
        let labelWidth =
            max(ticks.map { label($0, ticks, logScale) }.map(\.count).max() ?? 4, 4) + 1
        let plot = Rect(
            x: rect.x + labelWidth, y: rect.y, width: rect.width - labelWidth - 1,
            height: rect.height - 2)
        guard plot.width >= 4, plot.height >= 2, xLabels.count >= 2 else { return }
        let columns = plot.width * 2
        let rows = plot.height * 4
        func dotX(_ i: Int) -> Int { i * (columns - 1) / (xLabels.count - 1) }
        func dotY(_ v: Double) -> Int {
            min(
                rows - 1,
                max(0, Int(((hi - scale(v)) / max(hi - lo, 1e-12) * Double(rows - 1)).rounded())))
        }
        var masks = [UInt8](repeating: 0, count: plot.width * plot.height)
        var colors = [Int](repeating: -1, count: masks.count)
        func dot(_ x: Int, _ y: Int, _ color: Int) {
            let i = (y / 4) * plot.width + x / 2
            masks[i] |= Glyphs.dotBit(column: x % 2, row: y % 4)
            colors[i] = color
        }
        let floorShown = floor.map { scale($0) >= lo && scale($0) <= hi } ?? false
        if let floor, floorShown {
            for x in stride(from: 0, to: columns, by: 3) { dot(x, dotY(floor), style.theme.dim) }
        }
        for curve in curves {
            var previous: (Int, Int)?
            for (i, value) in curve.values.enumerated().prefix(xLabels.count) {
                guard let value, value.isFinite else {
                    previous = nil
                    continue
                }
                let point = (dotX(i), dotY(value))
                line(from: previous ?? point, to: point) { dot($0, $1, curve.color) }
                previous = point
            }
        }
        for y in 0..<plot.height {
            for x in 0..<plot.width where masks[y * plot.width + x] != 0 {
                let i = y * plot.width + x
                canvas[plot.x + x, plot.y + y] = Cell(
                    style.glyphs.dots(masks[i]), foreground: colors[i])
            }
        }
        for (i, v) in ticks.enumerated()
        where i == 0 || i == ticks.count - 1 || ticks.count <= 4 || i == ticks.count / 2 {
            let text = label(v, ticks, logScale)
            canvas.text(
                String(repeating: " ", count: max(0, labelWidth - 1 - text.count)) + text, in: rect,
                row: dotY(v) / 4, foreground: style.theme.dim)
        }
        if logScale {
            canvas.text("log", in: rect, row: plot.height / 2 + 1, foreground: style.theme.dim)
        }
        if let floor, floorShown {
            canvas.text(
                "floor", in: rect, row: dotY(floor) / 4, column: rect.width - 6,
                foreground: style.theme.dim)
        }
        for (i, text) in xLabels.enumerated() {
            let x =
                labelWidth + dotX(i) / 2
                - (i == xLabels.count - 1 ? text.count - 1 : i == 0 ? 0 : text.count / 2)
            canvas.text(
                text, in: rect, row: plot.height, column: max(0, x), foreground: style.theme.dim)
        }
        canvas.text(
            axis, in: rect, row: plot.height + 1,
            column: max(0, labelWidth + (plot.width - axis.count) / 2),
            foreground: style.theme.text, bold: true)
    }

    static func label(_ v: Double, _ ticks: [Double], _ logScale: Bool) -> String {
        logScale
            ? Format.number(v, digits: 2)
            : LinePlot.label(v, step: ticks.count > 1 ? ticks[1] - ticks[0] : 1)
    }

    /// 1-2-5 steps of each decade, from the last at or below the range to the first at or above it.
    static func logTicks(_ range: (Double, Double)) -> [Double] {
        let first = Int(log10(range.0).rounded(.down))
        let last = Int(log10(range.1).rounded(.up))
        let all = (first...last).flatMap { e in [1.0, 2, 5].map { $0 * pow(10, Double(e)) } }
        let lo = all.last { $0 <= range.0 } ?? range.0
        let hi = all.first { $0 >= range.1 } ?? range.1
        return all.filter { $0 >= lo && $0 <= hi }
    }

    /// The dots from `a` to `b`, both included.
    static func line(from a: (Int, Int), to b: (Int, Int), _ plot: (Int, Int) -> Void) {
        let steps = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            plot(
                Int((Double(a.0) + t * Double(b.0 - a.0)).rounded()),
                Int((Double(a.1) + t * Double(b.1 - a.1)).rounded()))
        }
    }
}

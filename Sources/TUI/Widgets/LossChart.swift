import Engine
import Foundation

/// How the loss panel smooths its line: not at all, a bias-corrected EMA, or a trailing moving
/// average. Both look only backwards, so a point's smoothed value never changes as points follow.
public enum LossSmoothing: String, Sendable, CaseIterable {
    case none, ema, window

    /// The EMA's decay and the moving average's width, in chart columns.
    public static let decay = 0.85
    public static let width = 9

    public var next: LossSmoothing {
        let all = Self.allCases
        return all[((all.firstIndex(of: self) ?? 0) + 1) % all.count]
    }

    /// The legend: what the line is.
    public var legend: String {
        switch self {
        case .none: "raw"
        case .ema: "EMA \(Self.decay)"
        case .window: "mean of \(Self.width)"
        }
    }

    /// The smoothed series; empty for `none`. Value t depends on values 0…t only.
    public func smoothed(_ values: [Double]) -> [Double] {
        switch self {
        case .none: return []
        case .ema:
            var s = 0.0
            var weight = 1.0
            return values.map { v in
                s = Self.decay * s + (1 - Self.decay) * v
                weight *= Self.decay
                return s / (1 - weight)
            }
        case .window:
            var sums = [0.0]
            for v in values { sums.append((sums.last ?? 0) + v) }
            return values.indices.map { t in
                let from = max(0, t + 1 - Self.width)
                return (sums[t + 1] - sums[from]) / Double(t + 1 - from)
            }
        }
    }
}

/// One model's losses for the chart, in its colour; `label` names it in the legend.
public struct LossCurve {
    public var label: String
    public var history: LossHistory
    public var colour: Int

    public init(label: String, history: LossHistory, colour: Int) {
        self.label = label
        self.history = history
        self.colour = colour
    }
}

/// The loss on a log scale at braille resolution: raw values as dots with a smoothed line on top,
/// or several models' lines over the same axes (x in steps).
public enum LossChart {
    public static func draw(
        _ history: LossHistory, into canvas: inout Canvas, rect: Rect, style: Style,
        totalSteps: Int, smoothing: LossSmoothing = .ema
    ) {
        let curve = LossCurve(label: "", history: history, colour: style.theme.lossSmooth)
        draw([curve], raw: true, into: &canvas, rect: rect, style: style, smoothing: smoothing)
        axis(&canvas, rect, style, end: totalSteps)
    }

    /// Every curve's line (its raw values where `smoothing` is none) in its colour, and a legend
    /// on the axis row.
    public static func overlay(
        _ curves: [LossCurve], into canvas: inout Canvas, rect: Rect, style: Style,
        smoothing: LossSmoothing
    ) {
        guard
            draw(curves, raw: false, into: &canvas, rect: rect, style: style, smoothing: smoothing)
        else { return }
        let end = curves.map { $0.history.buckets.count * $0.history.stepsPerBucket }.max() ?? 0
        axis(&canvas, rect, style, end: end)
        var column = labelWidth + 7
        for curve in curves {
            let text = "■" + curve.label
            guard column + text.count < rect.width - Format.steps(end).count - 1 else { break }
            canvas.text(
                text, in: rect, row: rect.height - 1, column: column, foreground: curve.colour)
            column += text.count + 1
        }
    }

    static let labelWidth = 7

    /// Each curve's mean log10 loss per braille column, placed by step (nil: no value there).
    static func columns(_ curve: LossCurve, count: Int, lastStep: Int) -> [Double?] {
        var sums = [Double](repeating: 0, count: count)
        var counts = [Int](repeating: 0, count: count)
        let per = Double(curve.history.stepsPerBucket)
        for (i, v) in curve.history.buckets.enumerated() where v.isFinite && v > 0 {
            let c = min(
                count - 1, Int((Double(i) + 0.5) * per / Double(max(lastStep, 1)) * Double(count)))
            sums[c] += log10(Double(v))
            counts[c] += 1
        }
        return (0..<count).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : nil }
    }

    /// Draws the curves and the value labels; false (and a notice) when there is too little to
    /// draw.
    @discardableResult
    static func draw(
        _ curves: [LossCurve], raw: Bool, into canvas: inout Canvas, rect: Rect, style: Style,
        smoothing: LossSmoothing
    ) -> Bool {
        let plot = Rect(
            x: rect.x + labelWidth, y: rect.y, width: rect.width - labelWidth,
            height: rect.height - 1)
        let lastStep =
            curves.map { $0.history.buckets.count * $0.history.stepsPerBucket }.max() ?? 0
        let count = plot.width * 2
        let series = count > 1 ? curves.map { columns($0, count: count, lastStep: lastStep) } : []
        let present = series.flatMap { $0.compactMap { $0 } }
        guard series.contains(where: { $0.compactMap { $0 }.count >= 2 }), plot.height > 0,
            let lo = present.min(), let hi = present.max()
        else {
            canvas.text(
                "no training yet", in: rect, row: rect.height / 2,
                column: max(0, (rect.width - 15) / 2), foreground: style.theme.dim)
            return false
        }
        let span = max(hi - lo, 1e-3)
        let rows = plot.height * 4
        func row(_ v: Double) -> Int {
            min(rows - 1, max(0, Int((hi - v) / span * Double(rows - 1) + 0.5)))
        }
        var masks = Masks(plot: plot)
        for (curve, values) in zip(curves, series) {
            let filled = values.indices.filter { values[$0] != nil }
            let points = filled.compactMap { values[$0] }
            let line =
                raw && smoothing == .none
                ? [] : smoothing == .none ? points : smoothing.smoothed(points)
            var previous: Int?
            for (k, c) in filled.enumerated() {
                if raw { masks.dot(c, row(points[k]), colour: style.theme.lossRaw, under: true) }
                guard k < line.count else { continue }
                let s = row(line[k])
                for y in min(s, previous ?? s)...max(s, previous ?? s) {
                    masks.dot(c, y, colour: curve.colour, under: false)
                }
                previous = s
            }
        }
        masks.paint(&canvas, style)
        valueLabels(&canvas, rect, style, lo: lo, hi: hi, row: row)
        return true
    }

    /// Round values (1-2-5 of each decade) where they fall inside, else the ends.
    static func valueLabels(
        _ canvas: inout Canvas, _ rect: Rect, _ style: Style, lo: Double, hi: Double,
        row: (Double) -> Int
    ) {
        let inside = CurveChart.logTicks((pow(10, lo), pow(10, hi))).filter {
            log10($0) >= lo - 1e-9 && log10($0) <= hi + 1e-9
        }
        let labels = inside.count >= 2 ? inside : [pow(10, hi), pow(10, lo)]
        var used = Set<Int>()
        for v in labels {
            let r = row(log10(v)) / 4
            guard used.isDisjoint(with: [r - 1, r, r + 1]) || labels.count <= 2 else { continue }
            used.insert(r)
            canvas.text(Format.number(v, digits: 2), in: rect, row: r, foreground: style.theme.dim)
        }
    }

    /// "log", "step 0" and the last step on the bottom row.
    static func axis(_ canvas: inout Canvas, _ rect: Rect, _ style: Style, end: Int) {
        canvas.text("log", in: rect, row: rect.height - 1, foreground: style.theme.dim)
        let start = "step 0"
        let last = Format.steps(end)
        canvas.text(
            start, in: rect, row: rect.height - 1, column: labelWidth, foreground: style.theme.dim)
        canvas.text(
            last, in: rect, row: rect.height - 1,
            column: max(labelWidth + start.count + 1, rect.width - last.count),
            foreground: style.theme.dim)
    }

    /// Braille dots per cell, with the colour of the line drawn last in it, or of the dots under
    /// the lines where no line passes.
    struct Masks {
        let plot: Rect
        var bits: [UInt8]
        var colours: [Int?]
        var lined: [Bool]

        init(plot: Rect) {
            self.plot = plot
            let n = plot.width * plot.height
            bits = [UInt8](repeating: 0, count: n)
            colours = [Int?](repeating: nil, count: n)
            lined = [Bool](repeating: false, count: n)
        }

        mutating func dot(_ column: Int, _ row: Int, colour: Int, under: Bool) {
            let i = (row / 4) * plot.width + column / 2
            bits[i] |= Glyphs.dotBit(column: column % 2, row: row % 4)
            if !under || !lined[i] { colours[i] = colour }
            if !under { lined[i] = true }
        }

        func paint(_ canvas: inout Canvas, _ style: Style) {
            for y in 0..<plot.height {
                for x in 0..<plot.width {
                    let i = y * plot.width + x
                    guard bits[i] != 0, let colour = colours[i] else { continue }
                    canvas[plot.x + x, plot.y + y] = Cell(
                        style.glyphs.dots(bits[i]), foreground: colour)
                }
            }
        }
    }
}

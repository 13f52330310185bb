import Engine
import Foundation

/// A density plot of 2-D points at braille resolution (2×4 dots a cell), coloured by how many
/// points fall in each cell; optionally the data drawn underneath in the overlay colour.
public struct DensityPlot {
    public var bounds: (Double, Double, Double, Double)

    public init(bounds: (Double, Double, Double, Double)) { self.bounds = bounds }

    /// Dot coordinates of a point in a rect of w×h cells, or nil when outside.
    func dot(_ x: Float, _ y: Float, width: Int, height: Int) -> (Int, Int)? {
        let (x0, x1, y0, y1) = bounds
        let u = (Double(x) - x0) / (x1 - x0)
        let v = (y1 - Double(y)) / (y1 - y0)
        guard u >= 0, u < 1, v >= 0, v < 1 else { return nil }
        return (Int(u * Double(width * 2)), Int(v * Double(height * 4)))
    }

    /// Draws and returns the fraction of points inside the bounds. With `groups` (one per point),
    /// a cell takes the series colour of the group with most points in it instead of the density
    /// colour.
    @discardableResult
    public func draw(
        _ points: Matrix, overlay: Matrix?, into canvas: inout Canvas, rect: Rect, style: Style,
        groups: [Int]? = nil
    ) -> Double {
        let w = rect.width
        let h = rect.height
        guard w > 0, h > 0, points.cols >= 2 else { return 0 }
        var masks = [UInt8](repeating: 0, count: w * h)
        var counts = [Int](repeating: 0, count: w * h)
        var groupCounts: [Int: [Int: Int]] = [:]
        var inside = 0
        for r in 0..<points.rows {
            guard let (dx, dy) = dot(points[r, 0], points[r, 1], width: w, height: h) else {
                continue
            }
            let cell = (dy / 4) * w + dx / 2
            masks[cell] |= Glyphs.dotBit(column: dx % 2, row: dy % 4)
            counts[cell] += 1
            inside += 1
            if let groups, r < groups.count {
                groupCounts[cell, default: [:]][groups[r], default: 0] += 1
            }
        }
        var overlayMasks = [UInt8](repeating: 0, count: w * h)
        if let overlay {
            for r in 0..<overlay.rows {
                guard let (dx, dy) = dot(overlay[r, 0], overlay[r, 1], width: w, height: h) else {
                    continue
                }
                overlayMasks[(dy / 4) * w + dx / 2] |= Glyphs.dotBit(column: dx % 2, row: dy % 4)
            }
        }
        let top = log1p(Double(counts.max() ?? 1))
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                if counts[i] > 0 {
                    let level = top > 0 ? log1p(Double(counts[i])) / top : 1
                    let group = groupCounts[i]?.max { ($0.value, -$0.key) < ($1.value, -$1.key) }
                    canvas[rect.x + x, rect.y + y] = Cell(
                        style.glyphs.dots(masks[i]),
                        foreground: group.map { style.theme.seriesColor($0.key) }
                            ?? style.theme.densityColor(level))
                } else if overlayMasks[i] != 0 {
                    canvas[rect.x + x, rect.y + y] = Cell(
                        style.glyphs.dots(overlayMasks[i]), foreground: style.theme.overlay)
                }
            }
        }
        return points.rows > 0 ? Double(inside) / Double(points.rows) : 0
    }
}

/// Square images, grey or colour, as upper-half-block cells: each cell shows two pixel rows, the
/// top one as the foreground colour of ▀ and the bottom one as the background.
public enum ImageGrid {
    /// One pixel: a grey value, or red, green and blue, each in [−1, 1].
    public struct Pixel: Sendable {
        public var channels: (Float, Float, Float)

        public init(gray v: Float) { channels = (v, v, v) }
        public init(red: Float, green: Float, blue: Float) { channels = (red, green, blue) }

        /// Black, for the row below an image of odd height.
        public static let black = Pixel(gray: -1)
        /// Luminance (Rec. 601) in [−1, 1].
        var luminance: Float { 0.299 * channels.0 + 0.587 * channels.1 + 0.114 * channels.2 }
        var isGray: Bool { channels.0 == channels.1 && channels.1 == channels.2 }

        /// The cell colour: 24-bit on a direct-colour terminal, else the grey ramp for grey pixels
        /// and the 6×6×6 cube for colour.
        func colour(_ colors: Int) -> Int {
            if colors >= Palette.directColours {
                let byte = { (v: Float) in Int(((min(max(v, -1), 1) + 1) * 127.5).rounded()) }
                return Palette.direct(
                    red: byte(channels.0), green: byte(channels.1), blue: byte(channels.2))
            }
            return isGray
                ? Palette.gray(channels.0)
                : Palette.cube(red: channels.0, green: channels.1, blue: channels.2)
        }
    }

    /// The cell for two pixels: their colours where the terminal has 256 or 24-bit colour, else a
    /// shade of their brightness.
    public static func cell(top: Pixel, bottom: Pixel, style: Style, colors: Int) -> Cell {
        if colors >= 256 {
            return Cell(
                style.glyphs.upperHalf, foreground: top.colour(colors),
                background: bottom.colour(colors))
        }
        let level = Double((top.luminance + bottom.luminance) / 2 + 1) / 2
        let ramp = style.glyphs.ramp
        return Cell(ramp[min(ramp.count - 1, max(0, Int(level * Double(ramp.count - 1) + 0.5)))])
    }

    /// Draws as many images as fit, a column apart: each side×⌈side/2⌉ cells, reduced when the rect
    /// is smaller, and enlarged (each pixel 2×2 or more) when all of them still fit. Returns how
    /// many were drawn.
    @discardableResult
    public static func draw(
        _ images: Matrix, shape: ImageShape, into canvas: inout Canvas, rect: Rect, style: Style,
        colors: Int
    ) -> Int {
        let side = shape.side
        guard side > 0, rect.width > 0, rect.height > 0, images.cols == shape.values else {
            return 0
        }
        let reduce = max(
            1,
            Int(
                ceil(max(Double(side) / Double(rect.width), Double(side) / Double(2 * rect.height)))
            ))
        let enlarge = reduce > 1 ? 1 : (1...4).last { slots(side * $0, rect) >= images.rows } ?? 1
        let pixels = side * enlarge / reduce
        let cellsHigh = (pixels + 1) / 2
        let across = max(1, (rect.width + 1) / (pixels + 1))
        let down = max(1, rect.height / cellsHigh)
        // Screen pixel p shows image pixel p · reduce / enlarge.
        func source(_ p: Int) -> Int { p * reduce / enlarge }
        func pixel(_ i: Int, _ x: Int, _ y: Int) -> Pixel {
            guard shape.isColour else {
                return Pixel(gray: shape.value(images, i, x: x, y: y, channel: 0))
            }
            return Pixel(
                red: shape.value(images, i, x: x, y: y, channel: 0),
                green: shape.value(images, i, x: x, y: y, channel: 1),
                blue: shape.value(images, i, x: x, y: y, channel: 2))
        }
        var drawn = 0
        for i in 0..<min(images.rows, across * down) {
            let ox = rect.x + (i % across) * (pixels + 1)
            let oy = rect.y + (i / across) * cellsHigh
            guard ox + pixels <= rect.x + rect.width, oy + cellsHigh <= rect.y + rect.height else {
                continue
            }
            for cy in 0..<cellsHigh {
                for cx in 0..<pixels {
                    let top = pixel(i, source(cx), source(2 * cy))
                    let bottom =
                        2 * cy + 1 < pixels ? pixel(i, source(cx), source(2 * cy + 1)) : .black
                    canvas[ox + cx, oy + cy] = cell(
                        top: top, bottom: bottom, style: style, colors: colors)
                }
            }
            drawn += 1
        }
        return drawn
    }

    /// How many images `pixels` wide fit in `rect`.
    static func slots(_ pixels: Int, _ rect: Rect) -> Int {
        let cellsHigh = (pixels + 1) / 2
        guard pixels <= rect.width, cellsHigh <= rect.height else { return 0 }
        return ((rect.width + 1) / (pixels + 1)) * (rect.height / cellsHigh)
    }
}

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

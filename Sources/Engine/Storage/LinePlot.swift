import Foundation

/// Line plots as RGB PNGs: one line per series over categorical x positions, ±sd bars, axes with
/// tick labels, a title and a legend, lettered in a 3×5 pixel font drawn at twice its size.
public struct LinePlot {
    public struct Series: Sendable {
        public var name: String
        public var means: [Double?]
        public var deviations: [Double?]

        public init(name: String, means: [Double?], deviations: [Double?]) {
            self.name = name
            self.means = means
            self.deviations = deviations
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xTicks: [String]
    public var series: [Series]
    /// Drawn as a dashed gray line labelled "floor" when given.
    public var floor: Double?
    public var width = 720, height = 440

    public init(title: String, xLabel: String, yLabel: String, xTicks: [String], series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xTicks = xTicks
        self.series = series
    }

    static let palette: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189),
        (255, 127, 14), (23, 190, 207), (140, 86, 75), (227, 119, 194),
    ]
    static let ink: (UInt8, UInt8, UInt8) = (40, 40, 40),
        grid: (UInt8, UInt8, UInt8) = (225, 225, 225)
    let left = 84, right = 150, top = 40, bottom = 56

    public func render() -> PNG.RGB {
        var image = PNG.RGB(width: width, height: height)
        let ticks = Self.roundTicks(yRange())
        let (lo, hi) = (ticks.first ?? 0, ticks.last ?? 1)
        let plotW = width - left - right
        let plotH = height - top - bottom
        let xAt = { (i: Int) in
            left + (xTicks.count > 1 ? i * plotW / (xTicks.count - 1) : plotW / 2)
        }
        let yAt = { (v: Double) in top + Int(((hi - v) / (hi - lo) * Double(plotH)).rounded()) }
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        for v in ticks {
            let y = yAt(v)
            Self.line(&image, left, y, left + plotW, y, Self.grid)
            let label = Self.label(v, step: step)
            Self.text(&image, label, x: left - 8 - Self.textWidth(label), y: y - 5, Self.ink)
        }
        for (i, tick) in xTicks.enumerated() {
            Self.line(&image, xAt(i), top, xAt(i), top + plotH, Self.grid)
            Self.text(
                &image, tick, x: xAt(i) - Self.textWidth(tick) / 2, y: top + plotH + 8, Self.ink)
        }
        Self.line(&image, left, top, left, top + plotH, Self.ink)
        Self.line(&image, left, top + plotH, left + plotW, top + plotH, Self.ink)
        if let floor, floor > lo, floor < hi {
            let y = yAt(floor)
            for x in stride(from: left, to: left + plotW, by: 8) {
                Self.line(&image, x, y, min(x + 4, left + plotW), y, (150, 150, 150))
            }
            Self.text(
                &image, "floor", x: left + plotW - Self.textWidth("floor") - 4, y: y - 14,
                (150, 150, 150))
        }
        for (k, s) in series.enumerated() {
            draw(s, colour: Self.palette[k % Self.palette.count], &image, xAt, yAt)
        }
        Self.text(&image, title, x: left, y: 12, Self.ink)
        Self.text(
            &image, xLabel, x: left + plotW / 2 - Self.textWidth(xLabel) / 2, y: height - 22,
            Self.ink)
        Self.text(&image, yLabel, x: 8, y: top - 16, Self.ink)
        for (k, s) in series.enumerated() {
            let y = top + 10 + k * 20
            let colour = Self.palette[k % Self.palette.count]
            for t in 0..<3 {
                Self.line(&image, left + plotW + 16, y + t, left + plotW + 36, y + t, colour)
            }
            Self.text(&image, s.name, x: left + plotW + 44, y: y - 4, Self.ink)
        }
        return image
    }

    private func draw(
        _ s: Series, colour: (UInt8, UInt8, UInt8), _ image: inout PNG.RGB,
        _ xAt: (Int) -> Int, _ yAt: (Double) -> Int
    ) {
        var previous: (Int, Int)?
        for (i, m) in s.means.enumerated() {
            guard let m, m.isFinite else {
                previous = nil
                continue
            }
            let x = xAt(i)
            let y = yAt(m)
            if let sd = s.deviations[i], sd.isFinite, sd > 0 {
                Self.line(&image, x, yAt(m - sd), x, yAt(m + sd), colour)
                Self.line(&image, x - 4, yAt(m - sd), x + 4, yAt(m - sd), colour)
                Self.line(&image, x - 4, yAt(m + sd), x + 4, yAt(m + sd), colour)
            }
            if let (px, py) = previous {
                for t in -1...1 { Self.line(&image, px, py + t, x, y + t, colour) }
            }
            for dy in -3...3 { for dx in -3...3 { image.set(x + dx, y + dy, colour) } }
            previous = (x, y)
        }
    }

    /// The y range covering every mean ± sd, padded by 5%.
    func yRange() -> (Double, Double) {
        var values: [Double] = floor.map { [$0] } ?? []
        for s in series {
            for (i, m) in s.means.enumerated() {
                guard let m, m.isFinite else { continue }
                let sd = s.deviations[i].flatMap { $0.isFinite ? $0 : nil } ?? 0
                values += [m - sd, m + sd]
            }
        }
        guard let lo = values.min(), let hi = values.max() else { return (0, 1) }
        let pad = max((hi - lo) * 0.05, abs(hi) * 1e-3, 1e-9)
        return (lo - pad, hi + pad)
    }

    /// Tick values at the largest round step (1, 2 or 5 × 10^k) that cuts `range` into at least 4
    /// intervals; the first and last are the axis ends.
    public static func roundTicks(_ range: (Double, Double)) -> [Double] {
        let (lo, hi) = range
        guard lo.isFinite, hi.isFinite, hi > lo else { return [lo, lo + 1] }
        var power = pow(10, log10(hi - lo).rounded(.down))
        while true {
            for m in [5.0, 2, 1] {
                let step = m * power
                let first = (lo / step).rounded(.down)
                let last = (hi / step).rounded(.up)
                if last - first >= 4 {
                    return stride(from: first, through: last, by: 1).map { $0 * step }
                }
            }
            power /= 10
        }
    }

    /// A tick label with as many decimals as the step needs (scientific for very small or large
    /// values).
    public static func label(_ v: Double, step: Double) -> String {
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.2E", v) }
        let decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
        return String(format: "%.\(min(decimals, 6))f", a < step * 1e-9 ? 0 : v)
    }

    static func line(
        _ image: inout PNG.RGB, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int,
        _ c: (UInt8, UInt8, UInt8)
    ) {
        let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in 0...steps {
            let x = x0 + (x1 - x0) * k / steps
            let y = y0 + (y1 - y0) * k / steps
            image.set(x, y, c)
        }
    }

    static let glyphScale = 2
    static func textWidth(_ s: String) -> Int { s.count * 4 * glyphScale }

    /// Upper-cases `s` and draws it with its top-left corner at (x, y); unknown characters are
    /// blank.
    static func text(
        _ image: inout PNG.RGB, _ s: String, x: Int, y: Int, _ c: (UInt8, UInt8, UInt8)
    ) {
        for (k, ch) in s.uppercased().enumerated() {
            guard let rows = font[ch] else { continue }
            for (r, row) in rows.enumerated() {
                for (col, bit) in row.enumerated() where bit == "#" {
                    for dy in 0..<glyphScale {
                        for dx in 0..<glyphScale {
                            image.set(
                                x + (k * 4 + col) * glyphScale + dx, y + r * glyphScale + dy, c)
                        }
                    }
                }
            }
        }
    }

    static let font: [Character: [String]] = {
        let table: [(Character, String)] = [
            ("A", ".#. #.# ### #.# #.#"), ("B", "##. #.# ##. #.# ##."),
            ("C", ".## #.. #.. #.. .##"), ("D", "##. #.# #.# #.# ##."),
            ("E", "### #.. ##. #.. ###"), ("F", "### #.. ##. #.. #.."),
            ("G", ".## #.. #.# #.# .##"), ("H", "#.# #.# ### #.# #.#"),
            ("I", "### .#. .#. .#. ###"), ("J", "..# ..# ..# #.# .#."),
            ("K", "#.# #.# ##. #.# #.#"), ("L", "#.. #.. #.. #.. ###"),
            ("M", "#.# ### ### #.# #.#"), ("N", "##. #.# #.# #.# #.#"),
            ("O", ".#. #.# #.# #.# .#."), ("P", "##. #.# ##. #.. #.."),
            ("Q", ".#. #.# #.# ##. .##"), ("R", "##. #.# ##. #.# #.#"),
            ("S", ".## #.. .#. ..# ##."), ("T", "### .#. .#. .#. .#."),
            ("U", "#.# #.# #.# #.# ###"), ("V", "#.# #.# #.# #.# .#."),
            ("W", "#.# #.# ### ### #.#"), ("X", "#.# #.# .#. #.# #.#"),
            ("Y", "#.# #.# .#. .#. .#."), ("Z", "### ..# .#. #.. ###"),
            ("0", "### #.# #.# #.# ###"), ("1", ".#. ##. .#. .#. ###"),
            ("2", "##. ..# .#. #.. ###"), ("3", "##. ..# .#. ..# ##."),
            ("4", "#.# #.# ### ..# ..#"), ("5", "### #.. ##. ..# ##."),
            ("6", ".## #.. ### #.# ###"), ("7", "### ..# .#. .#. .#."),
            ("8", "### #.# ### #.# ###"), ("9", "### #.# ### ..# ##."),
            (".", "... ... ... ... .#."), ("=", "... ### ... ### ..."),
            ("-", "... ... ### ... ..."), ("+", "... .#. ### .#. ..."),
            ("(", ".#. #.. #.. #.. .#."), (")", ".#. ..# ..# ..# .#."),
            (":", "... .#. ... .#. ..."), ("/", "..# ..# .#. #.. #.."),
            ("%", "#.# ..# .#. #.. #.#"), (",", "... ... ... .#. #.."),
            ("_", "... ... ... ... ###"), ("±", ".#. ### .#. ... ###"),
            (" ", "... ... ... ... ..."),
        ]
        var font: [Character: [String]] = [:]
        for (ch, rows) in table { font[ch] = rows.split(separator: " ").map(String.init) }
        return font
    }()
}

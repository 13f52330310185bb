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
        // Per cell, the points of each group (groups × cells, for a majority per cell).
        let kinds = (groups?.max() ?? -1) + 1
        var groupCounts = [Int](repeating: 0, count: kinds * w * h)
        var inside = 0
        for r in 0..<points.rows {
            guard let (dx, dy) = dot(points[r, 0], points[r, 1], width: w, height: h) else {
                continue
            }
            let cell = (dy / 4) * w + dx / 2
            masks[cell] |= Glyphs.dotBit(column: dx % 2, row: dy % 4)
            counts[cell] += 1
            inside += 1
            if let groups, r < groups.count, groups[r] >= 0 {
                groupCounts[cell * kinds + groups[r]] += 1
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
                    // The most common group, the lowest on a tie; nil without groups.
                    let inCell = groupCounts[(i * kinds)..<((i + 1) * kinds)]
                    let group = inCell.indices.max { (inCell[$0], $1) < (inCell[$1], $0) }
                        .flatMap { inCell[$0] > 0 ? $0 - i * kinds : nil }
                    canvas[rect.x + x, rect.y + y] = Cell(
                        style.glyphs.dots(masks[i]),
                        foreground: group.map { style.theme.seriesColor($0) }
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

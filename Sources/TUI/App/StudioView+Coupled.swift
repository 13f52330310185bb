import Engine
import Foundation

/// The coupled view (`c`): the slider's marks sampled from the same noise, so sample k of every
/// panel (or cell k of every row of images) comes from one prior draw and the panels differ only by
/// what D does.
extension StudioView {
    /// Density panels go in one row when each gets this many columns, else in two rows (the
    /// studio's smallest size leaves 17 columns and 7 rows a panel).
    static let coupledPanelWidth = 16

    func drawCoupled(_ canvas: inout Canvas) {
        let rect = Rect(x: 1, y: 1, width: canvas.width - 2, height: canvas.height - 2)
        canvas.fill(rect)
        let grid = snapshot.coupled
        let progress = grid.map { grid in
            grid.panels.count < grid.total
                ? " · \(grid.panels.count)/\(grid.total)"
                : grid.seconds.map { " · drawn in " + Format.seconds($0) } ?? ""
        }
        let inner = canvas.panel(
            rect,
            title: "Same noise across D · NFE \(snapshot.settings.functionEvaluations)"
                + (progress ?? "") + " · c or Esc closes",
            style: style, highlighted: true)
        guard let grid, !grid.panels.isEmpty else {
            canvas.text("sampling the first D…", in: inner, row: 0, foreground: theme.dim)
            return
        }
        if case .image(let side, let channels) = snapshot.kind {
            return drawCoupledImages(
                &canvas, inner, grid, ImageShape(channels: channels, side: side))
        }
        drawCoupledPoints(&canvas, inner, grid)
    }

    /// A density panel per D, side by side (in two rows when they do not fit in one), D and the
    /// model under each.
    func drawCoupledPoints(_ canvas: inout Canvas, _ inner: Rect, _ grid: CoupledGrid) {
        let perRow =
            inner.width / grid.total >= Self.coupledPanelWidth
            ? grid.total : (grid.total + 1) / 2
        let rows = (grid.total + perRow - 1) / perRow
        let width = inner.width / perRow
        let height = inner.height / rows
        let plot = DensityPlot(bounds: snapshot.bounds)
        let groups = grid.panels.first.map { Self.coupledGroups($0.points, snapshot.bounds) }
        for (k, panel) in grid.panels.enumerated() {
            let cell = Rect(
                x: inner.x + (k % perRow) * width, y: inner.y + (k / perRow) * height,
                width: width - 1, height: height)
            let area = Rect(x: cell.x, y: cell.y, width: cell.width, height: cell.height - 2)
            plot.draw(
                panel.points, overlay: ui.showOverlay ? snapshot.overlay : nil, into: &canvas,
                rect: area, style: style, groups: groups)
            caption(&canvas, panel, in: cell, row: cell.height - 2)
        }
    }

    /// Sample k's group: the sixth of the plane (by angle around the bounds' centre) where it lies
    /// in the first panel, so that it keeps one colour in every panel.
    public static func coupledGroups(
        _ points: Matrix, _ bounds: (Double, Double, Double, Double)
    ) -> [Int] {
        guard points.cols >= 2 else { return [] }
        let (cx, cy) = ((bounds.0 + bounds.1) / 2, (bounds.2 + bounds.3) / 2)
        return (0..<points.rows).map { r in
            let angle = atan2(Double(points[r, 1]) - cy, Double(points[r, 0]) - cx) + .pi
            return min(5, Int(angle / (2 * .pi) * 6))
        }
    }

    /// How many columns of D the image rows take: the fewest that give the largest images while
    /// each row still shows two samples (else the largest images).
    static func coupledColumns(total: Int, side: Int, inner: Rect, labelWidth: Int) -> Int {
        func pixels(_ columns: Int) -> (Int, Bool) {
            let rows = (total + columns - 1) / columns
            let across = inner.width / columns - labelWidth - 1
            let room = min(2 * (inner.height / rows), across)
            guard room > 0 else { return (0, false) }
            let pixels = side / ((side + room - 1) / room)
            return (pixels, across >= 2 * pixels + 1)
        }
        let two = (1...3).filter { pixels($0).1 }
        let choices = two.isEmpty ? Array(1...3) : two
        return choices.max { (pixels($0).0, -$0) < (pixels($1).0, -$1) } ?? 1
    }

    /// A row of images per D (in up to three columns of rows), cell k of every row the same prior
    /// draw; D and the model at the left.
    func drawCoupledImages(
        _ canvas: inout Canvas, _ inner: Rect, _ grid: CoupledGrid, _ shape: ImageShape
    ) {
        let labelWidth = max(9, min(18, inner.width / 8))
        let columns = Self.coupledColumns(
            total: grid.total, side: shape.side, inner: inner, labelWidth: labelWidth)
        let perColumn = (grid.total + columns - 1) / columns
        let height = inner.height / perColumn
        let width = inner.width / columns
        for (k, panel) in grid.panels.enumerated() {
            let row = Rect(
                x: inner.x + (k / perColumn) * width, y: inner.y + (k % perColumn) * height,
                width: width - 1, height: height)
            caption(
                &canvas, panel, in: Rect(x: row.x, y: row.y, width: labelWidth - 1, height: height),
                row: 0)
            ImageGrid.draw(
                panel.points, shape: shape, into: &canvas,
                rect: Rect(
                    x: row.x + labelWidth, y: row.y, width: row.width - labelWidth, height: height),
                style: style, colors: colors)
        }
    }

    /// "D=16" in bold, and what drew the panel under it, cut to the panel's width.
    func caption(_ canvas: inout Canvas, _ panel: CoupledPanel, in rect: Rect, row: Int) {
        canvas.text(
            "D=\(panel.augmentedDimension)", in: rect, row: row, foreground: theme.title,
            bold: true)
        let lines = Self.wrap(words: panel.label, width: rect.width)
        let room = max(1, rect.height - row - 1)
        for (i, line) in lines.prefix(room).enumerated() {
            let last = i == room - 1 && lines.count > room
            canvas.text(
                last ? Format.elided(lines[i...].joined(separator: " "), width: rect.width) : line,
                in: rect, row: row + 1 + i, foreground: theme.dim)
        }
    }

    /// Words in lines of at most `width` columns (a longer word stays whole, to be cut on screen).
    static func wrap(words text: String, width: Int) -> [String] {
        var lines: [String] = []
        for word in text.split(separator: " ") {
            if let last = lines.last, last.count + 1 + word.count <= width {
                lines[lines.count - 1] = last + " " + word
            } else {
                lines.append(String(word))
            }
        }
        return lines
    }
}

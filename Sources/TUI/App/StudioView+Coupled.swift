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
        let progress = grid.map {
            $0.panels.count < $0.total ? " · \($0.panels.count)/\($0.total)" : ""
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
        for (k, panel) in grid.panels.enumerated() {
            let cell = Rect(
                x: inner.x + (k % perRow) * width, y: inner.y + (k / perRow) * height,
                width: width - 1, height: height)
            let area = Rect(x: cell.x, y: cell.y, width: cell.width, height: cell.height - 2)
            plot.draw(
                panel.points, overlay: ui.showOverlay ? snapshot.overlay : nil, into: &canvas,
                rect: area, style: style)
            caption(&canvas, panel, in: cell, row: cell.height - 2)
        }
    }

    /// A row of images per D, cell k of every row the same prior draw; D and the model at the left.
    func drawCoupledImages(
        _ canvas: inout Canvas, _ inner: Rect, _ grid: CoupledGrid, _ shape: ImageShape
    ) {
        let labelWidth = min(18, inner.width / 4)
        let height = inner.height / grid.total
        for (k, panel) in grid.panels.enumerated() {
            let row = Rect(x: inner.x, y: inner.y + k * height, width: inner.width, height: height)
            caption(
                &canvas, panel, in: Rect(x: row.x, y: row.y, width: labelWidth - 1, height: 2),
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
        canvas.text(
            Format.elided(panel.label, width: rect.width), in: rect, row: row + 1,
            foreground: theme.dim)
    }
}

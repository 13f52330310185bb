import Engine
import Foundation

/// The nearest-images view (`k`): each preview image beside its nearest training image, the
/// distance under the pair, marked where it is closer than held-out data's median (memorised).
extension StudioView {
    func drawNearest(_ canvas: inout Canvas) {
        let rect = Rect(x: 1, y: 1, width: canvas.width - 2, height: canvas.height - 2)
        canvas.fill(rect)
        let nearest = snapshot.nearest
        let share = nearest.map { " · \(Int(($0.share * 100).rounded()))% memorised" } ?? ""
        let inner = canvas.panel(
            rect, title: "Nearest training image" + share + " · k or Esc closes", style: style,
            highlighted: true)
        guard case .image(let side, let channels) = snapshot.kind else {
            canvas.text(
                "for images; for points the metrics panel's mem column says how many samples "
                    + "sit on training points", in: inner, row: 0, foreground: theme.dim)
            return
        }
        guard let nearest, nearest.samples.rows > 0 else {
            canvas.text("after the next preview", in: inner, row: 0, foreground: theme.dim)
            return
        }
        let shape = ImageShape(channels: channels, side: side)
        let pixels = min(side, inner.width / 2 - 1, 2 * (inner.height - 1))
        let pair = Rect(x: 0, y: 0, width: 2 * pixels + 1, height: (pixels + 1) / 2 + 1)
        let across = max(1, (inner.width + 2) / (pair.width + 2))
        let down = max(1, inner.height / pair.height)
        for k in 0..<min(nearest.samples.rows, across * down) {
            let x = inner.x + (k % across) * (pair.width + 2)
            let y = inner.y + (k / across) * pair.height
            let images = Rect(x: x, y: y, width: pair.width, height: pair.height - 1)
            let both = Matrix(
                rows: 2, cols: nearest.samples.cols,
                storage: nearest.samples.row(k) + nearest.neighbours.row(k))
            ImageGrid.draw(
                both, shape: shape, into: &canvas, rect: images, style: style, colors: colors)
            let memorised = nearest.distances[k] < nearest.threshold
            canvas.text(
                Format.elided(
                    Format.number(nearest.distances[k]) + (memorised ? " ≈" : ""),
                    width: pair.width),
                in: Rect(x: x, y: y + pair.height - 1, width: pair.width, height: 1), row: 0,
                foreground: memorised ? theme.warn : theme.dim)
        }
    }
}

import Engine
import Foundation

/// What the screen shows besides the engine's snapshot.
public struct UIState: Sendable {
    public var settings: StudioSettings
    public var focus: Control = .augmentedDimension
    /// The panels, or the one view over them.
    public var mode = Mode.panels
    public var showOverlay = true
    /// The loss panel's line (`l` cycles it).
    public var smoothing = LossSmoothing.ema
    /// Whether the loss panel overlays every model's curve (`L`).
    public var overlayLosses = false
    /// The trajectory frame being played, when `p` was pressed.
    public var playFrame: Int?
    /// A note from the UI itself (the theme switched to), shown on the message line until the next
    /// key.
    public var notice: String?

    public init(settings: StudioSettings) { self.settings = settings }
}

/// Where each panel goes for a terminal size.
public struct Layout: Sendable, Equatable {
    public var status: Rect, slider: Rect, controls: Rect, metrics: Rect, preview: Rect, loss: Rect,
        message: Rect

    public static let minimumWidth = 56
    public static let minimumHeight = 18

    /// Nil when the terminal is too small for the studio.
    public init?(width: Int, height: Int) {
        guard width >= Self.minimumWidth, height >= Self.minimumHeight else { return nil }
        let left = width >= 120 ? 40 : width >= 80 ? 32 : 27
        let bodyTop = 1
        let bodyHeight = height - 2
        status = Rect(x: 0, y: 0, width: width, height: 1)
        message = Rect(x: 0, y: height - 1, width: width, height: 1)
        slider = Rect(x: 0, y: bodyTop, width: left, height: 5)
        // The metrics keep 6 rows where the controls can still show 5 (D to weight bits); the
        // controls scroll with the focus.
        let controlsHeight = min(Control.allCases.count + 2, max(7, bodyHeight - 5 - 6))
        controls = Rect(x: 0, y: bodyTop + 5, width: left, height: controlsHeight)
        metrics = Rect(
            x: 0, y: bodyTop + 5 + controlsHeight, width: left,
            height: bodyHeight - 5 - controlsHeight)
        let lossHeight = max(6, bodyHeight / 3)
        preview = Rect(x: left, y: bodyTop, width: width - left, height: bodyHeight - lossHeight)
        loss = Rect(
            x: left, y: bodyTop + bodyHeight - lossHeight, width: width - left, height: lossHeight)
    }
}

/// Renders (snapshot, UI state, size, style) into a canvas: a pure function, tested in memory.
public struct StudioView {
    public let snapshot: Snapshot
    public let ui: UIState
    public let style: Style
    public let colors: Int

    public init(snapshot: Snapshot, ui: UIState, style: Style, colors: Int) {
        self.snapshot = snapshot
        self.ui = ui
        self.style = style
        self.colors = colors
    }

    public func render(width: Int, height: Int) -> Canvas {
        var canvas = Canvas(width: width, height: height)
        guard let layout = Layout(width: width, height: height) else {
            drawTooSmall(&canvas)
            return canvas
        }
        drawStatus(&canvas, layout.status)
        drawSlider(&canvas, layout.slider)
        drawControls(&canvas, layout.controls)
        drawMetrics(&canvas, layout.metrics)
        drawPreview(&canvas, layout.preview)
        drawLoss(&canvas, layout.loss)
        drawMessage(&canvas, layout.message)
        switch ui.mode {
        case .panels: break
        case .help: drawHelp(&canvas)
        case .sweep: drawSweep(&canvas)
        case .probes: drawProbes(&canvas)
        case .coupled: drawCoupled(&canvas)
        case .nearest: drawNearest(&canvas)
        }
        if !style.glyphs.unicode { canvas.transliterate() }
        return canvas
    }

    var theme: Theme { style.theme }

    /// Whose losses the chart shows: the model in training, else the shown model's logged run, else
    /// none.
    func lossTitle(_ snapshot: Snapshot) -> String {
        if let follow = snapshot.follow { return "followed \(follow.model)" }
        if let d = snapshot.trainingDimension { return "D=\(d)" }
        return snapshot.loss.buckets.isEmpty
            ? "no model" : "D=\(snapshot.settings.augmentedDimension) (logged)"
    }

    /// The shown model's losses, or every model's overlaid (`L`) when there are two or more.
    func drawLoss(_ canvas: inout Canvas, _ rect: Rect) {
        let overlaid = ui.overlayLosses && snapshot.losses.count >= 2
        let whose =
            overlaid
            ? "every model"
            : lossTitle(snapshot) + (ui.overlayLosses ? " (one model: no overlay)" : "")
        let inner = canvas.panel(
            rect, title: "Loss · \(whose) · \(ui.smoothing.legend)", style: style)
        guard overlaid else {
            return LossChart.draw(
                snapshot.loss, into: &canvas, rect: inner, style: style,
                totalSteps: snapshot.step, smoothing: ui.smoothing)
        }
        let curves = snapshot.losses.enumerated().map { i, model in
            LossCurve(
                label: model.augmentedDimension.map { "D=\($0)" } ?? "one",
                history: model.history, colour: theme.seriesColor(i))
        }
        LossChart.overlay(
            curves, into: &canvas, rect: inner, style: style, smoothing: ui.smoothing)
    }

    func drawTooSmall(_ canvas: inout Canvas) {
        let lines = [
            "Terminal too small: \(canvas.width)x\(canvas.height)",
            "The studio needs \(Layout.minimumWidth)x\(Layout.minimumHeight).",
            "Enlarge the window, or q to quit.",
        ]
        for (i, line) in lines.enumerated() {
            let y = canvas.height / 2 - 1 + i
            canvas.put(
                String(line.prefix(canvas.width)), x: max(0, (canvas.width - line.count) / 2), y: y,
                foreground: i == 0 ? theme.warn : theme.text, bold: i == 0)
        }
    }

    func drawStatus(_ canvas: inout Canvas, _ rect: Rect) {
        canvas.fill(rect, with: Cell(" ", reverse: theme.isMonochrome))
        let s = snapshot
        let trainingElsewhere =
            s.trainingDimension.map { $0 != ui.settings.augmentedDimension } ?? false
        let state: (String, Int) =
            switch s.state {
            case .training:
                (
                    "● training"
                        + (trainingElsewhere
                            ? " D=\(s.trainingDimension?.description ?? "?")" : ""),
                    theme.good
                )
            case .paused: ("‖ paused", theme.warn)
            case .sampling: ("◌ sampling", theme.accent)
            case .saving: ("saving…", theme.warn)
            case .stopped: ("stopped", theme.dim)
            case .starting: ("starting", theme.dim)
            case .following: ("◉ following", theme.accent)
            }
        // (text, priority): the highest numbers go first when the line does not fit.
        var segments: [(String, Int)] = [
            ("PFGM++ Studio", 5), ("\(s.dataName) N=\(s.dim)", 3),
            ("D=\(ui.settings.augmentedDimension)", 0), (Self.stepText(s, ui.settings), 2),
            (String(format: "%.1f steps/s", s.stepsPerSecond), 4),
            ("loss \(s.lastLoss.map { Format.number(Double($0)) } ?? "–")", 3),
        ]
        if let follow = s.follow {
            segments.insert((Self.followLine(follow), 1), at: 2)
            segments.insert(("\(follow.path)", 3), at: 2)
        }
        func length() -> Int { segments.reduce(0) { $0 + $1.0.count + 3 } + state.0.count + 1 }
        while length() > rect.width, let drop = segments.map(\.1).max(), drop > 0 {
            segments.removeAll { $0.1 == drop }
        }
        let text = " " + segments.map(\.0).joined(separator: " │ ") + " │ "
        canvas.text(
            text, in: rect, row: 0, foreground: theme.text, bold: true, reverse: theme.isMonochrome)
        canvas.text(
            state.0, in: rect, row: 0, column: text.count, foreground: state.1, bold: true,
            reverse: theme.isMonochrome)
    }

    /// The trainer's step, and the shown model's when that is another ("step 3000 · shown 500").
    static func stepText(_ s: Snapshot, _ settings: StudioSettings) -> String {
        guard let shown = shownStep(s, settings), shown != s.step else { return "step \(s.step)" }
        return "step \(s.step) · shown \(shown)"
    }

    /// The step of the model the preview uses at the slider's D (nil: the oracle, or a followed
    /// run).
    static func shownStep(_ s: Snapshot, _ settings: StudioSettings) -> Int? {
        guard !settings.useOracle, s.follow == nil else { return nil }
        let d = settings.augmentedDimension
        if settings.useOneNetwork, let one = s.oneNetwork, one.range.contains(d) { return one.step }
        return s.bank.first { $0.augmentedDimension == d }?.step
    }

    /// How the followed trainer stands: finished, who trains it, and how long since anything
    /// changed.
    static func followLine(_ follow: FollowStatus) -> String {
        let age = "updated " + Format.age(follow.secondsSinceChange) + " ago"
        let trainer: String? =
            switch follow.trainer {
            case .running(let pid): "trainer pid \(pid)"
            case _ where follow.finished: "finished"
            case .absent: "no trainer running"
            case .unknown: nil
            }
        return ([follow.model] + (trainer.map { [$0] } ?? []) + [age]).joined(separator: " · ")
    }

    /// The column of ladder entry `index` inside a track of `width` cells.
    public static func sliderColumn(index: Int, count: Int, width: Int) -> Int {
        count <= 1 ? 0 : Int((Double(index) / Double(count - 1) * Double(width - 1)).rounded())
    }

    func drawSlider(_ canvas: inout Canvas, _ rect: Rect) {
        let inner = canvas.panel(
            rect, title: "Augmented dimension D", style: style,
            highlighted: ui.focus == .augmentedDimension)
        let ladder = snapshot.ladder
        let trained = Set(snapshot.bank.map(\.augmentedDimension))
        let width = inner.width - 2
        guard width > 2 else { return }
        for x in 0..<width {
            canvas[inner.x + 1 + x, inner.y] = Cell(style.glyphs.track, foreground: theme.border)
        }
        let current = ladder.firstIndex(of: ui.settings.augmentedDimension)
        for (i, d) in ladder.enumerated() {
            let x = inner.x + 1 + Self.sliderColumn(index: i, count: ladder.count, width: width)
            let has = trained.contains(d)
            canvas[x, inner.y] = Cell(
                has ? style.glyphs.filled : style.glyphs.empty,
                foreground: has ? theme.good : theme.dim)
            if i == current {
                canvas[x, inner.y + 1] = Cell(
                    style.glyphs.marker, foreground: theme.accent, bold: true)
            }
        }
        canvas.text("1", in: inner, row: 2, column: 1, foreground: theme.dim)
        canvas.text("∞", in: inner, row: 2, column: inner.width - 2, foreground: theme.dim)
        let d = ui.settings.augmentedDimension
        let one =
            snapshot.oneNetwork.map {
                $0.range.contains(d) && ui.settings.useOneNetwork && !ui.settings.useOracle
            } ?? false
        let label =
            "D=\(d)" + (d.isInfinite ? " (diffusion)" : d == .finite(1) ? " (PFGM)" : "")
            + (trained.contains(d) ? " ●" : "")
            + (one ? " · one network" : "")
        canvas.text(
            label, in: inner, row: 2, column: max(2, (inner.width - label.count) / 2),
            foreground: theme.text, bold: true)
    }

    func drawControls(_ canvas: inout Canvas, _ rect: Rect) {
        let inner = canvas.panel(rect, title: "Controls  ↑↓ +/-", style: style)
        let first = max(0, ui.focus.rawValue - (inner.height - 1))
        for (index, control) in Control.allCases.enumerated()
        where index >= first && index - first < inner.height {
            let row = index - first
            let focused = control == ui.focus
            let fg = focused ? theme.focusText : theme.text
            let bg = focused ? theme.focusBackground : -1
            let reverse = focused && theme.isMonochrome
            canvas.fill(
                Rect(x: inner.x, y: inner.y + row, width: inner.width, height: 1),
                with: Cell(" ", background: bg, reverse: reverse))
            canvas.text(
                (focused ? "›" : " ") + control.label, in: inner, row: row, foreground: fg,
                background: bg, bold: focused, reverse: reverse)
            canvas.text(
                control.value(ui.settings, dim: snapshot.dim), in: inner, row: row, column: 13,
                foreground: focused ? fg : theme.accent, background: bg, reverse: reverse)
        }
    }

    func drawMetrics(_ canvas: inout Canvas, _ rect: Rect) {
        let image = snapshot.imageMetrics
        if let image, image.metric == .frechet { return drawFrechet(&canvas, rect, image) }
        let inner = canvas.panel(
            rect, title: image == nil ? "Metrics · SWD  MMD²" : "Metrics · pixels SWD  MMD²",
            style: style)
        guard let first = snapshot.metrics.first else {
            canvas.text(
                image.map { $0.status.isEmpty ? "after the first batch" : $0.status }
                    ?? "after the first preview",
                in: inner, row: 0, foreground: theme.dim)
            return
        }
        // The rows, then the floor; the column header only where there is room for all three.
        let rows = shownFirst(
            snapshot.metrics, fitting: max(1, inner.height - 1), \.augmentedDimension)
        let header = inner.height >= rows.count + 2
        // Memorisation where the panel has room for a fourth column.
        let memorised = inner.width >= 30 && first.memorisation != nil
        if header {
            canvas.text(
                "D      SWD       MMD²" + (memorised ? "     mem" : ""), in: inner, row: 0,
                foreground: theme.dim)
        }
        func share(_ v: Double?) -> String {
            memorised ? " " + Format.pad(v.map { String(format: "%.2f", $0) } ?? "", 4) : ""
        }
        for (i, m) in rows.enumerated() {
            let color = floorColor(m.swd, m.swdFloor)
            let line =
                Format.pad("\(m.augmentedDimension)", 6) + m.source.tag
                + Format.pad(Format.number(m.swd), 9)
                + " "
                + Format.pad(Format.number(m.mmdSquared, digits: 2), 8) + share(m.memorisation)
            canvas.text(line, in: inner, row: i + (header ? 1 : 0), foreground: color)
        }
        guard inner.height >= 2 else { return }
        let floor =
            "floor  " + Format.pad(Format.number(first.swdFloor), 9) + " "
            + Format.pad(Format.number(first.mmdSquaredFloor, digits: 2), 8)
            + share(first.memorisationFloor)
        canvas.text(
            floor, in: inner, row: min(inner.height - 1, rows.count + (header ? 1 : 0)),
            foreground: theme.dim)
    }

    /// fd-fmnist per D of background batches, with the floor and ceiling at the same size and what
    /// is under way.
    func drawFrechet(_ canvas: inout Canvas, _ rect: Rect, _ metrics: ImageMetrics) {
        let inner = canvas.panel(
            rect, title: "Metrics · fd-fmnist n=\(metrics.count)", style: style)
        let status = metrics.status.isEmpty ? [] : [metrics.status]
        guard let floor = metrics.floor, let ceiling = metrics.ceiling else {
            canvas.text(status.first ?? "preparing", in: inner, row: 0, foreground: theme.dim)
            return
        }
        let rows = shownFirst(
            metrics.rows, fitting: max(1, inner.height - 1 - status.count), \.augmentedDimension)
        if rows.isEmpty {
            canvas.text("after the first batch", in: inner, row: 0, foreground: theme.dim)
        }
        for (i, row) in rows.enumerated() {
            let color = floorColor(row.value, floor)
            let line =
                Format.pad("\(row.augmentedDimension)", 6) + row.source.tag
                + Format.number(row.value)
                + " (step \(Format.steps(row.step)))"
            canvas.text(line, in: inner, row: i, foreground: color)
        }
        let below = max(rows.count, 1)
        guard inner.height > below else { return }
        canvas.text(
            "floor \(Format.number(floor)) · ceiling \(Format.number(ceiling))", in: inner,
            row: below, foreground: theme.dim)
        if let line = status.first, inner.height > below + 1 {
            canvas.text(line, in: inner, row: below + 1, foreground: theme.dim)
        }
    }

    /// At most `count` rows, those of the shown D first when not all fit, in order of D.
    func shownFirst<Row>(_ all: [Row], fitting count: Int, _ d: KeyPath<Row, AugmentedDimension>)
        -> [Row]
    {
        guard all.count > count else { return all }
        let shown = all.filter { $0[keyPath: d] == ui.settings.augmentedDimension }
        let rest = all.filter { $0[keyPath: d] != ui.settings.augmentedDimension }
        return Array((shown + rest).prefix(count)).sorted { $0[keyPath: d] < $1[keyPath: d] }
    }

    /// Good within 1.5× the floor, a warning within 3×, bad beyond.
    func floorColor(_ value: Double, _ floor: Double) -> Int {
        let ratio = value / max(floor, 1e-12)
        return ratio < 1.5 ? theme.good : ratio < 3 ? theme.warn : theme.bad
    }

    func drawPreview(_ canvas: inout Canvas, _ rect: Rect) {
        guard let preview = snapshot.preview else {
            let inner = canvas.panel(rect, title: "Samples", style: style)
            canvas.text(
                "sampling…", in: inner, row: inner.height / 2, column: max(0, inner.width / 2 - 5),
                foreground: theme.dim)
            return
        }
        var points = preview.points
        var title =
            "Samples · \(preview.source) · NFE \(preview.settings.functionEvaluations) · "
            + Format.seconds(preview.seconds)
        if let frame = ui.playFrame, frame < preview.trajectory.count {
            points = preview.trajectory[frame]
            title =
                """
                Trajectory · σ = \(Format.number(preview.trajectorySigmas[frame])) · step \
                \(frame)/\(preview.trajectory.count - 1)
                """
        }
        let inner = canvas.panel(rect, title: title, style: style)
        switch snapshot.kind {
        case .image(let side, let channels):
            let shape = ImageShape(channels: channels, side: side)
            ImageGrid.draw(
                points, shape: shape, into: &canvas, rect: inner, style: style, colors: colors)
        case .plane, .projection:
            let plot = DensityPlot(bounds: snapshot.bounds)
            let inside = plot.draw(
                points, overlay: ui.showOverlay ? snapshot.overlay : nil, into: &canvas,
                rect: inner, style: style)
            var caption = snapshot.kind == .projection ? "PC1 × PC2 of N=\(snapshot.dim)" : ""
            if inside < 0.995 {
                caption +=
                    (caption.isEmpty ? "" : " · ") + "\(Int((inside * 100).rounded()))% in view"
            }
            if !caption.isEmpty {
                canvas.text(
                    caption, in: inner, row: inner.height - 1,
                    column: max(0, inner.width - caption.count), foreground: theme.dim)
            }
        }
    }

    func drawMessage(_ canvas: inout Canvas, _ rect: Rect) {
        let hints = snapshot.follow == nil ? KeyTable.trainingHints : KeyTable.followingHints
        let problem = snapshot.follow?.problem
        let message = problem ?? ui.notice ?? snapshot.message
        let bad = problem != nil || ui.notice == nil && snapshot.messageKind == .problem
        let shown = Format.fitted(message, width: rect.width - 2)
        canvas.text(" " + shown, in: rect, row: 0, foreground: bad ? theme.bad : theme.text)
        if rect.width - shown.count - 3 >= hints.count {
            canvas.text(
                hints, in: rect, row: 0, column: rect.width - hints.count - 1, foreground: theme.dim
            )
        }
    }

    func drawSweep(_ canvas: inout Canvas) {
        let width = canvas.width - 2
        let source =
            snapshot.sweep.isEmpty
            ? [
                "No sweep is open.", "", "Run one with: pfgm sweep --data NAME --steps K --out DIR",
                "then open it with: pfgm studio --sweep DIR",
            ] : snapshot.sweep
        let lines = source.flatMap { Self.wrap($0, width: width - 4) }
        let height = min(canvas.height - 2, lines.count + 3)
        let rect = Rect(x: 1, y: (canvas.height - height) / 2, width: width, height: height)
        canvas.fill(rect)
        let inner = canvas.panel(
            rect, title: "Sweep · w or Esc closes · its models are in the bank (← → to move D)",
            style: style, highlighted: true)
        for (i, line) in lines.enumerated() where i < inner.height {
            let heading = !line.hasPrefix(" ") && (line.contains(" vs ") || line.hasPrefix("D "))
            canvas.text(
                line, in: inner, row: i, column: 1, foreground: heading ? theme.accent : theme.text,
                bold: heading)
        }
    }

    /// Splits a line at spaces so each piece fits `width` columns.
    static func wrap(_ line: String, width: Int) -> [String] {
        guard line.count > width, width > 8 else { return [line] }
        var out: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if current.count + word.count + 1 > width && !current.isEmpty {
                out.append(current)
                current = "  " + word
            } else {
                current += current.isEmpty ? String(word) : " " + word
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The key table in one column, or in two where the terminal is too short for one.
    func drawHelp(_ canvas: inout Canvas) {
        let keys = KeyTable.bindings
        let columns = canvas.height - 6 >= keys.count ? 1 : 2
        let rows = (keys.count + columns - 1) / columns
        let width = min(canvas.width - 2, 52 * columns - 14 * (columns - 1))
        let height = min(canvas.height - 2, rows + 4)
        let rect = Rect(
            x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width: width,
            height: height)
        canvas.fill(rect)
        let inner = canvas.panel(rect, title: "Help · keys", style: style, highlighted: true)
        let columnWidth = inner.width / columns
        for (i, binding) in keys.enumerated() where i % rows < inner.height {
            let column = Rect(
                x: inner.x + (i / rows) * columnWidth, y: inner.y, width: columnWidth - 1,
                height: inner.height)
            canvas.text(
                binding.label, in: column, row: i % rows, column: 1, foreground: theme.accent,
                bold: true)
            canvas.text(binding.help, in: column, row: i % rows, column: 7, foreground: theme.text)
        }
        guard inner.height > rows else { return }
        canvas.text(
            "D=1 is PFGM, D=∞ is diffusion (EDM).", in: inner, row: inner.height - 1, column: 1,
            foreground: theme.dim)
    }
}

extension SampleSource {
    /// The mark after a metrics row's D: `o` for the oracle, `n` for the one network (its key).
    var tag: String {
        switch self {
        case .model: " "
        case .oneNetwork: "n"
        case .oracle: "o"
        }
    }
}

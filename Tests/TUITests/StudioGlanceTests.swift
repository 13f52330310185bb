import Engine
import Foundation
import TUI
import Testing

/// What D does at a glance, in memory: titles and messages elided at word boundaries, every
/// model's loss overlaid, the coupled panels' colours and image layout, true colour, and export's
/// command and names.
@Suite struct StudioGlanceTests {
    func render(_ s: Snapshot, _ ui: UIState? = nil, width: Int, height: Int, colors: Int = 256)
        -> Canvas
    {
        StudioView(
            snapshot: s, ui: ui ?? UIState(settings: s.settings),
            style: Style(theme: .dark, glyphs: .unicodeSet), colors: colors
        ).render(width: width, height: height)
    }

    /// `fitted` drops parenthetical asides first, then trailing " · " parts, then ends at a word
    /// with "…"; it never returns more than the width.
    @Test func fittedDropsTheLeastImportantPartsFirst() {
        let title = "Samples · oracle (no model at D=2; t trains one, n one network) · NFE 35"
        #expect(Format.fitted(title, width: 80) == title)
        #expect(Format.fitted(title, width: 44) == "Samples · oracle · NFE 35")
        #expect(
            Format.fitted("Same noise · NFE 35 · 3/6 · c or Esc closes", width: 20)
                == "Same noise · NFE 35")
        let words = "training the one network for every D and then some more words"
        let cut = Format.fitted(words, width: 30)
        #expect(cut.count <= 30 && cut.hasSuffix("…"))
        #expect(words.hasPrefix(String(cut.dropLast())) && words.contains(cut.dropLast() + " "))
        for width in 0..<60 { #expect(Format.fitted(title, width: width).count <= max(width, 0)) }
    }

    /// At 80×24 the preview's title and a long message are cut at words, not mid-word.
    @Test func panelTitlesAndTheMessageLineEndAtWords() {
        var s = StudioViewTests.snapshot()
        s.preview?.source = "oracle (no model at D=2; t trains one, n one network for every D)"
        s.message =
            "training the one network for every D (← → show it at any D; m: the D's own model)"
        let text = render(s, width: 80, height: 24).text
        #expect(text.contains("Samples · oracle · NFE 35"), "\(text)")
        #expect(!text.contains("t trains one…") && !text.contains("own mode\n"))
        let message = text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(message.contains("training the one network for every D"), "\(message)")
        #expect(!message.contains("(← →"), "\(message)")
    }

    static func losses(_ count: Int) -> [ModelLoss] {
        (0..<count).map { k in
            var h = LossHistory()
            for i in 0..<(300 + 100 * k) { h.append(Float(2 / (1 + Double(i) / 40) + Double(k))) }
            return ModelLoss(
                augmentedDimension: k == 2 ? nil : .finite(Double(1 << (3 * k))), history: h)
        }
    }

    /// `L` overlays every model's loss in its own colour with a legend; with one model the title
    /// says there is nothing to overlay.
    @Test func theLossOverlayDrawsEveryModelInItsColour() {
        var s = StudioViewTests.snapshot()
        s.losses = Self.losses(3)
        var ui = UIState(settings: s.settings)
        ui.overlayLosses = true
        let canvas = render(s, ui, width: 120, height: 40)
        #expect(canvas.text.contains("Loss · every model · EMA 0.85"))
        #expect(canvas.text.contains("■D=1") && canvas.text.contains("■D=8"))
        #expect(canvas.text.contains("■one"))
        let loss = Layout(width: 120, height: 40)?.loss ?? Rect(x: 0, y: 0, width: 0, height: 0)
        let colours = Set(
            (loss.y + 1..<(loss.y + loss.height - 2)).flatMap { y in
                (loss.x + 8..<(loss.x + loss.width - 1)).compactMap { x -> Int? in
                    let c = canvas[x, y]
                    return (0x2801...0x28FF).contains(c.character.unicodeScalars.first?.value ?? 0)
                        ? c.foreground : nil
                }
            })
        #expect(colours == Set((0..<3).map { Theme.dark.seriesColor($0) }), "\(colours)")
        s.losses = Self.losses(1)
        #expect(render(s, ui, width: 120, height: 40).text.contains("(one model: no overlay)"))
        ui.overlayLosses = false
        #expect(render(s, ui, width: 120, height: 40).text.contains("Loss · D=128 · EMA"))
    }

    /// Sample k keeps its group's colour in every coupled panel: the group is where it lies in the
    /// first panel, by angle.
    @Test func coupledPointsKeepTheirColourAcrossPanels() {
        // Six points, one per sixth of the plane, moved between panels.
        let first = Matrix(
            rows: 6, cols: 2,
            storage: (0..<6).flatMap { k -> [Float] in
                let a = -Double.pi + (Double(k) + 0.5) * Double.pi / 3
                return [Float(2 * cos(a)), Float(2 * sin(a))]
            })
        let groups = StudioView.coupledGroups(first, (-3, 3, -3, 3))
        #expect(groups == [0, 1, 2, 3, 4, 5])
        var moved = first
        for k in 0..<6 { moved[k, 0] = -2.5 + Float(k) }
        for k in 0..<6 { moved[k, 1] = 0 }
        var s = StudioViewTests.snapshot()
        s.overlay = Matrix(rows: 0, cols: 2)
        var grid = CoupledGrid(total: 2)
        grid.panels = [
            CoupledPanel(augmentedDimension: .finite(1), label: "oracle", points: first),
            CoupledPanel(augmentedDimension: .infinite, label: "oracle", points: moved),
        ]
        s.coupled = grid
        var ui = UIState(settings: s.settings)
        ui.mode = .coupled
        let canvas = render(s, ui, width: 120, height: 40)
        var seen: [Int: Int] = [:]
        for y in 0..<40 {
            for x in 0..<120 {
                let c = canvas[x, y]
                guard (0x2801...0x28FF).contains(c.character.unicodeScalars.first?.value ?? 0)
                else { continue }
                seen[c.foreground, default: 0] += 1
            }
        }
        // Every group's colour appears once in each panel.
        #expect(Set(seen.keys) == Set((0..<6).map { Theme.dark.seriesColor($0) }), "\(seen)")
        #expect(seen.values.allSatisfy { $0 == 2 }, "\(seen)")
    }

    /// Coupled image rows take the columns that keep two samples a row with the largest images:
    /// two at 80×24 (7-pixel images of 14), one at 200×60 (whole images).
    @Test(arguments: [(80, 24, 7), (200, 60, 14)])
    func coupledImagesTakeTheLayoutThatShowsMost(width: Int, height: Int, pixels: Int) {
        var s = StudioViewTests.snapshot(
            kind: .image(side: 14), dim: 196, points: Matrix(rows: 8, cols: 196, repeating: 0))
        var grid = CoupledGrid(total: 6)
        grid.panels = CoupledQueue.marks.map {
            CoupledPanel(
                augmentedDimension: $0, label: "one network, step 900",
                points: Matrix(rows: 8, cols: 196, repeating: 0.5))
        }
        s.coupled = grid
        var ui = UIState(settings: s.settings)
        ui.mode = .coupled
        let text = render(s, ui, width: width, height: height).text
        let lines = text.split(separator: "\n").map(String.init)
        // The longest run of half blocks on a row: one image's width.
        let run =
            lines.map { line in
                line.split(whereSeparator: { $0 != "▀" }).map(\.count).max() ?? 0
            }.max() ?? 0
        #expect(run == pixels, "\(text)")
        for d in ["D=1", "D=2048", "D=inf"] { #expect(text.contains(d)) }
        let sameRow = lines.contains { $0.contains("D=1 ") && $0.contains("D=128") }
        #expect(sameRow == (width == 80), "\(text)")
    }

    /// COLORTERM=truecolor or 24bit moves a 256-colour TERM to its direct-colour variant (else
    /// xterm-direct) where that is installed; otherwise nothing changes.
    @Test func trueColourPicksADirectColourTerminalType() {
        let installed: Set<String> = ["xterm-direct", "tmux-direct"]
        let pick = { (term: String, said: String?) in
            TrueColour.terminalType(term: term, colorTerm: said) { installed.contains($0) }
        }
        #expect(pick("xterm-256color", "truecolor") == "xterm-direct")
        #expect(pick("tmux-256color", "24bit") == "tmux-direct")
        #expect(pick("screen-256color", "truecolor") == "xterm-direct")
        #expect(pick("xterm-256color", nil) == nil)
        #expect(pick("xterm-256color", "yes") == nil)
        #expect(pick("xterm-direct", "truecolor") == nil)
        let none = TrueColour.terminalType(term: "xterm-256color", colorTerm: "truecolor") { _ in
            false
        }
        #expect(none == nil)
    }

    /// On a direct-colour terminal a grey image uses 256 grey levels, each its own 24-bit value; on
    /// 256 colours, the palette's ramp.
    @Test func greyImagesUse24BitGreysOnDirectColour() {
        let ramp = Matrix(
            rows: 1, cols: 256, storage: (0..<256).map { Float($0) / 127.5 - 1 })
        var direct = Set<Int>()
        var palette = Set<Int>()
        for (colors, into) in [(Palette.directColours, 0), (256, 1)] {
            var canvas = Canvas(width: 20, height: 10)
            ImageGrid.draw(
                ramp, shape: ImageShape(channels: 1, side: 16), into: &canvas,
                rect: Rect(x: 0, y: 0, width: 20, height: 10),
                style: Style(theme: .dark, glyphs: .unicodeSet), colors: colors)
            let cells = canvas.cells.filter { $0.character == "▀" }
            let colours = Set(cells.flatMap { [$0.foreground, $0.background] })
            if into == 0 { direct = colours } else { palette = colours }
        }
        #expect(direct.count == 256 && direct.allSatisfy { $0 >= 256 })
        #expect(direct.allSatisfy { Palette.rgb($0).0 == Palette.rgb($0).1 })
        #expect(palette.count <= 26 && palette.allSatisfy { $0 < 256 })
    }

    /// The command an export gives: its flags in `pfgm sample`'s words, paths quoted for a shell.
    @Test func anExportsCommandSpellsEverySetting() {
        var settings = StudioSettings(augmentedDimension: .finite(16))
        (settings.steps, settings.alpha, settings.bits, settings.seed) = (9, 0.1, 6, 4)
        let command = SampleCommand(
            source: .run(path: "runs/my run", step: 300), dimensions: [.finite(16)], count: 800,
            settings: settings, out: "a.npy", png: "a.png")
        #expect(
            command.line
                == "pfgm sample --ckpt 'runs/my run' --aug-dim 16 --count 800 --steps 9 "
                + "--solver heun --alpha 0.1 --seed 4 --sigma-max 80.0 --sigma-min 0.002 "
                + "--bits 6 --out a.npy --png a.png")
        let coupled = SampleCommand(
            source: .oracle(points: "o.npy"), dimensions: [.finite(1), .infinite], coupled: true,
            count: 300, settings: settings, out: "b.npy")
        #expect(coupled.arguments.contains("--coupled") && !coupled.arguments.contains("--bits"))
        #expect(coupled.line.contains("--oracle o.npy --aug-dims 1,inf --coupled"))
        let names = Set(["x/d-preview-D16-seed4-20261206-101010"])
        let base = ExportName.base(
            folder: "x", data: "d", view: .preview, settings: settings,
            date: Date(timeIntervalSince1970: 1_796_551_810), taken: { names.contains($0) })
        #expect(base == "x/d-preview-D16-seed4-20261206-101010-2")
    }
}

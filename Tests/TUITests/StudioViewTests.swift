import Engine
import Foundation
import Synchronization
import TUI
import Testing

/// The studio rendered into memory: panels, slider, images, notices, help, keys, themes.
@Suite struct StudioViewTests {
    static func snapshot(kind: PreviewKind = .plane, dim: Int = 2, points: Matrix? = nil)
        -> Snapshot
    {
        let settings = StudioSettings(augmentedDimension: .finite(128))
        var rng = RandomSource(seed: 1)
        let data = Perturbation.prior(
            count: 300, dim: 2, augmentedDimension: .infinite, sigma: 1, rng: &rng)
        var s = Snapshot(
            dataName: "checkerboard", dim: dim, sigmaData: 1, kind: kind, bounds: (-3, 3, -3, 3),
            overlay: data, ladder: StudioEngine.ladder(dim: dim), settings: settings)
        s.preview = Preview(
            points: points ?? data, trajectory: [data, data], trajectorySigmas: [80, 0],
            source: "model D=128, step 500", settings: settings, seconds: 0.1)
        var loss = LossHistory()
        for i in 0..<400 { loss.append(Float(1 / (1 + Double(i) / 50))) }
        s.loss = loss
        s.step = 400
        s.lastLoss = 0.412
        s.trainingDimension = .finite(128)
        s.bank = [BankEntry(augmentedDimension: .finite(128), step: 400)]
        s.metrics = [
            MetricRow(
                augmentedDimension: .finite(128), source: .model, step: 400, swd: 0.2,
                swdFloor: 0.15, mmdSquared: 0.05, mmdSquaredFloor: 0.03)
        ]
        s.message = "training D=128"
        s.state = .training
        return s
    }

    func render(
        _ s: Snapshot, _ ui: UIState? = nil, width: Int, height: Int, unicode: Bool = true,
        theme: Theme = .dark
    ) -> Canvas {
        let style = Style(theme: theme, glyphs: unicode ? .unicodeSet : .asciiSet)
        return StudioView(
            snapshot: s, ui: ui ?? UIState(settings: s.settings), style: style, colors: 256
        ).render(width: width, height: height)
    }

    @Test(arguments: [(80, 24), (200, 60), (56, 18)])
    func everyPanelIsPresent(width: Int, height: Int) {
        let text = render(Self.snapshot(), width: width, height: height).text
        for title in (width >= 100 ? ["PFGM++ Studio"] : []) + [
            "Augmented dimension D", "Controls", "Metrics", "Samples", "Loss", "● training",
        ] {
            #expect(text.contains(title), "\(title) missing at \(width)×\(height)")
        }
        for value in ["D=128", "NFE 35", "heun", "noise α", "weight bits", "step 400"]
            + (width >= 80 ? ["steps/s", "loss 0."] : [])
        {
            #expect(text.contains(value), "\(value) missing at \(width)×\(height)")
        }
    }

    /// The one network answers at every D of its range: the slider says so where it is in use, and
    /// `m` switches.
    @Test func theSliderSaysWhenTheOneNetworkAnswers() throws {
        var s = Self.snapshot()
        s.oneNetwork = OneNetworkEntry(
            range: try #require(AugmentedDimensionRange(parsing: "1..4096,inf")), step: 900)
        #expect(render(s, width: 80, height: 24).text.contains("D=128 ● · one network"))
        var ui = UIState(settings: s.settings)
        ui.settings.useOneNetwork = false
        #expect(!render(s, ui, width: 80, height: 24).text.contains("one network"))
        s.oneNetwork = OneNetworkEntry(
            range: try #require(AugmentedDimensionRange(parsing: "1..64")), step: 900)
        #expect(
            !render(s, width: 80, height: 24).text.contains("· one network"),
            "D=128 lies outside 1..64")
        #expect(KeyTable.action(for: .character("n")) == .trainOneNetwork)
        #expect(KeyTable.action(for: .character("m")) == .toggleOneNetwork)
    }

    /// Colour images: the engine previews a (K, 3, H, W) set as colour images, and each half-block
    /// cell takes the nearest colour of the 256-colour cube (grey images keep the grey ramp).
    @Test func colourImagesDrawAsColourHalfBlocks() throws {
        let dir =
            NSTemporaryDirectory()
            + "pfgm-rgb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Red images: the red plane at +1, green and blue at −1.
        let red = (0..<20).flatMap { _ in
            [Float](repeating: 1, count: 64) + [Float](repeating: -1, count: 128)
        }
        try NPY.write(NPY.Array(shape: [20, 3, 8, 8], values: red), to: dir + "/red.npy")
        let dataset = try Dataset.load(dir + "/red.npy")
        let settings = StudioSettings(augmentedDimension: .finite(128))
        let engine = StudioEngine(dataset: dataset, settings: settings, runsFolder: dir)
        #expect(engine.latest.kind == .image(side: 8, channels: 3))
        let images = Matrix(rows: 4, cols: 192, storage: Array(red.prefix(4 * 192)))
        let s = Self.snapshot(kind: .image(side: 8, channels: 3), dim: 192, points: images)
        let cells = render(s, width: 100, height: 30).cells.filter { $0.character == "▀" }
        let cube = Palette.cube(red: 1, green: -1, blue: -1)
        #expect(cube == 16 + 36 * 5 && cells.count >= 4 * 8 * 4)
        #expect(cells.allSatisfy { $0.foreground == cube && $0.background == cube })
        let style = Style(theme: .dark, glyphs: .unicodeSet)
        let eight = StudioView(
            snapshot: s, ui: UIState(settings: s.settings), style: style, colors: 8
        )
        .render(width: 100, height: 30)
        #expect(
            !eight.cells.contains { $0.character == "▀" }, "8 colours draw shades, not half blocks")
        // A direct-colour terminal gets each pixel's own 24-bit colour.
        let direct = StudioView(
            snapshot: s, ui: UIState(settings: s.settings), style: style,
            colors: Palette.directColours
        ).render(width: 100, height: 30)
        let pure = Palette.direct(red: 255, green: 0, blue: 0)
        let halves = direct.cells.filter { $0.character == "▀" }
        #expect(halves.allSatisfy { $0.foreground == pure && $0.background == pure })
    }

    /// Colours reach each kind of terminal as it can show them: 24-bit values on a direct-colour
    /// one (palette entries by their RGB, the 8 basic colours as they are), the nearest palette
    /// entry on a 256-colour one, the nearest basic colour on an 8-colour one.
    @Test func coloursFitEveryKindOfTerminal() {
        let direct = Palette.directColours
        let red = Palette.direct(red: 255, green: 0, blue: 0)
        #expect(Palette.fit(196, colors: direct) == 0xFF0000 && Palette.fit(3, colors: direct) == 3)
        #expect(Palette.fit(red, colors: direct) == 0xFF0000)
        #expect(Palette.fit(-1, colors: direct) == -1)
        let nearBlack = Palette.direct(red: 0, green: 0, blue: 2)
        #expect(Palette.fit(nearBlack, colors: direct) == 8, "0–7 are the basic colours")
        #expect(Palette.fit(red, colors: 256) == 196 && Palette.fit(244, colors: 256) == 244)
        let gray = Palette.direct(red: 128, green: 128, blue: 128)
        #expect(Palette.fit(gray, colors: 256) == 244, "greys take the ramp")
        #expect(Palette.fit(red, colors: 8) == 9 || Palette.fit(red, colors: 8) == 1)
    }

    /// The status line gives the trainer's step, and the shown model's when another model is shown.
    @Test func theStatusLineGivesTheShownModelsStep() throws {
        var s = Self.snapshot()
        s.bank.append(BankEntry(augmentedDimension: .finite(8), step: 120))
        var ui = UIState(settings: s.settings)
        #expect(render(s, ui, width: 120, height: 30).text.contains("step 400 │"))
        ui.settings.augmentedDimension = .finite(8)
        #expect(render(s, ui, width: 120, height: 30).text.contains("step 400 · shown 120"))
        let range = try #require(AugmentedDimensionRange(parsing: "1..4096,inf"))
        s.oneNetwork = OneNetworkEntry(range: range, step: 900)
        #expect(render(s, ui, width: 120, height: 30).text.contains("step 400 · shown 900"))
        ui.settings.useOracle = true
        #expect(!render(s, ui, width: 120, height: 30).text.contains("shown"))
    }

    /// The loss axis is labelled at round values (1-2-5 of each decade) inside its range.
    @Test func lossAxisHasRoundLabels() {
        let text = render(Self.snapshot(), width: 100, height: 30).text
        let loss = text.split(separator: "\n").drop { !$0.contains("Loss ·") }.joined(
            separator: "\n")
        for label in ["│0.5 ", "│0.2 ", "│log    step 0"] {
            #expect(loss.contains(label), "\(label) missing:\n\(loss)")
        }
    }

    /// Metrics near zero keep their significant digits (MMD² is signed: below 0 when closer than
    /// chance).
    @Test(arguments: [(56, 18), (80, 24), (200, 60)])
    func smallMetricsShowTheirDigits(width: Int, height: Int) {
        var s = Self.snapshot()
        s.metrics = [
            MetricRow(
                augmentedDimension: .finite(128), source: .model, step: 400, swd: 0.000734,
                swdFloor: 0.0421,
                mmdSquared: -2.34e-5, mmdSquaredFloor: 4.1e-6)
        ]
        let text = render(s, width: width, height: height).text
        for value in ["7.34e-04", "-2.3e-05", "4.1e-06", "0.0421", "MMD²"] {
            #expect(text.contains(value), "\(value) missing at \(width)×\(height):\n\(text)")
        }
    }

    /// Following: the status line says what is followed, the step, the trainer and how long since a
    /// change; a read problem takes the message line.
    @Test func theStatusLineSaysWhatIsFollowed() {
        var s = Self.snapshot()
        s.state = .following
        s.trainingDimension = nil
        s.follow = FollowStatus(
            path: "runs/big", model: "D=128", step: 400, stepsPerSecond: 12.5,
            secondsSinceChange: 130,
            trainer: .running(pid: 4242), finished: false)
        var text = render(s, width: 200, height: 60).text
        for value in [
            "◉ following", "runs/big", "D=128 · trainer pid 4242 · updated 2 min ago", "step 400",
            "Loss · followed D=128", "s copy",
        ] {
            #expect(text.contains(value), "\(value) missing:\n\(text)")
        }
        s.follow?.problem = "checkpoint unreadable (truncated); retrying"
        s.follow?.trainer = .absent
        text = render(s, width: 200, height: 60).text
        #expect(text.contains("checkpoint unreadable") && text.contains("no trainer running"))
        #expect(
            render(s, width: 56, height: 18).text.contains("following"),
            "the state survives a narrow status line")
    }

    @Test(arguments: [
        AugmentedDimension.finite(1), .finite(8), .finite(128), .finite(2048), .infinite,
    ])
    func sliderMarkerIsWhereDSays(d: AugmentedDimension) throws {
        var ui = UIState(settings: Self.snapshot().settings)
        ui.settings.augmentedDimension = d
        let canvas = render(Self.snapshot(), ui, width: 80, height: 24)
        let layout = try #require(Layout(width: 80, height: 24))
        let ladder = StudioEngine.ladder(dim: 2)
        let index = try #require(ladder.firstIndex(of: d))
        let track = layout.slider.inner.width - 2
        let expected =
            layout.slider.inner.x + 1
            + StudioView.sliderColumn(index: index, count: ladder.count, width: track)
        let markerRow = layout.slider.inner.y + 1
        let markers = (0..<80).filter { canvas[$0, markerRow].character == "▲" }
        #expect(markers == [expected])
        #expect(canvas.text.contains("D=\(d)"))
    }

    @Test func aKnown4x4ImageBecomesHalfBlockCells() {
        // Rows top to bottom: black, white, mid-grey, alternating.
        let pixels: [Float] = [-1, -1, -1, -1, 1, 1, 1, 1, 0, 0, 0, 0, -1, 1, -1, 1]
        var canvas = Canvas(width: 4, height: 2)
        let style = Style(theme: .dark, glyphs: .unicodeSet)
        let drawn = ImageGrid.draw(
            Matrix(rows: 1, cols: 16, storage: pixels), shape: ImageShape(channels: 1, side: 4),
            into: &canvas, rect: Rect(x: 0, y: 0, width: 4, height: 2), style: style, colors: 256)
        #expect(drawn == 1)
        for x in 0..<4 {
            #expect(canvas[x, 0] == Cell("▀", foreground: 16, background: 231))
            let bottom = x % 2 == 0 ? 16 : 231
            #expect(canvas[x, 1] == Cell("▀", foreground: Palette.gray(0), background: bottom))
        }
    }

    @Test func imagesAreEnlargedWhenAllStillFit() {
        // Rows: (−1, 1) and (0, 1); in a 4×2 rect each pixel becomes 2×2 screen pixels.
        let style = Style(theme: .dark, glyphs: .unicodeSet)
        var canvas = Canvas(width: 4, height: 2)
        let drawn = ImageGrid.draw(
            Matrix(rows: 1, cols: 4, storage: [-1, 1, 0, 1]),
            shape: ImageShape(channels: 1, side: 2),
            into: &canvas, rect: Rect(x: 0, y: 0, width: 4, height: 2), style: style, colors: 256)
        #expect(drawn == 1)
        for x in 0..<4 {
            let right = x >= 2
            #expect(
                canvas[x, 0]
                    == Cell("▀", foreground: right ? 231 : 16, background: right ? 231 : 16))
            #expect(
                canvas[x, 1]
                    == Cell(
                        "▀", foreground: right ? 231 : Palette.gray(0),
                        background: right ? 231 : Palette.gray(0)))
        }
        // 36 images of 7×7 at 200×60 are drawn at twice the size: 14×7 cells each.
        let images = Matrix(rows: 36, cols: 49, repeating: 0.5)
        let text = render(
            Self.snapshot(kind: .image(side: 7), dim: 49, points: images), width: 200, height: 60
        ).text
        #expect(text.filter { $0 == "▀" }.count >= 36 * 14 * 7)
    }

    /// The probes view: three charts whose axes say α, bits and NFE, the floor marked, a legend per
    /// model.
    @Test(arguments: [(200, 60), (80, 24), (120, 40)])
    func probesViewDrawsTheThreeCurves(width: Int, height: Int) {
        var s = Self.snapshot()
        var probes = Probes(metric: .swd, count: 800)
        probes.floor = 0.04
        var curve = ProbeCurve(label: "D=128", augmentedDimension: .finite(128), step: 4200)
        curve.alpha = [0.1, 0.12, 0.2, 0.5]
        curve.bits = [0.1, 0.1, 0.11, 0.2, 0.9]
        curve.nfe = [0.8, 0.3, 0.15, 0.11, 0.1]
        var other = ProbeCurve(label: "D=inf", augmentedDimension: .infinite, step: 4200)
        other.alpha = [0.09, 0.2, nil, nil]
        probes.curves = [curve, other]
        probes.status = "D=inf, step 4200: point 3 of 12"
        s.probes = probes
        var ui = UIState(settings: s.settings)
        ui.mode = .probes
        let text = render(s, ui, width: width, height: height).text
        for value in [
            "Probes · swd", "noise α", "weight bits", "NFE", "floor", "D=128, step 4200",
            "point 3 of 12", "0.05", "35",
        ] {
            #expect(text.contains(value), "\(value) missing at \(width)×\(height):\n\(text)")
        }
        #expect(
            text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) },
            "no braille curves")
    }

    /// The coupled view: a panel (or a row of images) per mark of the slider with its D and what
    /// drew it, progress while the grid fills, and a size notice where panels cannot be read.
    @Test(arguments: [(80, 24), (200, 60)])
    func coupledViewDrawsAPanelPerD(width: Int, height: Int) {
        for images in [false, true] {
            var s =
                images
                ? Self.snapshot(
                    kind: .image(side: 7), dim: 49, points: Matrix(rows: 8, cols: 49, repeating: 0))
                : Self.snapshot()
            var grid = CoupledGrid(total: CoupledQueue.marks.count)
            for d in CoupledQueue.marks.dropLast() {
                let points =
                    images
                    ? Matrix(rows: 8, cols: 49, repeating: 0.5)
                    : s.overlay
                grid.panels.append(
                    CoupledPanel(
                        augmentedDimension: d, label: "one network, step 900", points: points))
            }
            s.coupled = grid
            var ui = UIState(settings: s.settings)
            ui.mode = .coupled
            let text = render(s, ui, width: width, height: height).text
            for value in ["Same noise across D", "5/6", "D=1", "D=4", "D=16", "D=128", "D=2048"] {
                #expect(text.contains(value), "\(value) missing at \(width)×\(height):\n\(text)")
            }
            // The label wraps at words where the column is narrow.
            #expect(text.contains("network,") && !text.contains("D=inf"))
            let drawn =
                images
                ? text.filter { $0 == "▀" }.count >= 5 * 8
                : text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }
            #expect(drawn, "no samples drawn at \(width)×\(height), images \(images)")
        }
        var s = Self.snapshot()
        var ui = UIState(settings: s.settings)
        ui.mode = .coupled
        s.coupled = CoupledGrid(total: 6)
        #expect(render(s, ui, width: 80, height: 24).text.contains("sampling the first D"))
        s.coupled?.panels = [
            CoupledPanel(augmentedDimension: .finite(1), label: "oracle", points: s.overlay)
        ]
        // At the studio's smallest size the panels go three a row, 17 columns wide.
        let small = render(s, ui, width: 56, height: 18).text
        #expect(small.contains("D=1") && small.contains("oracle") && !small.contains("enlarge"))
    }

    /// The nearest-images view: pairs of images with their distance, the memorised ones marked,
    /// the share in the title; for points, a line that points at the metrics.
    @Test(arguments: [(80, 24), (200, 60)])
    func nearestViewPairsEachImageWithItsNeighbour(width: Int, height: Int) {
        var s = Self.snapshot(
            kind: .image(side: 7), dim: 49, points: Matrix(rows: 8, cols: 49, repeating: 0.2))
        s.nearest = NearestImages(
            samples: Matrix(rows: 8, cols: 49, repeating: 0.2),
            neighbours: Matrix(rows: 8, cols: 49, repeating: -0.4),
            distances: [0.01, 0.02, 2.5, 3, 4, 5, 6, 7], threshold: 1)
        var ui = UIState(settings: s.settings)
        ui.mode = .nearest
        let text = render(s, ui, width: width, height: height).text
        for value in ["Nearest training image · 25% memorised", "0.01 ≈", "2.5"] {
            #expect(text.contains(value), "\(value) missing at \(width)×\(height):\n\(text)")
        }
        #expect(text.filter { $0 == "▀" }.count >= 2 * 7 * 4)
        var points = Self.snapshot()
        points.nearest = nil
        #expect(render(points, ui, width: width, height: height).text.contains("mem column"))
    }

    /// The loss line's smoothing: the EMA starts at the first value (bias-corrected), the mean
    /// is over the last 9 columns, both keep a constant constant and look only backwards; the
    /// panel's title names the line, and `none` draws none.
    @Test func lossSmoothingLooksOnlyBackwardsAndTheTitleSaysWhich() {
        var rng = RandomSource(seed: 5)
        let values = (0..<40).map { _ in rng.uniform() }
        for smoothing in [LossSmoothing.ema, .window] {
            let all = smoothing.smoothed(values)
            #expect(all.count == values.count && abs(all[0] - values[0]) < 1e-12)
            for k in [1, 7, 25] {
                #expect(Array(all.prefix(k)) == smoothing.smoothed(Array(values.prefix(k))))
            }
            #expect(
                smoothing.smoothed([Double](repeating: 0.3, count: 20)).allSatisfy {
                    abs($0 - 0.3) < 1e-12
                })
        }
        let window = LossSmoothing.window.smoothed(values)
        #expect(abs(window[20] - values[12...20].reduce(0, +) / 9) < 1e-12)
        #expect(LossSmoothing.none.smoothed(values).isEmpty)
        let s = Self.snapshot()
        var ui = UIState(settings: s.settings)
        // Cells of the loss panel in the line's colour.
        let loss = Layout(width: 120, height: 40)?.loss ?? Rect(x: 0, y: 0, width: 0, height: 0)
        let smoothCells = { (canvas: Canvas) in
            (loss.y..<(loss.y + loss.height)).flatMap { y in
                (loss.x..<(loss.x + loss.width)).map { canvas[$0, y] }
            }.filter { $0.foreground == Theme.dark.lossSmooth }.count
        }
        let ema = render(s, ui, width: 120, height: 40)
        #expect(ema.text.contains("Loss · D=128 · EMA 0.85") && smoothCells(ema) > 0)
        ui.smoothing = .window
        #expect(render(s, ui, width: 120, height: 40).text.contains("· mean of 9"))
        ui.smoothing = .none
        let raw = render(s, ui, width: 120, height: 40)
        #expect(raw.text.contains("· raw") && smoothCells(raw) == 0)
    }

    /// The metrics panel adds the memorisation share, and its floor, where it has room.
    @Test func metricsShowMemorisationWhereThereIsRoom() {
        var s = Self.snapshot()
        s.metrics[0].memorisation = 0.73
        s.metrics[0].memorisationFloor = 0.5
        for (width, height) in [(200, 60), (80, 24)] {
            let text = render(s, width: width, height: height).text
            #expect(
                text.contains("mem") && text.contains("0.73") && text.contains("0.50"),
                "at \(width)×\(height)")
        }
        s.metrics[0].memorisation = nil
        #expect(!render(s, width: 200, height: 60).text.contains("0.73"))
    }

    @Test func imagesFillThePreviewAsAGrid() {
        let images = Matrix(rows: 36, cols: 64, repeating: 0.5)
        let s = Self.snapshot(kind: .image(side: 8), dim: 64, points: images)
        let canvas = render(s, width: 120, height: 40)
        #expect(canvas.text.filter { $0 == "▀" }.count >= 8 * 4 * 6)
        #expect(canvas.text.contains("Metrics"))
    }

    /// fd-fmnist per D with its floor and ceiling; the pixels' SWD for unlabelled images; progress
    /// while preparing.
    @Test func imageMetricsShowFrechetWithFloorAndCeiling() {
        let images = Matrix(rows: 36, cols: 196, repeating: 0.5)
        var s = Self.snapshot(kind: .image(side: 14), dim: 196, points: images)
        s.metrics = []
        var metrics = ImageMetrics(metric: .frechet, count: 250)
        metrics.status = "classifier epoch 3/10"
        s.imageMetrics = metrics
        #expect(render(s, width: 80, height: 24).text.contains("epoch 3/10"))
        metrics.floor = 3.12
        metrics.ceiling = 412
        metrics.rows = [
            FrechetRow(augmentedDimension: .finite(128), source: .model, step: 4200, value: 9.87),
            FrechetRow(
                augmentedDimension: .finite(128), source: .oneNetwork, step: 900, value: 7.5),
            FrechetRow(augmentedDimension: .infinite, source: .oracle, step: 0, value: 3.5),
        ]
        metrics.status = "sampling 75/250 at D=128"
        s.imageMetrics = metrics
        for (w, h) in [(80, 24), (200, 60)] {
            let text = render(s, width: w, height: h).text
            for value in [
                "fd-fmnist n=250", "128    9.87 (step 4200)", "128   n7.5 (step 900)",
                "floor 3.12 · ceiling 412",
            ] {
                #expect(text.contains(value), "\(value) missing at \(w)×\(h):\n\(text)")
            }
            #expect(!text.contains("image metrics: pfgm eval"))
        }
        #expect(render(s, width: 200, height: 60).text.contains("sampling 75/250"))
        s.imageMetrics = ImageMetrics(metric: .pixels, count: 250)
        s.metrics = [
            MetricRow(
                augmentedDimension: .finite(128), source: .model, step: 400, swd: 0.31,
                swdFloor: 0.05,
                mmdSquared: 0.002, mmdSquaredFloor: 1e-5)
        ]
        let text = render(s, width: 80, height: 24).text
        #expect(text.contains("pixels SWD") && text.contains("0.31"), "\(text)")
    }

    @Test func tooSmallShowsANotice() {
        let text = render(Self.snapshot(), width: 40, height: 12).text
        // "x", not "×": a terminal without Unicode (LC_ALL=C) dropped the sign and read "5016".
        #expect(text.contains("Terminal too small: 40x12"))
        #expect(text.contains("56x18"))
        #expect(!text.contains("Controls"))
    }

    /// The README's key table and the help screen list the same keys.
    @Test func theReadmeKeyTableListsEveryKey() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let root = tests.deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(
            contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| ") }.compactMap {
            $0.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        for binding in KeyTable.bindings {
            #expect(
                rows.contains(binding.label), "README's key table has no row for \(binding.label)")
        }
    }

    @Test func helpOverlayListsEveryKey() {
        var ui = UIState(settings: Self.snapshot().settings)
        ui.mode = .help
        let text = render(Self.snapshot(), ui, width: 80, height: 24).text
        #expect(text.contains("Help"))
        for binding in KeyTable.bindings {
            #expect(text.contains(binding.help), "\(binding.label) missing")
        }
    }

    @Test func asciiFallbackDrawsNoUnicode() {
        let text = render(Self.snapshot(), width: 100, height: 30, unicode: false).text
        let nonASCII = text.unicodeScalars.filter { $0.value > 127 }
        #expect(
            nonASCII.isEmpty, "non-ASCII: \(String(String.UnicodeScalarView(nonASCII.prefix(20))))")
        #expect(text.contains("+-"))
    }

    @Test func trajectoryPlaybackShowsSigma() {
        var ui = UIState(settings: Self.snapshot().settings)
        ui.playFrame = 0
        #expect(render(Self.snapshot(), ui, width: 100, height: 30).text.contains("σ = 80"))
    }

    @Test func monochromeThemeUsesNoColours() {
        let canvas = render(Self.snapshot(), width: 100, height: 30, theme: .mono)
        #expect(canvas.cells.allSatisfy { $0.foreground == -1 && $0.background == -1 })
        #expect(canvas.cells.contains { $0.reverse })
    }
}

@Suite struct StudioKeyTests {
    func render(_ s: Snapshot, _ ui: UIState, width: Int, height: Int) -> Canvas {
        StudioView(
            snapshot: s, ui: ui, style: Style(theme: .dark, glyphs: .unicodeSet), colors: 256
        )
        .render(width: width, height: height)
    }

    static func engine() -> StudioEngine {
        let dataset = try? Dataset.load("moons", trainCount: 200, heldOutCount: 100)
        return StudioEngine(
            dataset: dataset!, settings: StudioSettings(augmentedDimension: .finite(128)),
            runsFolder: NSTemporaryDirectory())
    }

    func app() -> (StudioApp, Snapshot) {
        let engine = Self.engine()
        let app = StudioApp(
            engine: engine, backend: MemoryTerminal(width: 100, height: 30), theme: .dark,
            themes: Theme.builtIn)
        return (app, engine.latest)
    }

    @Test func arrowsMoveDAndPlusMinusChangeTheFocusedControl() {
        let (app, snapshot) = app()
        _ = app.handle(.right, snapshot: snapshot)
        #expect(app.ui.settings.augmentedDimension == .finite(256))
        _ = app.handle(.left, snapshot: snapshot)
        _ = app.handle(.left, snapshot: snapshot)
        #expect(app.ui.settings.augmentedDimension == .finite(64))
        _ = app.handle(.down, snapshot: snapshot)
        #expect(app.ui.focus == .steps)
        let effect = app.handle(.character("-"), snapshot: snapshot)
        #expect(app.ui.settings.steps == 14 && app.ui.settings.functionEvaluations == 27)
        #expect(effect.commands.count == 1)
        _ = app.handle(.up, snapshot: snapshot)
        _ = app.handle(.up, snapshot: snapshot)
        #expect(app.ui.focus == .oracle)
    }

    @Test func sweepViewShowsTheTablesAndClosesWithEscape() {
        var s = StudioViewTests.snapshot()
        let (app, _) = app()
        _ = app.handle(.character("w"), snapshot: s)
        #expect(app.ui.mode == .sweep)
        #expect(render(s, app.ui, width: 100, height: 30).text.contains("No sweep is open"))
        s.sweep = [
            "moons: swd, lower is better", "", "swd vs alpha", "D    α=0.0        α=0.2",
            "4    2.701±0.010  2.728±0.020",
            "",
            """
            No: no finite D beats D = ∞ at the base setting. Best finite D = 4: 2.701; D = ∞: \
            1.228; difference -1.473.
            """,
        ]
        let text = render(s, app.ui, width: 100, height: 30).text
        #expect(
            text.contains("swd vs alpha") && text.contains("2.728±0.020")
                && text.contains("Sweep ·"))
        #expect(
            text.contains("difference -1.473"), "the long finding is wrapped, not cut:\n\(text)")
        _ = app.handle(.escape, snapshot: s)
        #expect(
            app.ui.mode == .panels
                && !render(s, app.ui, width: 100, height: 30).text.contains("swd vs alpha"))
    }

    /// A terminal that hung up ends the loop as q does, drawing nothing more: the engine saves
    /// and stops.
    @Test func aTerminalThatHungUpEndsTheLoop() {
        let engine = Self.engine()
        let terminal = MemoryTerminal(width: 100, height: 30)
        terminal.hasHungUp = true
        let app = StudioApp(engine: engine, backend: terminal, theme: .dark, themes: Theme.builtIn)
        engine.start()
        let stop = Atomic(false)
        app.run(stop: stop)
        #expect(engine.hasStopped)
        #expect(terminal.cellsWritten == 0)
    }

    @Test func lCyclesTheLossLine() {
        let (app, snapshot) = app()
        var seen: [LossSmoothing] = [app.ui.smoothing]
        for _ in 0..<3 {
            _ = app.handle(.character("l"), snapshot: snapshot)
            seen.append(app.ui.smoothing)
        }
        #expect(seen == [.ema, .window, .none, .ema])
    }

    @Test func resampleQuitThemeAndHelpKeys() {
        let (app, snapshot) = app()
        let seed = app.ui.settings.seed
        let r = app.handle(.character("r"), snapshot: snapshot)
        #expect(app.ui.settings.seed == seed + 1)
        if case .resample(let s)? = r.commands.first {
            #expect(s.seed == seed + 1)
        } else {
            Issue.record("r sent no resample")
        }
        let same = app.handle(.character("R"), snapshot: snapshot)
        if case .resample(let s)? = same.commands.first {
            #expect(s.seed == seed + 1)
        } else {
            Issue.record("R sent no resample")
        }
        let before = app.theme.name
        _ = app.handle(.character("T"), snapshot: snapshot)
        #expect(app.theme.name != before)
        let note = "theme \(app.theme.name)"
        let shown = render(snapshot, app.ui, width: 100, height: 30).text
        #expect(shown.contains(note), "T names no theme")
        _ = app.handle(.character("R"), snapshot: snapshot)
        let after = render(snapshot, app.ui, width: 100, height: 30).text
        #expect(!after.contains(note), "the note outlived a key")
        _ = app.handle(.character("?"), snapshot: snapshot)
        #expect(app.ui.mode == .help)
        _ = app.handle(.escape, snapshot: snapshot)
        #expect(app.ui.mode == .panels)
        #expect(app.handle(.character("q"), snapshot: snapshot).quit)
        if case .toggleTraining? = app.handle(.character(" "), snapshot: snapshot).commands.first {
        } else {
            Issue.record("space sent nothing")
        }
    }

    @Test func gOpensTheProbesAndEscapeClosesThem() {
        let (app, snapshot) = app()
        if case .probes(true)? = app.handle(.character("g"), snapshot: snapshot).commands.first {
        } else {
            Issue.record("g sent nothing")
        }
        #expect(app.ui.mode == .probes)
        // D still moves while the probes are open (the engine refreshes them for the new D).
        if case .apply? = app.handle(.right, snapshot: snapshot).commands.first {
        } else {
            Issue.record("→ sent nothing")
        }
        if case .probes(false)? = app.handle(.escape, snapshot: snapshot).commands.first {
        } else {
            Issue.record("Esc sent nothing")
        }
        #expect(app.ui.mode == .panels)
    }

    /// The message line's colour comes from the message's kind, not from its words.
    @Test func problemsShowInTheBadColour() {
        var s = StudioViewTests.snapshot()
        let ui = UIState(settings: s.settings)
        func colour(_ text: String, _ kind: MessageKind) -> Int {
            s.message = text
            s.messageKind = kind
            let canvas = render(s, ui, width: 100, height: 30)
            return canvas[1, 29].foreground
        }
        #expect(colour("cannot train: disk full", .problem) == Theme.dark.bad)
        #expect(colour("saved D=8 (nothing failed)", .saved) != Theme.dark.bad)
        #expect(colour("training diverged? no", .news) != Theme.dark.bad)
    }

    /// One view at a time: a view's key opens it over another, and one Esc goes back to the panels.
    @Test func oneModeAtATime() {
        let (app, snapshot) = app()
        _ = app.handle(.character("w"), snapshot: snapshot)
        let probes = app.handle(.character("g"), snapshot: snapshot)
        #expect(app.ui.mode == .probes)
        #expect(probes.commands.contains { if case .probes(true) = $0 { true } else { false } })
        let help = app.handle(.character("?"), snapshot: snapshot)
        #expect(app.ui.mode == .help)
        #expect(help.commands.contains { if case .probes(false) = $0 { true } else { false } })
        _ = app.handle(.escape, snapshot: snapshot)
        #expect(app.ui.mode == .panels)
        let text = render(snapshot, app.ui, width: 100, height: 30).text
        #expect(!text.contains("Help ·") && !text.contains("Sweep ·") && !text.contains("Probes ·"))
        _ = app.handle(.character("?"), snapshot: snapshot)
        _ = app.handle(.character("?"), snapshot: snapshot)
        #expect(app.ui.mode == .panels, "a view's own key closes it")
    }

    /// Every key of the table acts (a key it lacks redraws nothing), and no key is in two rows.
    @Test func theKeyTableIsTheKeys() {
        let keys = KeyTable.bindings.flatMap { $0.keys.map(\.0) }
        for (i, key) in keys.enumerated() {
            #expect(!keys[(i + 1)...].contains(key), "\(key) is bound twice")
        }
        for key in keys where KeyTable.action(for: key) != .quit {
            let (app, snapshot) = app()
            #expect(app.handle(key, snapshot: snapshot).redraw, "\(key) does nothing")
        }
        let (app, snapshot) = app()
        #expect(!app.handle(.character("z"), snapshot: snapshot).redraw)
        #expect(KeyTable.hints(following: false).hasPrefix("space train · ←→ D"))
        #expect(KeyTable.hints(following: true).contains("s copy"))
        #expect(!KeyTable.hints(following: true).contains("space"))
    }

    @Test func controlsClampAtTheEndsOfTheirRanges() {
        let ladder = StudioEngine.ladder(dim: 2)
        var s = StudioSettings(augmentedDimension: .infinite)
        s = Control.augmentedDimension.adjust(s, by: 1, ladder: ladder)
        #expect(s.augmentedDimension == .infinite)
        s.bits = 32
        s = Control.bits.adjust(s, by: 1, ladder: ladder)
        #expect(s.bits == 32)
        s = Control.bits.adjust(s, by: -1, ladder: ladder)
        #expect(s.bits == 16)
        #expect(StudioEngine.ladder(dim: 784).contains(.finite(784)))
        #expect(
            StudioEngine.ladder(dim: 2).first == .finite(1)
                && StudioEngine.ladder(dim: 2).last == .infinite)
    }
}

@Suite struct ThemeTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("themes").path

    @Test(arguments: ["dark", "light", "mono"])
    func shippedThemeFilesLoadAndMatchTheBuiltIns(name: String) throws {
        let theme = try Theme.load("\(Self.folder)/\(name).json")
        #expect(theme == Theme.builtIn.first { $0.name == name })
    }

    @Test func brokenThemeFilesAreRejectedWithTheirPath() throws {
        let path = NSTemporaryDirectory() + "bad-theme-\(getpid()).json"
        for body in [
            "{", #"{"name": "x"}"#,
            try String(contentsOfFile: "\(Self.folder)/dark.json", encoding: .utf8)
                .replacingOccurrences(of: "252", with: "999"),
        ] {
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try Theme.load(path)
                Issue.record("accepted: \(body.prefix(40))")
            } catch {
                #expect("\(error)".hasPrefix(path))
            }
        }
        #expect(throws: ThemeError.self) { try Theme.named("no-such-theme") }
    }
}

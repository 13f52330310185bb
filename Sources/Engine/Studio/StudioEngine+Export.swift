import Foundation

/// `e`: the view as a PNG in the runs folder's `exports/`, and beside it a JSON of every setting
/// with the `pfgm sample` commands that draw its samples again, over copies of the models' config
/// and checkpoint. A model the studio trains is saved first, so that its checkpoint is the step
/// drawn.
extension StudioEngine {
    func export(_ view: ExportView) {
        do throws(StorageError) {
            let base = try exportBase(view)
            let outputs = OutputSet()
            var record: ExportRecord
            switch view {
            case .preview: record = try exportPreview(base, outputs)
            case .coupled: record = try exportCoupled(base, outputs)
            case .probes: record = try exportProbes(base, outputs)
            }
            record.extra["json"] = base + ".json"
            try outputs.add(base + ".json", bytes: try record.encoded())
            try outputs.commit()
            say("exported \(Self.relative(base)).png (settings and command: .json)", .saved)
        } catch {
            say("export failed: \(error.description)", .problem)
        }
    }

    /// A new name in `<runs>/exports` (absolute, so that the commands run from anywhere), the
    /// folder made when missing; never inside a followed run.
    func exportBase(_ view: ExportView) throws(StorageError) -> String {
        let folder = "\(runsFolder)/exports"
        let real = URL(fileURLWithPath: folder).standardizedFileURL.path
        for run in follow?.runs ?? [] {
            let followed = URL(fileURLWithPath: run.run.path).standardizedFileURL.path
            if real == followed || real.hasPrefix(followed + "/") {
                throw StorageError(folder, "is inside the followed run; give --runs elsewhere")
            }
        }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StorageError(folder, "cannot create the folder")
        }
        return ExportName.base(
            folder: real, data: dataset.shortName, view: view, settings: settings, date: Date(),
            taken: { FileManager.default.fileExists(atPath: $0 + ".png") })
    }

    /// The preview as shown, or drawn again as the preview draws when the shown model moved on
    /// since (training); its samples as .npy too.
    func exportPreview(_ base: String, _ outputs: OutputSet) throws(StorageError) -> ExportRecord {
        let d = settings.augmentedDimension
        let source = try savedSource(d)
        let count = snapshot.kind.isImage ? Self.previewImages : Self.previewPoints
        var samples = snapshot.preview?.samples
        let preview = snapshot.preview
        if preview?.settings != settings || preview?.step != source.step
            || preview?.kind != source.kind || samples?.rows != count
        {
            var rng = RandomSource(seed: settings.seed)
            let prior = source.request.prior(count: count, rng: &rng)
            samples = source.request.sample(count: count, latents: prior, rng: &rng)
        }
        guard let samples else { throw StorageError(base, "no samples to export") }
        let shown = dataset.imageShape == nil ? Self.screenPoints(samples, projection) : samples
        guard let picture = PNG.picture(of: shown, image: dataset.imageShape) else {
            throw StorageError(base + ".png", "one-dimensional samples have no picture")
        }
        try outputs.add(base + ".png", bytes: try picture.encode(path: base + ".png"))
        try outputs.add(base + ".npy", bytes: try NPY.encode(Self.array(samples), path: base))
        let command = SampleCommand(
            source: try exportSource(source, base, outputs), dimensions: [d], count: count,
            settings: settings, out: base + "-again.npy", png: base + "-again.png")
        var record = ExportRecord(
            view: .preview, data: dataset.name, picture: base + ".png", settings: settings,
            commands: [command])
        record.extra["samples"] = base + ".npy"
        record.extra["count"] = count
        record.extra["model"] = source.label
        return record
    }

    /// The coupled grid as shown, a panel drawn again where its model trained on since; a command
    /// per run of D with the same model.
    func exportCoupled(_ base: String, _ outputs: OutputSet) throws(StorageError) -> ExportRecord {
        guard let grid = snapshot.coupled, !grid.panels.isEmpty else {
            throw StorageError(base, "the coupled grid has no panel yet")
        }
        var panels: [CoupledPanel] = []
        var groups: [(ExportSource, [AugmentedDimension])] = []
        for shown in grid.panels {
            let d = shown.augmentedDimension
            let drawn = try savedSource(d)
            let moved = drawn.step != shown.step
            guard let panel = moved ? coupledPanel(d, drawn, shouldStop: nil) : shown else {
                throw StorageError(base, "the panel at D=\(d) could not be drawn")
            }
            panels.append(panel)
            let source = try exportSource(drawn, base, outputs)
            if let last = groups.last, last.0 == source {
                groups[groups.count - 1].1.append(d)
            } else {
                groups.append((source, [d]))
            }
        }
        guard let picture = PNG.picture(ofEach: panels.map(\.points), image: dataset.imageShape)
        else { throw StorageError(base + ".png", "these samples have no picture") }
        try outputs.add(base + ".png", bytes: try picture.encode(path: base + ".png"))
        let count = snapshot.kind.isImage ? Self.coupledImages : Self.coupledPoints
        let commands = groups.enumerated().map { i, group in
            let again = base + "-again" + (groups.count > 1 ? "-\(i + 1)" : "")
            return SampleCommand(
                source: group.0, dimensions: group.1, coupled: true, count: count,
                settings: settings, out: again + ".npy", png: again + ".png")
        }
        var record = ExportRecord(
            view: .coupled, data: dataset.name, picture: base + ".png", settings: settings,
            commands: commands)
        record.extra["count"] = count
        record.extra["panels"] = panels.map {
            ["aug_dim": $0.augmentedDimension.description, "model": $0.label, "step": $0.step]
                as [String: Any]
        }
        return record
    }

    /// The probes' three charts side by side, their values in the JSON, and a command per model
    /// at the base settings (each point changes one of --alpha, --bits, --steps).
    func exportProbes(_ base: String, _ outputs: OutputSet) throws(StorageError) -> ExportRecord {
        guard let probes = snapshot.probes, !probes.curves.isEmpty else {
            throw StorageError(base, "the probes have no curve yet")
        }
        let picture = ProbePlots.picture(probes, data: dataset.shortName)
        try outputs.add(base + ".png", bytes: try PNG.encode(picture, path: base + ".png"))
        var commands: [SampleCommand] = []
        for (i, curve) in probes.curves.enumerated() {
            let source = try exportSource(try savedSource(curve.augmentedDimension), base, outputs)
            var at = settings
            at.augmentedDimension = curve.augmentedDimension
            (at.alpha, at.bits, at.steps, at.solver) = (0, 32, ProbePoint().steps, .heun)
            at.churn = Churn()
            commands.append(
                SampleCommand(
                    source: source, dimensions: [curve.augmentedDimension], count: probes.count,
                    settings: at, out: base + "-again-\(i + 1).npy"))
        }
        var record = ExportRecord(
            view: .probes, data: dataset.name, picture: base + ".png", settings: settings,
            commands: commands)
        record.extra["probes"] = ProbePlots.fields(probes)
        return record
    }

    /// What draws D's samples, its model saved first when the studio trains it.
    func savedSource(_ d: AugmentedDimension) throws(StorageError) -> PreviewSource {
        let source = previewSource(d)
        if let slot = source.slot, slot.unsaved, !save(slot, "the model at D=\(d)") {
            throw StorageError(slot.run.path, "the model could not be saved")
        }
        return source
    }

    /// The source as `pfgm sample` reads it: a copy of the run's config and checkpoint beside the
    /// export (training overwrites the run's own), or the oracle's points.
    func exportSource(_ source: PreviewSource, _ base: String, _ outputs: OutputSet)
        throws(StorageError) -> ExportSource
    {
        if let path = source.run {
            let run = RunDirectory(path)
            let copy = RunDirectory(base + "-" + (path as NSString).lastPathComponent)
            if !outputs.has(copy.configPath) {
                try copy.create()
                try outputs.add(copy.configPath, bytes: try AtomicFile.read(run.configPath))
                try outputs.add(copy.checkpointPath, bytes: try AtomicFile.read(run.checkpointPath))
            }
            return .run(path: copy.path, step: source.step)
        }
        let path = base + "-oracle.npy"
        if !outputs.has(path) {
            var array = Self.array(oracles.points)
            if let shape = dataset.imageShape {
                array.shape = [oracles.points.rows, shape.channels, shape.side, shape.side]
            }
            try outputs.add(path, bytes: try NPY.encode(array, path: path))
        }
        return .oracle(points: path)
    }

    /// `path` from the working folder when it lies under it (the message line's way to say it).
    static func relative(_ path: String) -> String {
        let here = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(here) ? String(path.dropFirst(here.count)) : path
    }

    static func array(_ m: Matrix) -> NPY.Array {
        NPY.Array(shape: [m.rows, m.cols], values: m.storage)
    }
}

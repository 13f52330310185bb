import Engine
import Foundation

/// Times the studio's own frame work (render a snapshot, diff against the last frame) on a
/// representative screen: 800 preview points over the data overlay, a full loss history, metrics.
public enum FrameBenchmark {
    /// Per-frame seconds for `frames` frames at width×height, alternating two trajectory frames so
    /// every frame has changes to find.
    public static func run(width: Int, height: Int, frames: Int) -> [Double] {
        var rng = RandomSource(seed: 1)
        let data = ToyData.draw("checkerboard", count: 2000, rng: &rng) ?? Matrix(rows: 0, cols: 2)
        let samples =
            ToyData.draw("checkerboard", count: StudioEngine.previewPoints, rng: &rng) ?? data
        let noisy = Perturbation.prior(
            count: StudioEngine.previewPoints, dim: 2, augmentedDimension: .finite(128), sigma: 2,
            rng: &rng)
        let settings = StudioSettings(augmentedDimension: .finite(128))
        var snapshot = Snapshot(
            dataName: "checkerboard", dim: 2, sigmaData: 2.3, kind: .plane,
            bounds: (-4.5, 4.5, -4.5, 4.5),
            overlay: data, ladder: StudioEngine.ladder(dim: 2), settings: settings)
        snapshot.preview = Preview(
            points: samples, trajectory: [noisy, samples], trajectorySigmas: [2, 0],
            source: "model D=128, step 10000", settings: settings, seconds: 0.5)
        for i in 0..<100_000 {
            snapshot.loss.append(Float(0.8 + 0.3 / (1 + Double(i) / 500) + 0.05 * rng.normal()))
        }
        snapshot.step = 100_000
        snapshot.bank = [BankEntry(augmentedDimension: .finite(128), step: 100_000)]
        snapshot.metrics = [
            MetricRow(
                augmentedDimension: .finite(128), source: .model, step: 100_000, swd: 0.17,
                swdFloor: 0.16, mmdSquared: 0.04, mmdSquaredFloor: 0.03)
        ]
        let terminal = MemoryTerminal(width: width, height: height)
        var ui = UIState(settings: settings)
        let style = Style(theme: .dark, glyphs: .unicodeSet)
        var times: [Double] = []
        for frame in 0..<frames {
            ui.playFrame = frame % 2
            snapshot.version = frame
            let start = Stopwatch.now()
            terminal.present(
                StudioView(snapshot: snapshot, ui: ui, style: style, colors: 256).render(
                    width: width, height: height))
            times.append(Stopwatch.now() - start)
        }
        return times
    }
}

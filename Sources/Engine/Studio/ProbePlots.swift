import Foundation

/// The probes view as files: its three charts side by side in one picture, and its values as
/// JSON fields.
public enum ProbePlots {
    public static func picture(_ probes: Probes, data: String) -> PNG.RGB {
        let charts = [
            chart(probes, data, "noise alpha", Probes.alphas.map { "\($0)" }, \.alpha),
            chart(probes, data, "weight bits", Probes.bits.map { "\($0)" }, \.bits),
            chart(probes, data, "NFE", Probes.nfe.map { "\($0)" }, \.nfe),
        ].map { $0.render() }
        let height = charts.map(\.height).max() ?? 0
        var out = PNG.RGB(width: charts.map(\.width).reduce(0, +), height: height)
        var left = 0
        for chart in charts {
            for y in 0..<chart.height {
                let from = 3 * y * chart.width
                let to = 3 * (y * out.width + left)
                out.pixels.replaceSubrange(
                    to..<(to + 3 * chart.width), with: chart.pixels[from..<(from + 3 * chart.width)]
                )
            }
            left += chart.width
        }
        return out
    }

    static func chart(
        _ probes: Probes, _ data: String, _ x: String, _ ticks: [String],
        _ values: KeyPath<ProbeCurve, [Double?]>
    ) -> LinePlot {
        let metric = probes.metric.rawValue
        var plot = LinePlot(
            title: "\(data): \(metric) vs \(x) (\(probes.count) samples)", xLabel: x,
            yLabel: metric, xTicks: ticks,
            series: probes.curves.map {
                LinePlot.Series(
                    name: $0.label, means: $0[keyPath: values],
                    deviations: $0[keyPath: values].map { _ in nil })
            })
        plot.floor = probes.floor
        return plot
    }

    public static func fields(_ probes: Probes) -> [String: Any] {
        func list(_ v: [Double?]) -> [Any] { v.map { $0.map { $0 as Any } ?? NSNull() } }
        return [
            "metric": probes.metric.rawValue, "count": probes.count,
            "floor": probes.floor.map { $0 as Any } ?? NSNull(), "alphas": Probes.alphas,
            "bits": Probes.bits, "nfe": Probes.nfe,
            "curves": probes.curves.map {
                [
                    "label": $0.label, "aug_dim": $0.augmentedDimension.description,
                    "step": $0.step, "alpha": list($0.alpha), "bits": list($0.bits),
                    "nfe": list($0.nfe),
                ] as [String: Any]
            },
        ]
    }
}

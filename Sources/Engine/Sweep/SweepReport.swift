import Foundation

/// Tables, CSV, plots and plain statements from a sweep's results.
public struct SweepReport {
    public enum Probe: String, CaseIterable, Sendable {
        case alpha, bits, nfe
    }

    public let plan: SweepPlan
    public let results: [SweepResult]
    public let metric: String
    public let floor: Double?

    public init(plan: SweepPlan, results: [SweepResult], metric: String, floor: Double?) {
        self.plan = plan
        self.results = results
        self.metric = metric
        self.floor = floor
    }

    /// The grid points along one probe, in the order they are shown (away from the base setting).
    public func points(_ probe: Probe) -> [SweepPoint] {
        let base = plan.baseNFE
        let full = SweepPlan.fullBits
        switch probe {
        case .alpha:
            return ([0] + plan.alphas).uniqued().sorted().map {
                SweepPoint(alpha: $0, bits: full, nfe: base)
            }
        case .bits:
            return ([full] + plan.bits).uniqued().sorted(by: >).map {
                SweepPoint(alpha: 0, bits: $0, nfe: base)
            }
        case .nfe:
            return plan.nfe.uniqued().sorted(by: >).map {
                SweepPoint(alpha: 0, bits: full, nfe: $0)
            }
        }
    }

    static func label(_ probe: Probe, _ p: SweepPoint) -> String {
        switch probe {
        case .alpha: "α=\(p.alpha)"
        case .bits: p.bits == SweepPlan.fullBits ? "32 (full)" : "\(p.bits) bits"
        case .nfe: "NFE \(p.nfe)"
        }
    }

    /// Values over seeds for one D and point (diverged runs left out), and how many diverged.
    func values(_ d: String, _ p: SweepPoint) -> (values: [Double], diverged: Int) {
        let matching = results.filter { $0.augDim == d && $0.point == p }
        return (matching.compactMap(\.value), matching.filter { $0.value == nil }.count)
    }

    /// Mean and sample standard deviation (nil for a single value).
    static func summary(_ v: [Double]) -> (mean: Double, sd: Double?)? {
        guard !v.isEmpty else { return nil }
        let mean = v.reduce(0, +) / Double(v.count)
        guard v.count > 1 else { return (mean, nil) }
        return (
            mean,
            (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
        )
    }

    /// The training kernel, in words.
    static func kernel(_ quantile: Double?) -> String {
        guard let quantile, quantile < 1 else { return "the whole kernel" }
        return
            """
            the kernel cut at its \(quantile) quantile (never inside D = ∞'s 1 − 10⁻⁴ quantile), \
            the prior too
            """
    }

    static func number(_ v: Double) -> String {
        let a = abs(v)
        return a != 0 && (a < 1e-3 || a >= 1e5)
            ? String(format: "%.3e", v) : String(format: a < 1 ? "%.4f" : "%.3f", v)
    }

    func cell(_ d: String, _ p: SweepPoint) -> String {
        let (v, diverged) = values(d, p)
        guard let s = Self.summary(v) else { return diverged > 0 ? "diverged" : "—" }
        var text = Self.number(s.mean) + (s.sd.map { " ± " + Self.number($0) } ?? "")
        if diverged > 0 { text += " (\(diverged) diverged)" }
        return text
    }

    public func table(_ probe: Probe) -> String {
        let columns = points(probe)
        var lines = [
            "| D | " + columns.map { Self.label(probe, $0) }.joined(separator: " | ") + " |",
            "|---|" + String(repeating: "---|", count: columns.count),
        ]
        for d in plan.augDims {
            lines.append("| \(d) | " + columns.map { cell(d, $0) }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    public func csv() -> String {
        var lines = ["data,aug_dim,seed,alpha,bits,nfe,metric,value,seconds"]
        for r in results {
            lines.append(
                [
                    plan.data, r.augDim, String(r.seed), String(r.alpha), String(r.bits),
                    String(r.nfe), r.metric,
                    r.value.map { String($0) } ?? "nan", String(format: "%.2f", r.seconds),
                ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func plot(_ probe: Probe) -> LinePlot {
        let columns = points(probe)
        let series = plan.augDims.map { d in
            let stats = columns.map { Self.summary(values(d, $0).values) }
            return LinePlot.Series(
                name: "D=\(d)", means: stats.map { $0?.mean },
                deviations: stats.map { $0?.sd ?? nil })
        }
        let x: String
        let ticks: [String]
        switch probe {
        case .alpha: (x, ticks) = ("noise alpha", columns.map { String($0.alpha) })
        case .bits: (x, ticks) = ("weight bits", columns.map { String($0.bits) })
        case .nfe: (x, ticks) = ("NFE", columns.map { String($0.nfe) })
        }
        var plot = LinePlot(
            title: "\(plan.data): \(metric) vs \(x) (mean ± sd, \(plan.seeds) seeds)", xLabel: x,
            yLabel: metric, xTicks: ticks, series: series)
        plot.floor = floor
        return plot
    }

    static func scheme(_ scheme: QuantizationScheme) -> String {
        switch scheme {
        case .all: "every weight tensor, per tensor over [min(w, 0), max(w, 0)] (scheme all)"
        case .official:
            """
            the official PFGM++ evaluation's scheme: per tensor over its own min and max with a \
            truncated zero point; norms, embedding maps and projections and the layers at the \
            data's resolution stay in full precision (scheme official)
            """
        }
    }

    /// The churn of every evaluation, when there is one.
    static func churn(_ c: Churn?) -> String {
        guard let c, c.churn > 0 else { return "" }
        return
            "; EDM churn S_churn \(c.churn), S_min \(c.sMin), S_max \(c.sMax), S_noise \(c.sNoise)"
    }

    /// The tables and findings as plain text lines for a terminal: columns padded, cells mean±sd.
    public func textLines() -> [String] {
        var lines = [
            """
            \(plan.data): \(metric), lower is better; \(plan.seeds) \
            seed\(plan.seeds == 1 ? "" : "s"), \(plan.steps) steps per model
            """
        ]
        for probe in Probe.allCases {
            let columns = points(probe)
            let header = ["D"] + columns.map { Self.label(probe, $0) }
            let rows = plan.augDims.map { d in
                [d] + columns.map { cell(d, $0).replacingOccurrences(of: " ± ", with: "±") }
            }
            let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0
            }
            let format = { (row: [String]) in
                row.enumerated().map {
                    $1.padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0)
                }.joined()
            }
            lines += ["", "\(metric) vs \(probe.rawValue)", format(header)] + rows.map(format)
        }
        lines += [""] + findings()
        return lines
    }

    /// How the one network over `range` drew D, when not by the defaults.
    static func draws(_ shares: OneNetworkDraws?, over range: String) -> String {
        let infinity = AugmentedDimensionRange(parsing: range)?.includesInfinity == true
        return shares?.phrase(includesInfinity: infinity).map { " (\($0))" } ?? ""
    }

    public static func storedCommand(_ directory: String) -> String {
        (try? AtomicFile.read(directory + "/command.txt")).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } ?? "(not recorded)"
    }

    public func markdown(
        command: String, version: String = "pfgm \(Machine.version) (\(Machine.blasConfig))"
    ) -> String {
        let models = plan.augDims.count * plan.seeds
        let expected = models * plan.points.count
        let oneNetwork = plan.oneNetwork.map { range in
            "one network per seed over D in \(range)\(Self.draws(plan.draws, over: range)), "
                + "evaluated at each D; "
        }
        let seeds = "\(plan.seeds) seed\(plan.seeds == 1 ? "" : "s") per D"
        let unfinished = results.count < expected ? " (sweep not finished)" : ""
        var out = """
            # PFGM++ D sweep on \(plan.data)

            - Command: `\(command)`
            - Software: \(version)
            - Budget per model: \(oneNetwork ?? "")\(plan.steps) steps of batch \(plan.batch), \
            \(plan.architecture) width \(plan.width), depth \(plan.depth), \
            lr \(plan.learningRate); \
            \(seeds), the same data order for every D; \(Self.kernel(plan.kernelQuantile))
            - Metric: \(metric) on \(plan.count) samples (lower is better); floor \
            \(floor.map(Self.number) ?? "—") (the metric between two draws of the data of that size)
            - Base setting: Heun, NFE \(plan.baseNFE), α = 0, 32-bit weights; \
            σ_min \(plan.sigmaMin), σ_max \(plan.sigmaMax), ρ \(plan.rho)\(Self.churn(plan.churn))
            - Quantization: \(Self.scheme(plan.quantScheme ?? .all))
            - Evaluations: \(results.count) of \(expected)\(unfinished)

            Cells are mean ± sd over seeds.

            ## \(metric) vs noise injection α

            \(table(.alpha))

            ![](alpha.png)

            ## \(metric) vs post-training weight quantization

            \(table(.bits))

            ![](bits.png)

            ## \(metric) vs function evaluations

            \(table(.nfe))

            ![](nfe.png)

            ## What the numbers say


            """
        out += findings().map { "- " + $0 }.joined(separator: "\n") + "\n"
        return out
    }

    /// Plain statements: does a finite D beat ∞, and is degradation smaller for small D.
    public func findings() -> [String] {
        var lines: [String] = []
        let base = SweepPoint(alpha: 0, bits: SweepPlan.fullBits, nfe: plan.baseNFE)
        let finite = plan.augDims.filter { AugmentedDimension(parsing: $0)?.isInfinite == false }
        let infinite = plan.augDims.first { AugmentedDimension(parsing: $0)?.isInfinite == true }
        let baseStats = Dictionary(
            uniqueKeysWithValues: plan.augDims.compactMap { d in
                Self.summary(values(d, base).values).map { (d, $0) }
            })
        if let inf = infinite, let i = baseStats[inf],
            let best = finite.compactMap({ d in baseStats[d].map { (d, $0) } }).min(by: {
                $0.1.mean < $1.1.mean
            })
        {
            let gap = i.mean - best.1.mean
            let spread = (best.1.sd ?? 0) + (i.sd ?? 0)
            let verdict =
                gap <= 0
                ? "No: no finite D beats D = ∞"
                : gap > spread
                    ? "Yes: a finite D beats D = ∞ by more than the seeds' spread"
                    : """
                    Not clearly: the best finite D is ahead of D = ∞ by less than the seeds' \
                    spread
                    """
            lines.append(
                """
                \(verdict) at the base setting. Best finite D = \(best.0): \(cell(best.0, base)); \
                D = ∞: \(cell(inf, base)); difference \(Self.number(gap)).
                """
            )
        } else {
            lines.append(
                """
                Finite D against D = ∞: not measured (the sweep needs inf and at least one finite \
                D, each with results).
                """
            )
        }
        let ordered = plan.augDims.sorted {
            (AugmentedDimension(parsing: $0)?.value ?? .infinity)
                < (AugmentedDimension(parsing: $1)?.value ?? .infinity)
        }
        guard let small = ordered.first, let large = ordered.last, small != large else {
            return lines
        }
        let named: [(Probe, [SweepPoint])] = [
            (.alpha, points(.alpha).filter { [0.1, 0.2].contains($0.alpha) }),
            (.bits, points(.bits).filter { [6, 5, 4].contains($0.bits) }),
            (.nfe, points(.nfe).filter { $0.nfe <= 9 && $0.nfe != plan.baseNFE }),
        ]
        for (probe, levels) in named where !levels.isEmpty {
            var parts: [String] = []
            var smaller = 0
            var measured = 0
            var improved = 0
            for p in levels {
                guard let ds = degradation(small, p, from: base),
                    let dl = degradation(large, p, from: base)
                else { continue }
                measured += 1
                if ds < dl { smaller += 1 }
                if ds <= 0 && dl <= 0 { improved += 1 }
                parts.append(
                    """
                    \(Self.label(probe, p)): D=\(small) \(Self.signed(ds)), D=\(large) \
                    \(Self.signed(dl))
                    """
                )
            }
            guard measured > 0 else { continue }
            let changes =
                "change of the mean from the base setting; \(parts.joined(separator: "; "))"
            if improved == measured {
                lines.append(
                    """
                    No degradation under \(probe.rawValue) at these levels: the metric improves \
                    for both D=\(small) and D=\(large) (\(changes)).
                    """
                )
                continue
            }
            let verdict =
                smaller == measured
                ? "Yes" : smaller == 0 ? "No" : "Partly (\(smaller) of \(measured) levels)"
            lines.append(
                """
                \(verdict): degradation under \(probe.rawValue) is smaller for D=\(small) than for \
                D=\(large) (\(changes)).
                """
            )
        }
        return lines
    }

    /// Mean over seeds of (metric at p − metric at the base), paired by seed; nil when nothing
    /// pairs.
    func degradation(_ d: String, _ p: SweepPoint, from base: SweepPoint) -> Double? {
        var diffs: [Double] = []
        for seed in 0..<plan.seeds {
            let at = { (q: SweepPoint) in
                self.results.first { $0.augDim == d && $0.seed == seed && $0.point == q }
            }
            guard let b = at(base)?.value else { continue }
            guard let r = at(p) else { continue }
            diffs.append(r.value.map { $0 - b } ?? .infinity)
        }
        return diffs.isEmpty ? nil : diffs.reduce(0, +) / Double(diffs.count)
    }

    static func signed(_ v: Double) -> String {
        v.isFinite ? (v >= 0 ? "+" : "") + number(v) : "diverged"
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

import Foundation

/// What `e` exports: the preview, the coupled grid or the probes' curves.
public enum ExportView: String, Sendable, Equatable {
    case preview, coupled, probes
}

/// Where samples came from, as `pfgm sample` reads it.
public enum ExportSource: Sendable, Equatable {
    /// A run directory (a D's own model, or the one network) and the step of its checkpoint.
    case run(path: String, step: Int)
    /// The oracle denoiser over the points of this .npy (written beside the export).
    case oracle(points: String)
}

/// The `pfgm sample` command that draws a studio's samples again.
public struct SampleCommand: Sendable, Equatable {
    public var source: ExportSource
    /// One D, or several from coupled draws (`--aug-dims … --coupled`).
    public var dimensions: [AugmentedDimension]
    /// Whether the D come from coupled draws (`--aug-dims … --coupled`, even for one D).
    public var coupled: Bool
    public var count: Int
    public var settings: StudioSettings
    public var out: String
    public var png: String?

    public init(
        source: ExportSource, dimensions: [AugmentedDimension], coupled: Bool = false,
        count: Int, settings: StudioSettings, out: String, png: String? = nil
    ) {
        self.source = source
        self.dimensions = dimensions
        self.coupled = coupled
        self.count = count
        self.settings = settings
        self.out = out
        self.png = png
    }

    public var arguments: [String] {
        var a = ["pfgm", "sample"]
        switch source {
        case .run(let path, _): a += ["--ckpt", path]
        case .oracle(let points): a += ["--oracle", points]
        }
        let list = dimensions.map(\.description).joined(separator: ",")
        a += coupled ? ["--aug-dims", list, "--coupled"] : ["--aug-dim", list]
        let s = settings
        a += ["--count", "\(count)", "--steps", "\(s.steps)", "--solver", s.solver.rawValue]
        a += ["--alpha", "\(s.alpha)", "--seed", "\(s.seed)"]
        if s.churn.churn > 0 {
            let c = s.churn
            a += ["--s-churn", "\(c.churn)", "--s-min", "\(c.sMin)", "--s-max", "\(c.sMax)"]
            a += ["--s-noise", "\(c.sNoise)"]
        }
        a += ["--sigma-max", "\(s.sigmaMax)", "--sigma-min", "\(s.sigmaMin)"]
        if s.bits < 32, case .run = source {
            a += ["--bits", "\(s.bits)"]
            if s.quantScheme != .all { a += ["--quant-scheme", s.quantScheme.rawValue] }
        }
        a += ["--out", out] + (png.map { ["--png", $0] } ?? [])
        return a
    }

    /// The arguments as one shell line, each quoted where a shell would split or expand it.
    public var line: String { arguments.map(Self.quoted).joined(separator: " ") }

    static func quoted(_ word: String) -> String {
        let plain = Set("+-./,:=_@%abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        guard word.isEmpty || word.contains(where: { !plain.contains($0) }) else { return word }
        return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}

/// The JSON beside an exported picture: every setting, what drew the samples and the commands
/// that draw them again.
public struct ExportRecord {
    public var view: ExportView
    public var data: String
    public var picture: String
    public var settings: StudioSettings
    public var commands: [SampleCommand]
    /// Anything else the view adds (the probes' curves, the samples' file).
    public var extra: [String: Any] = [:]

    public init(
        view: ExportView, data: String, picture: String, settings: StudioSettings,
        commands: [SampleCommand]
    ) {
        self.view = view
        self.data = data
        self.picture = picture
        self.settings = settings
        self.commands = commands
    }

    public var fields: [String: Any] {
        let s = settings
        var f: [String: Any] = [
            "view": view.rawValue, "data": data, "png": picture,
            "aug_dim": s.augmentedDimension.description, "steps": s.steps,
            "nfe": s.functionEvaluations, "solver": s.solver.rawValue, "alpha": s.alpha,
            "bits": s.bits, "quant_scheme": s.quantScheme.rawValue, "seed": s.seed,
            "sigma_max": s.sigmaMax, "sigma_min": s.sigmaMin,
            "commands": commands.map(\.line), "s_churn": s.churn.churn, "s_min": s.churn.sMin,
            "s_max": s.churn.sMax.isFinite ? s.churn.sMax as Any : NSNull(),
            "s_noise": s.churn.sNoise,
            "models": commands.map { c -> [String: Any] in
                var m: [String: Any] = ["aug_dims": c.dimensions.map(\.description)]
                switch c.source {
                case .run(let path, let step):
                    m["run"] = path
                    m["step"] = step
                case .oracle(let points): m["oracle_points"] = points
                }
                return m
            },
        ]
        for (k, v) in extra { f[k] = v }
        return f
    }

    public func encoded() throws(StorageError) -> [UInt8] {
        do {
            let data = try JSONSerialization.data(
                withJSONObject: fields,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return Array(data) + [10]
        } catch {
            throw StorageError(picture, "cannot write the settings as JSON")
        }
    }
}

/// Export files' names: `<folder>/<data>-<view>-D<d>-seed<s>-<time>`, with a count appended when
/// that name is taken.
public enum ExportName {
    public static func base(
        folder: String, data: String, view: ExportView, settings: StudioSettings, date: Date,
        taken: (String) -> Bool
    ) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyyMMdd-HHmmss"
        let stem =
            "\(folder)/\(data)-\(view.rawValue)-D\(settings.augmentedDimension)"
            + "-seed\(settings.seed)-\(format.string(from: date))"
        var name = stem
        var n = 2
        while taken(name) {
            name = "\(stem)-\(n)"
            n += 1
        }
        return name
    }
}

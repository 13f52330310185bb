import Foundation

/// Colours by role, as xterm 256-colour indices (−1: the terminal's default).
public struct Theme: Sendable, Equatable, Codable {
    public var name: String
    public var text: Int
    public var dim: Int
    public var accent: Int
    public var border: Int
    public var title: Int
    public var focusBackground: Int
    public var focusText: Int
    public var good: Int
    public var warn: Int
    public var bad: Int
    public var lossRaw: Int
    public var lossSmooth: Int
    public var overlay: Int
    /// Low to high density.
    public var density: [Int]
    /// Colours told apart from each other, for things drawn side by side (models, groups of
    /// samples); optional in theme files.
    public var series: [Int] = Self.defaultSeries
    public static let defaultSeries = [81, 214, 114, 203, 141, 227]

    public static let dark = Theme(
        name: "dark", text: 252, dim: 244, accent: 81, border: 240, title: 117,
        focusBackground: 24, focusText: 231, good: 114, warn: 221, bad: 203,
        lossRaw: 242, lossSmooth: 81, overlay: 238,
        density: [24, 25, 31, 38, 44, 80, 122, 159, 195, 231])
    public static let light = Theme(
        name: "light", text: 235, dim: 244, accent: 25, border: 248, title: 24,
        focusBackground: 153, focusText: 16, good: 28, warn: 130, bad: 160,
        lossRaw: 248, lossSmooth: 25, overlay: 252,
        density: [153, 117, 75, 69, 33, 27, 26, 20, 19, 17], series: [25, 130, 28, 160, 91, 30])
    public static let mono = Theme(
        name: "mono", text: -1, dim: -1, accent: -1, border: -1, title: -1,
        focusBackground: -1, focusText: -1, good: -1, warn: -1, bad: -1,
        lossRaw: -1, lossSmooth: -1, overlay: -1, density: [-1], series: [-1])
    public static let builtIn = [dark, light, mono]

    /// True when the theme uses no colours at all (focus is then drawn in reverse video).
    public var isMonochrome: Bool { density.allSatisfy { $0 < 0 } && text < 0 && accent < 0 }

    /// The series colour of entry `i`, taken round when there are more entries than colours.
    public func seriesColor(_ i: Int) -> Int { series.isEmpty ? -1 : series[i % series.count] }

    /// The density colour for a level in [0, 1].
    public func densityColor(_ level: Double) -> Int {
        guard !density.isEmpty else { return -1 }
        let i = Int((min(max(level, 0), 1) * Double(density.count - 1)).rounded())
        return density[i]
    }

    enum CodingKeys: String, CodingKey {
        case name, text, dim, accent, border, title, good, warn, bad, overlay, density, series
        case focusBackground = "focus_background"
        case focusText = "focus_text"
        case lossRaw = "loss_raw"
        case lossSmooth = "loss_smooth"
    }

    /// Reads a theme file (JSON with the keys of `CodingKeys`); colours must be −1…255.
    public static func load(_ path: String) throws -> Theme {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ThemeError("\(path): cannot read the theme file")
        }
        let theme: Theme
        do { theme = try JSONDecoder().decode(Theme.self, from: data) } catch {
            throw ThemeError("\(path): not a valid theme (\(Self.reason(error)))")
        }
        let colours =
            [
                theme.text, theme.dim, theme.accent, theme.border, theme.title,
                theme.focusBackground, theme.focusText,
                theme.good, theme.warn, theme.bad, theme.lossRaw, theme.lossSmooth, theme.overlay,
            ] + theme.density + theme.series
        guard colours.allSatisfy({ (-1...255).contains($0) }), !theme.density.isEmpty,
            theme.density.count <= 64, !theme.series.isEmpty, theme.series.count <= 64
        else {
            throw ThemeError(
                """
                \(path): colours must be between -1 and 255, and density and series must list 1 to \
                64 of them
                """)
        }
        return theme
    }

    static func reason(_ error: Error) -> String {
        if case DecodingError.keyNotFound(let key, _) = error {
            return "missing '\(key.stringValue)'"
        }
        if case DecodingError.typeMismatch(_, let c) = error {
            return "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        }
        return "not valid JSON"
    }

    /// Folders searched for theme files: $PFGM_THEMES, ./themes, and themes/ beside the source tree
    /// of the binary.
    public static func searchFolders(executable: String = CommandLine.arguments.first ?? "")
        -> [String]
    {
        var folders: [String] = []
        if let env = ProcessInfo.processInfo.environment["PFGM_THEMES"] { folders.append(env) }
        folders.append("themes")
        var url = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<4 {
            url = url.deletingLastPathComponent()
            folders.append(url.appendingPathComponent("themes").path)
        }
        return folders
    }

    /// The theme called `name` (a path, or a name looked up in the search folders, then among the
    /// built-ins).
    public static func named(_ name: String) throws -> Theme {
        if name.contains("/") || name.hasSuffix(".json") { return try load(name) }
        for folder in searchFolders() {
            let path = "\(folder)/\(name).json"
            if FileManager.default.fileExists(atPath: path) { return try load(path) }
        }
        if let theme = builtIn.first(where: { $0.name == name }) { return theme }
        throw ThemeError(
            "unknown theme '\(name)'; available: \(available().map(\.name).joined(separator: ", "))"
        )
    }

    /// Built-in themes overridden or extended by files in the search folders.
    public static func available() -> [Theme] {
        var themes = builtIn
        for folder in searchFolders() {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
                continue
            }
            for file in files.sorted() where file.hasSuffix(".json") {
                guard let theme = try? load("\(folder)/\(file)") else { continue }
                if let i = themes.firstIndex(where: { $0.name == theme.name }) {
                    themes[i] = theme
                } else {
                    themes.append(theme)
                }
            }
        }
        return themes
    }
}

extension Theme {
    /// A theme file's keys; `series` may be left out.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func colour(_ key: CodingKeys) throws -> Int { try c.decode(Int.self, forKey: key) }
        self.init(
            name: try c.decode(String.self, forKey: .name), text: try colour(.text),
            dim: try colour(.dim), accent: try colour(.accent), border: try colour(.border),
            title: try colour(.title), focusBackground: try colour(.focusBackground),
            focusText: try colour(.focusText), good: try colour(.good), warn: try colour(.warn),
            bad: try colour(.bad), lossRaw: try colour(.lossRaw),
            lossSmooth: try colour(.lossSmooth), overlay: try colour(.overlay),
            density: try c.decode([Int].self, forKey: .density),
            series: try c.decodeIfPresent([Int].self, forKey: .series) ?? Self.defaultSeries)
    }
}

public struct ThemeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Foundation

/// What every widget draws with: colours by role and the glyph set.
public struct Style: Sendable, Equatable {
    public var theme: Theme
    public var glyphs: Glyphs

    public init(theme: Theme, glyphs: Glyphs) {
        self.theme = theme
        self.glyphs = glyphs
    }
}

extension Canvas {
    /// A bordered panel with a title in its top edge; returns the inside.
    @discardableResult
    public mutating func panel(_ rect: Rect, title: String, style: Style, highlighted: Bool = false)
        -> Rect
    {
        guard rect.width >= 2, rect.height >= 2 else {
            return Rect(x: rect.x, y: rect.y, width: 0, height: 0)
        }
        let g = style.glyphs
        let color = highlighted ? style.theme.accent : style.theme.border
        let right = rect.x + rect.width - 1
        let bottom = rect.y + rect.height - 1
        for x in (rect.x + 1)..<right {
            self[x, rect.y] = Cell(g.horizontal, foreground: color)
            self[x, bottom] = Cell(g.horizontal, foreground: color)
        }
        for y in (rect.y + 1)..<bottom {
            self[rect.x, y] = Cell(g.vertical, foreground: color)
            self[right, y] = Cell(g.vertical, foreground: color)
        }
        self[rect.x, rect.y] = Cell(g.topLeft, foreground: color)
        self[right, rect.y] = Cell(g.topRight, foreground: color)
        self[rect.x, bottom] = Cell(g.bottomLeft, foreground: color)
        self[right, bottom] = Cell(g.bottomRight, foreground: color)
        put(
            " \(Format.fitted(title, width: rect.width - 4)) ", x: rect.x + 1, y: rect.y,
            foreground: style.theme.title, bold: true, limit: rect.width - 2)
        return rect.inner
    }

    /// Text in a row of a rectangle, clipped to it.
    public mutating func text(
        _ s: String, in rect: Rect, row: Int, column: Int = 0, foreground: Int = -1,
        background: Int = -1, bold: Bool = false, reverse: Bool = false
    ) {
        guard row >= 0, row < rect.height, column < rect.width else { return }
        put(
            s, x: rect.x + column, y: rect.y + row, foreground: foreground, background: background,
            bold: bold, reverse: reverse, limit: rect.width - column)
    }
}

/// Compact number formatting for panels.
public enum Format {
    /// `s` in at most `width` columns: whole, or cut after a word (when one ends past half the
    /// width) with "…".
    public static func elided(_ s: String, width: Int) -> String {
        guard s.count > width else { return s }
        guard width > 1 else { return String(s.prefix(max(0, width))) }
        let cut = s.prefix(width - 1)
        if let space = cut.lastIndex(of: " "),
            cut.distance(from: cut.startIndex, to: space) > width / 2
        {
            let words = cut[..<space].trimmingCharacters(in: CharacterSet(charactersIn: " ,·"))
            return words + "…"
        }
        return cut + "…"
    }

    /// `s` in at most `width` columns, the least important parts going first: its parenthetical
    /// asides from the last, then its trailing " · " parts beyond the first two, then words at the
    /// end (`elided`).
    public static func fitted(_ s: String, width: Int) -> String {
        var text = s
        while text.count > width, let open = text.range(of: " (", options: .backwards),
            let close = text[open.upperBound...].firstIndex(of: ")")
        {
            text.removeSubrange(open.lowerBound...close)
        }
        var parts = text.components(separatedBy: " · ")
        while parts.joined(separator: " · ").count > width, parts.count > 2 { parts.removeLast() }
        return elided(parts.joined(separator: " · "), width: width)
    }

    public static func number(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.\(max(digits - 1, 0))e", v) }
        return String(format: "%.\(digits)g", v)
    }

    /// `s` padded with spaces to at least `width` characters.
    public static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// A short duration: "0.42 s", "3.1 s", "95 s".
    public static func seconds(_ s: Double) -> String {
        String(format: s < 1 ? "%.2f s" : s < 10 ? "%.1f s" : "%.0f s", max(0, s))
    }

    /// A duration for "… ago": seconds, minutes or hours, whole.
    public static func age(_ seconds: Double) -> String {
        let s = max(0, seconds)
        return s < 90 ? "\(Int(s)) s" : s < 5400 ? "\(Int(s / 60)) min" : "\(Int(s / 3600)) h"
    }

    public static func steps(_ n: Int) -> String {
        n >= 1_000_000
            ? String(format: "%.1fM", Double(n) / 1e6)
            : n >= 10_000 ? String(format: "%.1fk", Double(n) / 1e3) : String(n)
    }
}

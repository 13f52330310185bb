/// One screen cell: a character with foreground/background colour indices (−1: the terminal's
/// default; otherwise the xterm 256-colour palette) and attributes.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var foreground: Int
    public var background: Int
    public var bold: Bool
    public var reverse: Bool

    public init(
        _ character: Character = " ", foreground: Int = -1, background: Int = -1,
        bold: Bool = false, reverse: Bool = false
    ) {
        self.character = character
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.reverse = reverse
    }
}

/// A rectangle on the screen.
public struct Rect: Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    /// The rectangle inside a one-cell border.
    public var inner: Rect { Rect(x: x + 1, y: y + 1, width: width - 2, height: height - 2) }
    public var isEmpty: Bool { width <= 0 || height <= 0 }
}

/// A grid of cells that widgets draw into; a backend flushes it to the terminal.
public struct Canvas: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { contains(x, y) ? cells[y * width + x] : Cell() }
        set { if contains(x, y) { cells[y * width + x] = newValue } }
    }

    public func contains(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// Writes `text` from (x, y) rightwards, clipped to the canvas and to `limit` cells.
    public mutating func put(
        _ text: String, x: Int, y: Int, foreground: Int = -1, background: Int = -1,
        bold: Bool = false, reverse: Bool = false, limit: Int = .max
    ) {
        var column = x
        for ch in text.prefix(max(0, limit)) {
            self[column, y] = Cell(
                ch, foreground: foreground, background: background, bold: bold, reverse: reverse)
            column += 1
        }
    }

    /// Fills a rectangle with one cell.
    public mutating func fill(_ rect: Rect, with cell: Cell = Cell()) {
        for y in rect.y..<(rect.y + rect.height) {
            for x in rect.x..<(rect.x + rect.width) { self[x, y] = cell }
        }
    }

    /// ASCII stand-ins for the symbols the studio writes, for terminals without UTF-8.
    static let asciiStandIns: [Character: Character] = [
        "│": "|", "─": "-", "●": "*", "○": "o", "‖": "=", "◌": "o", "…": ".", "›": ">", "∞": "~",
        "α": "a", "σ": "s",
        "×": "x", "·": "-", "↑": "^", "↓": "v", "←": "<", "→": ">", "▲": "^", "–": "-", "▀": "#",
        "█": "#", "■": "#",
    ]

    /// Replaces every non-ASCII character by its stand-in (or "?").
    public mutating func transliterate() {
        for i in cells.indices where !cells[i].character.isASCII {
            cells[i].character = Self.asciiStandIns[cells[i].character] ?? "?"
        }
    }

    /// One row as plain text, for tests and logs.
    public func line(_ y: Int) -> String { String((0..<width).map { self[$0, y].character }) }

    /// The whole canvas as text, rows separated by newlines.
    public var text: String { (0..<height).map(line).joined(separator: "\n") }

    /// Cells that differ from `previous` (all of them when the sizes differ).
    public func changes(since previous: Canvas?) -> [(x: Int, y: Int, cell: Cell)] {
        var out: [(x: Int, y: Int, cell: Cell)] = []
        let same = previous.map { $0.width == width && $0.height == height } ?? false
        for y in 0..<height {
            for x in 0..<width {
                let cell = cells[y * width + x]
                if !same || previous?.cells[y * width + x] != cell { out.append((x, y, cell)) }
            }
        }
        return out
    }
}

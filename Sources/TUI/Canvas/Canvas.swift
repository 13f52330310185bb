/// One screen cell: a character with foreground/background colour indices and attributes.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var foreground: Int
    public var background: Int
    public var bold: Bool

    public init(_ character: Character = " ", foreground: Int = -1, background: Int = -1, bold: Bool = false) {
        self.character = character
        self.foreground = foreground
        self.background = background
        self.bold = bold
    }
}

/// A rectangle of cells that widgets draw into; a backend flushes it to the terminal.
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

    /// Writes `text` from (x, y) rightwards, clipped to the canvas.
    public mutating func put(_ text: String, x: Int, y: Int, foreground: Int = -1, background: Int = -1, bold: Bool = false) {
        var column = x
        for ch in text {
            self[column, y] = Cell(ch, foreground: foreground, background: background, bold: bold)
            column += 1
        }
    }

    /// One row as plain text, for tests and logs.
    public func line(_ y: Int) -> String { String((0..<width).map { self[$0, y].character }) }
}

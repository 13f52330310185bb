/// The characters the studio draws with: Unicode where the locale is UTF-8, ASCII otherwise.
public struct Glyphs: Sendable, Equatable {
    public var unicode: Bool
    public var horizontal: Character, vertical: Character
    public var topLeft: Character, topRight: Character, bottomLeft: Character,
        bottomRight: Character
    public var marker: Character, track: Character, filled: Character, empty: Character
    public var upperHalf: Character
    /// Density ramp for plots without braille.
    public var ramp: [Character]

    public static let unicodeSet = Glyphs(
        unicode: true, horizontal: "─", vertical: "│", topLeft: "╭", topRight: "╮",
        bottomLeft: "╰", bottomRight: "╯", marker: "▲", track: "─", filled: "●", empty: "○",
        upperHalf: "▀", ramp: [" ", "░", "▒", "▓", "█"])
    public static let asciiSet = Glyphs(
        unicode: false, horizontal: "-", vertical: "|", topLeft: "+", topRight: "+",
        bottomLeft: "+", bottomRight: "+", marker: "^", track: "-", filled: "*", empty: "o",
        upperHalf: "#", ramp: [" ", ".", ":", "*", "#"])

    /// A braille cell from a 2×4 dot mask (bit i: dot i in braille order), or an ASCII shade.
    public func dots(_ mask: UInt8) -> Character {
        if unicode {
            return Character(Unicode.Scalar(0x2800 + UInt32(mask)) ?? " ")
        }
        let n = mask.nonzeroBitCount
        return n == 0 ? " " : n <= 2 ? "." : n <= 4 ? ":" : n <= 6 ? "*" : "#"
    }

    /// The braille bit for dot (column 0–1, row 0–3) of a cell.
    public static func dotBit(column: Int, row: Int) -> UInt8 {
        let table: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
        return table[column & 1][row & 3]
    }
}

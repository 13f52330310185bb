import Engine
import TUI
import Testing

@Suite struct CanvasTests {
    @Test func textIsClippedToTheCanvas() {
        var canvas = Canvas(width: 5, height: 2)
        canvas.put("hello world", x: 2, y: 1)
        #expect(canvas.line(1) == "  hel")
        #expect(canvas.line(0) == "     ")
        canvas.put("▀█", x: -1, y: 0)
        #expect(canvas.line(0) == "█    ")
        #expect(canvas[9, 9] == Cell())
    }

    @Test func onlyChangedCellsAreWritten() {
        let terminal = MemoryTerminal(width: 10, height: 3)
        var canvas = Canvas(width: 10, height: 3)
        canvas.put("abc", x: 0, y: 0)
        terminal.present(canvas)
        let first = terminal.cellsWritten
        terminal.present(canvas)
        #expect(terminal.cellsWritten == first)
        canvas.put("x", x: 5, y: 2)
        terminal.present(canvas)
        #expect(terminal.cellsWritten == first + 1)
    }

    @Test func libraryVersionNamesNcurses() {
        #expect(TerminalInfo.libraryVersion.hasPrefix("ncurses"))
    }

    @Test func paletteReducesTo8ColoursAndGraysAreOrdered() {
        #expect(Palette.fit(196, colors: 8) == 1)
        #expect(Palette.fit(21, colors: 8) == 4)
        #expect(Palette.fit(196, colors: 256) == 196)
        #expect(Palette.fit(-1, colors: 8) == -1)
        #expect(Palette.gray(-1) == 16 && Palette.gray(1) == 231)
        #expect(Palette.gray(0) >= 232 && Palette.gray(0) <= 255)
    }

    @Test func brailleDotsAndAsciiFallback() {
        #expect(Glyphs.unicodeSet.dots(0xFF) == "⣿")
        #expect(Glyphs.unicodeSet.dots(Glyphs.dotBit(column: 0, row: 0)) == "⠁")
        #expect(Glyphs.unicodeSet.dots(Glyphs.dotBit(column: 1, row: 3)) == "⢀")
        #expect(Glyphs.asciiSet.dots(0xFF) == "#" && Glyphs.asciiSet.dots(0) == " ")
    }
}

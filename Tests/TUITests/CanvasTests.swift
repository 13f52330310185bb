import Testing
import TUI

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

    @Test func libraryVersionNamesNcurses() {
        #expect(TerminalInfo.libraryVersion.hasPrefix("ncurses"))
    }
}

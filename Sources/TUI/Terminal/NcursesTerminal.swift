@preconcurrency import CNcurses
import Foundation

/// The real terminal through ncursesw. Exactly one thread may use it.
public final class NcursesTerminal: TerminalBackend {
    public let capabilities: TerminalCapabilities
    private let screenPointer: OpaquePointer
    private var previous: Canvas?
    private var pairs: [Int: Int16] = [:]
    private var pairLimit: Int
    /// Set when a frame asked for more colour pairs than the terminal has (colour images can).
    private var pairsRanOut = false
    public private(set) var hasHungUp = false

    /// Checks the terminal and starts curses; throws a one-line reason when it cannot.
    public init(noColor: Bool) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError(
                """
                the studio needs a terminal; stdin or stdout is not one (the headless commands \
                work anywhere)
                """
            )
        }
        setlocale(LC_ALL, "")
        let environment = ProcessInfo.processInfo.environment
        let named = environment["TERM"] ?? ""
        guard !named.isEmpty else {
            throw TerminalError(
                "TERM is not set; set it to your terminal type, e.g. TERM=xterm-256color")
        }
        var status: Int32 = 0
        guard setupterm(named, STDOUT_FILENO, &status) == OK else {
            throw TerminalError("terminal type '\(named)' is unknown here; try TERM=xterm-256color")
        }
        let term =
            noColor
            ? named
            : TrueColour.terminalType(
                term: named, colorTerm: environment["COLORTERM"], takesDirectColour: Self.direct)
                ?? named
        _ = setupterm(term, STDOUT_FILENO, &status)
        guard let cup = tigetstr("cup"), Int(bitPattern: cup) != -1, Int(bitPattern: cup) != 0
        else {
            throw TerminalError(
                """
                terminal type '\(term)' cannot move the cursor, so a full-screen studio cannot \
                run; use a terminal such as xterm-256color
                """
            )
        }
        Self.receiveResizeSignals()
        pfgm_install_fatal_signal_restore()
        guard let screen = newterm(term, stdout, stdin) else {
            throw TerminalError("cannot start the terminal '\(term)'")
        }
        screenPointer = screen
        set_term(screen)
        cbreak()
        noecho()
        keypad(pfgm_stdscr(), true)
        curs_set(0)
        leaveok(pfgm_stdscr(), true)
        ESCDELAY = 25
        var colors = 0
        if !noColor && has_colors() {
            start_color()
            use_default_colors()
            let count = Int(pfgm_colors())
            colors =
                count >= Palette.directColours
                ? Palette.directColours
                : count >= 256 ? 256 : count >= 8 ? 8 : 0
        }
        pairLimit = colors == 0 ? 0 : Int(min(pfgm_color_pairs(), 32_767)) - 1
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        capabilities = TerminalCapabilities(colors: colors, unicode: codeset == "UTF-8")
    }

    /// Whether the terminal type is known here and takes 24-bit colour (leaves it set up).
    static func direct(_ term: String) -> Bool {
        var status: Int32 = 0
        guard setupterm(term, STDOUT_FILENO, &status) == OK else { return false }
        return tigetnum("colors") >= Palette.directColours
    }

    /// A parent may have blocked or ignored SIGWINCH (both are inherited across exec); curses only
    /// reports resizes when the signal is delivered and its disposition was the default.
    static func receiveResizeSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGCONT, SIGTSTP] { sigaddset(&set, s) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        signal(SIGWINCH, SIG_DFL)
    }

    /// Whether `fd` reports a hang-up or an error: a closed SSH connection or terminal window.
    static func hungUp(_ fd: Int32) -> Bool {
        var polled = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&polled, 1, 0) > 0 else { return false }
        return polled.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }

    /// Restores the terminal. Safe to call more than once.
    public func shutdown() {
        guard isendwin() == false else { return }
        curs_set(1)
        endwin()
    }

    public var size: (width: Int, height: Int) {
        var y: Int32 = 0
        var x: Int32 = 0
        pfgm_getmaxyx(pfgm_stdscr(), &y, &x)
        return (Int(x), Int(y))
    }

    public func present(_ canvas: Canvas) {
        if previous.map({ $0.width != canvas.width || $0.height != canvas.height }) ?? true {
            // clear, not erase: after a resize the terminal may not show what curses believes it
            // does.
            clear()
            previous = nil
        }
        for change in canvas.changes(since: previous) {
            let c = change.cell
            var attributes = c.bold ? pfgm_a_bold() : pfgm_a_normal()
            if c.reverse { attributes |= pfgm_a_reverse() }
            let scalar = c.character.unicodeScalars.first.map { Int32(bitPattern: $0.value) } ?? 32
            _ = pfgm_put_wch(
                Int32(change.y), Int32(change.x), wchar_t(scalar), attributes,
                pair(c.foreground, c.background))
        }
        previous = canvas
        if pairsRanOut {
            // Pairs are defined anew from the next frame on, which then repaints every cell.
            pairs.removeAll()
            pairsRanOut = false
            previous = nil
        }
        refresh()
    }

    public func readKey(timeoutMilliseconds: Int) -> Key? {
        timeout(Int32(timeoutMilliseconds))
        let code = getch()
        switch code {
        case pfgm_err():
            // A line that hung up reads as no key at once, and need not bring SIGHUP (the
            // terminal may not be this process's controlling one).
            hasHungUp = hasHungUp || Self.hungUp(STDIN_FILENO)
            return nil
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_RESIZE:
            previous = nil
            return .resize
        case KEY_ENTER, 10, 13: return .enter
        case KEY_BACKSPACE, 127, 8: return .backspace
        case 27: return .escape
        case 32..<127: return .character(Character(Unicode.Scalar(UInt8(code))))
        default: return nil
        }
    }

    /// A colour pair for (foreground, background), made on first use; pair 0 when they run out
    /// (then they are all made anew for the next frame).
    private func pair(_ foreground: Int, _ background: Int) -> Int16 {
        guard capabilities.colors > 0 else { return 0 }
        let fg = Palette.fit(foreground, colors: capabilities.colors)
        let bg = Palette.fit(background, colors: capabilities.colors)
        if fg < 0 && bg < 0 { return 0 }
        let key = (fg + 1) << 26 | (bg + 1)
        if let p = pairs[key] { return p }
        guard pairs.count < pairLimit else {
            pairsRanOut = true
            return 0
        }
        let p = Int16(pairs.count + 1)
        _ = pfgm_init_pair(Int32(p), Int32(fg), Int32(bg))
        pairs[key] = p
        return p
    }
}

/// The terminal type to run under when the terminal says (COLORTERM) that it takes 24-bit colour
/// but its TERM does not: TERM's direct-colour variant (xterm-256color → xterm-direct,
/// tmux-256color → tmux-direct), else xterm-direct.
public enum TrueColour {
    /// The type to use instead of `term`; nil to keep it.
    public static func terminalType(
        term: String, colorTerm: String?, takesDirectColour: (String) -> Bool
    ) -> String? {
        let said = (colorTerm ?? "").lowercased()
        guard said == "truecolor" || said == "24bit", !takesDirectColour(term) else { return nil }
        var base = term
        for suffix in ["-256color", "-88color", "-color"] where base.hasSuffix(suffix) {
            base.removeLast(suffix.count)
        }
        return [base + "-direct", "xterm-direct"].first(where: takesDirectColour)
    }
}

public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Colours of cells: −1 the terminal's default, 0–255 the xterm 256-colour palette, and from 256 on
/// a 24-bit colour (`direct`). Each is reduced to what the terminal shows (`fit`).
public enum Palette {
    /// `TerminalCapabilities.colors` of a terminal that takes 24-bit colour.
    public static let directColours = 1 << 24

    /// A 24-bit colour, from bytes.
    public static func direct(red: Int, green: Int, blue: Int) -> Int {
        256 + (red << 16 | green << 8 | blue)
    }

    /// RGB of a palette index or a 24-bit colour.
    public static func rgb(_ index: Int) -> (Int, Int, Int) {
        if index >= 256 {
            let v = index - 256
            return (v >> 16 & 255, v >> 8 & 255, v & 255)
        }
        if index < 16 { return basic[max(0, index)] }
        if index >= 232 {
            let v = 8 + (index - 232) * 10
            return (v, v, v)
        }
        let i = index - 16
        return (cubeSteps[i / 36], cubeSteps[(i / 6) % 6], cubeSteps[i % 6])
    }

    /// RGB of the 16 basic colours, and the 6 levels of each channel of the 6×6×6 cube.
    static let basic = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205),
        (0, 205, 205), (229, 229, 229), (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]
    static let cubeSteps = [0, 95, 135, 175, 215, 255]

    /// The colour number to give a terminal with `colors` colours (−1 stays the default colour): on
    /// a direct-colour terminal the 24-bit value (0–7 stay the basic colours, so a 24-bit colour is
    /// at least 8), on a 256-colour one the nearest palette entry, on an 8-colour one the nearest
    /// basic colour.
    public static func fit(_ index: Int, colors: Int) -> Int {
        guard index >= 0 else { return index }
        if colors >= 256 && colors < directColours && index < 256 { return index }
        if index < 8 { return index }
        let (r, g, b) = rgb(index)
        if colors >= directColours { return max(8, r << 16 | g << 8 | b) }
        if colors >= 256 { return nearest(r, g, b) }
        return (0..<8).min { a, c in distance(rgb(a), (r, g, b)) < distance(rgb(c), (r, g, b)) }
            ?? 7
    }

    /// The palette entry nearest a colour: the grey ramp's or the cube's, whichever is closer.
    static func nearest(_ r: Int, _ g: Int, _ b: Int) -> Int {
        let unit = { (v: Int) in Float(v) / 127.5 - 1 }
        let cube = cube(red: unit(r), green: unit(g), blue: unit(b))
        let gray = gray(unit((r + g + b) / 3))
        return distance(rgb(gray), (r, g, b)) < distance(rgb(cube), (r, g, b)) ? gray : cube
    }

    static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) + (a.2 - b.2) * (a.2 - b.2)
    }

    /// The 256-colour index of the 6×6×6 cube nearest to a colour whose channels are in [−1, 1].
    public static func cube(red: Float, green: Float, blue: Float) -> Int {
        // Levels 0, 95, 135, …, 255: below the midpoint of 0 and 95 level 0, else the nearest of 95
        // + 40·(k − 1), a tie going to the lower level.
        func level(_ v: Float) -> Int {
            let byte = (min(max(v, -1), 1) + 1) / 2 * 255
            return byte <= 47.5 ? 0 : min(5, max(1, Int(((byte - 55) / 40 - 0.5).rounded(.up))))
        }
        return 16 + 36 * level(red) + 6 * level(green) + level(blue)
    }

    /// The 256-colour grey for a value in [−1, 1]: black (16), the 24-step ramp, white (231).
    public static func gray(_ value: Float) -> Int {
        let levels = [16] + Array(232...255) + [231]
        let t = (min(max(value, -1), 1) + 1) / 2
        return levels[Int((t * Float(levels.count - 1)).rounded())]
    }
}

/// Facts about the terminal library this build links.
public enum TerminalInfo {
    /// The ncurses version string, e.g. "ncurses 6.4.20221231".
    public static var libraryVersion: String {
        guard let v = curses_version() else { return "ncurses (unknown version)" }
        return String(cString: v)
    }
}

/// A key press, as the app sees it.
public enum Key: Sendable, Equatable {
    case character(Character)
    case up, down, left, right
    case enter, escape, backspace
    case resize
}

/// What the terminal can show.
public struct TerminalCapabilities: Sendable, Equatable {
    /// 0 (no colour), 8, 256, or `Palette.directColours` (a terminal that takes 24-bit colour, e.g.
    /// TERM=xterm-direct).
    public var colors: Int
    public var unicode: Bool

    public init(colors: Int, unicode: Bool) {
        self.colors = colors
        self.unicode = unicode
    }
}

/// The screen the app draws to: ncurses for real, memory for tests.
public protocol TerminalBackend: AnyObject {
    var size: (width: Int, height: Int) { get }
    var capabilities: TerminalCapabilities { get }
    /// Shows `canvas`, writing only the cells that changed since the last call.
    func present(_ canvas: Canvas)
    /// The next key, waiting at most `timeoutMilliseconds`; nil when none came.
    func readKey(timeoutMilliseconds: Int) -> Key?
    /// Whether the terminal has gone (its line hung up), as the last `readKey` found.
    var hasHungUp: Bool { get }
}

/// A terminal in memory: the last presented canvas and a queue of keys, for tests.
public final class MemoryTerminal: TerminalBackend {
    public var size: (width: Int, height: Int)
    public var capabilities: TerminalCapabilities
    public private(set) var screen: Canvas
    public private(set) var cellsWritten = 0
    public var keys: [Key] = []
    public var hasHungUp = false

    public init(
        width: Int, height: Int,
        capabilities: TerminalCapabilities = .init(colors: 256, unicode: true)
    ) {
        size = (width, height)
        self.capabilities = capabilities
        screen = Canvas(width: width, height: height)
    }

    public func present(_ canvas: Canvas) {
        cellsWritten += canvas.changes(since: screen).count
        screen = canvas
    }

    public func readKey(timeoutMilliseconds: Int) -> Key? {
        keys.isEmpty ? nil : keys.removeFirst()
    }
}

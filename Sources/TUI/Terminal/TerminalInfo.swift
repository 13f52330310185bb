import CNcurses

/// Facts about the terminal library this build links.
public enum TerminalInfo {
    /// The ncurses version string, e.g. "ncurses 6.4.20221231".
    public static var libraryVersion: String {
        guard let v = curses_version() else { return "ncurses (unknown version)" }
        return String(cString: v)
    }
}

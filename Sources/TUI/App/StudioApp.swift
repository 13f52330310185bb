import Engine
import Foundation
import Synchronization

/// What a key does: changes on screen, commands for the engine, or quitting.
public struct KeyEffect: Sendable {
    public var commands: [StudioCommand] = []
    public var quit = false
    public var nextTheme = false
    public var redraw = false
}

/// The studio's controller: maps keys to UI changes and engine commands, renders snapshots, and
/// runs the loop on the thread that owns the terminal.
public final class StudioApp {
    public private(set) var ui: UIState
    public private(set) var theme: Theme
    let themes: [Theme]
    let backend: TerminalBackend
    let engine: StudioEngine
    var lastVersion = -1
    var playStarted = 0.0

    public init(engine: StudioEngine, backend: TerminalBackend, theme: Theme, themes: [Theme]) {
        self.engine = engine
        self.backend = backend
        self.themes = themes.isEmpty ? [theme] : themes
        self.theme = backend.capabilities.colors == 0 ? .mono : theme
        ui = UIState(settings: engine.latest.settings)
    }

    public var style: Style {
        Style(theme: theme, glyphs: backend.capabilities.unicode ? .unicodeSet : .asciiSet)
    }

    /// Applies one key; pure with respect to the terminal.
    public func handle(_ key: Key, snapshot: Snapshot) -> KeyEffect {
        var effect = KeyEffect(redraw: true)
        ui.notice = nil
        if ui.showHelp, key == .escape || key == .character("?") {
            ui.showHelp = false
            return effect
        }
        if ui.showSweep, key == .escape || key == .character("w") {
            ui.showSweep = false
            return effect
        }
        if ui.showProbes, key == .escape || key == .character("g") {
            ui.showProbes = false
            effect.commands.append(.probes(false))
            return effect
        }
        let before = ui.settings
        switch key {
        case .character(" "): effect.commands.append(.toggleTraining)
        case .character("t"): effect.commands.append(.trainShown)
        case .character("n"): effect.commands.append(.trainOneNetwork)
        case .character("m"): ui.settings.useOneNetwork.toggle()
        case .left:
            ui.settings = Control.augmentedDimension.adjust(
                ui.settings, by: -1, ladder: snapshot.ladder)
        case .right:
            ui.settings = Control.augmentedDimension.adjust(
                ui.settings, by: 1, ladder: snapshot.ladder)
        case .up:
            ui.focus =
                Control(
                    rawValue: (ui.focus.rawValue + Control.allCases.count - 1)
                        % Control.allCases.count) ?? ui.focus
        case .down:
            ui.focus =
                Control(rawValue: (ui.focus.rawValue + 1) % Control.allCases.count) ?? ui.focus
        case .character("+"), .character("="):
            ui.settings = ui.focus.adjust(ui.settings, by: 1, ladder: snapshot.ladder)
        case .character("-"), .character("_"):
            ui.settings = ui.focus.adjust(ui.settings, by: -1, ladder: snapshot.ladder)
        case .character("r"):
            ui.settings.seed &+= 1
            effect.commands.append(.resample(ui.settings))
        case .character("R"): effect.commands.append(.resample(ui.settings))
        case .character("o"): ui.settings.useOracle.toggle()
        case .character("p"):
            ui.playFrame = 0
            playStarted = Stopwatch.now()
        case .character("d"): ui.showOverlay.toggle()
        case .character("w"): ui.showSweep = true
        case .character("g"):
            ui.showProbes = true
            effect.commands.append(.probes(true))
        case .character("s"): effect.commands.append(.save)
        case .character("T"): effect.nextTheme = true
        case .character("?"): ui.showHelp = true
        case .character("q"), .character("Q"): effect.quit = true
        case .escape: ui.playFrame = nil
        case .resize: break
        default: effect.redraw = false
        }
        if ui.settings != before {
            ui.playFrame = nil
            effect.commands.append(.apply(ui.settings))
        }
        if effect.nextTheme, let i = themes.firstIndex(where: { $0.name == theme.name }) {
            theme = backend.capabilities.colors == 0 ? .mono : themes[(i + 1) % themes.count]
        } else if effect.nextTheme, let first = themes.first {
            theme = first
        }
        if effect.nextTheme { ui.notice = "theme \(theme.name)" }
        return effect
    }

    public func render(_ snapshot: Snapshot) -> Canvas {
        let size = backend.size
        return StudioView(
            snapshot: snapshot, ui: ui, style: style, colors: backend.capabilities.colors
        )
        .render(width: size.width, height: size.height)
    }

    /// Advances trajectory playback (one frame every 120 ms); true when the frame changed.
    func advancePlayback(_ snapshot: Snapshot) -> Bool {
        guard let frame = ui.playFrame, let count = snapshot.preview?.trajectory.count else {
            return false
        }
        let target = min(count - 1, Int((Stopwatch.now() - playStarted) / 0.12))
        guard target != frame else { return false }
        ui.playFrame = target
        return true
    }

    /// The loop: keys at most every 33 ms (a ~30 fps cap), redraws only when something changed.
    /// Returns when the user quits or `stop` becomes true, after the engine saved and stopped.
    public func run(stop: borrowing Atomic<Bool>) {
        var dirty = true
        while true {
            if stop.load(ordering: .relaxed) { break }
            let key = backend.readKey(timeoutMilliseconds: 33)
            let latest = engine.latest
            if let key {
                let effect = handle(key, snapshot: latest)
                effect.commands.forEach(engine.send)
                if effect.quit { break }
                dirty = dirty || effect.redraw
            }
            if advancePlayback(latest) { dirty = true }
            if dirty || latest.version != lastVersion {
                backend.present(render(latest))
                lastVersion = latest.version
                dirty = false
            }
        }
        engine.send(.quit)
        let deadline = Stopwatch.now() + 60
        while !engine.hasStopped && Stopwatch.now() < deadline {
            backend.present(render(engine.latest))
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

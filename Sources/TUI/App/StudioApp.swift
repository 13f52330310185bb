import Engine
import Foundation
import Synchronization

/// What a key does: changes on screen, commands for the engine, or quitting.
public struct KeyEffect: Sendable {
    public var commands: [StudioCommand] = []
    public var quit = false
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

    /// Applies one key, as the key table says; pure with respect to the terminal.
    public func handle(_ key: Key, snapshot: Snapshot) -> KeyEffect {
        ui.notice = nil
        guard let action = KeyTable.action(for: key) else {
            return KeyEffect(redraw: key == .resize)
        }
        return perform(action, snapshot: snapshot)
    }

    /// Carries out one action: UI changes here, the engine's part as commands in the effect.
    public func perform(_ action: Action, snapshot: Snapshot) -> KeyEffect {
        var effect = KeyEffect(redraw: true)
        let before = (settings: ui.settings, mode: ui.mode)
        switch action {
        case .toggleTraining: effect.commands.append(.toggleTraining)
        case .trainShown: effect.commands.append(.trainShown)
        case .trainOneNetwork: effect.commands.append(.trainOneNetwork)
        case .toggleOneNetwork: ui.settings.useOneNetwork.toggle()
        case .moveDimension(let rungs):
            ui.settings = Control.augmentedDimension.adjust(
                ui.settings, by: rungs, ladder: snapshot.ladder)
        case .moveFocus(let rows): ui.focus = ui.focus.moved(by: rows)
        case .adjust(let steps):
            ui.settings = ui.focus.adjust(ui.settings, by: steps, ladder: snapshot.ladder)
        case .resampleWithNewSeed:
            ui.settings.seed &+= 1
            effect.commands.append(.resample(ui.settings))
        case .resample: effect.commands.append(.resample(ui.settings))
        case .toggleOracle: ui.settings.useOracle.toggle()
        case .play:
            ui.playFrame = 0
            playStarted = Stopwatch.now()
        case .toggleOverlay: ui.showOverlay.toggle()
        case .nextSmoothing: ui.smoothing = ui.smoothing.next
        case .toggleLossOverlay: ui.overlayLosses.toggle()
        case .toggle(let mode): ui.mode = ui.mode == mode ? .panels : mode
        case .save: effect.commands.append(.save)
        case .export: effect.commands.append(.export(ui.mode.exportView))
        case .nextTheme: switchTheme()
        case .quit: effect.quit = true
        case .back:
            if ui.mode != .panels { ui.mode = .panels } else { ui.playFrame = nil }
        }
        if ui.settings != before.settings {
            ui.playFrame = nil
            effect.commands.append(.apply(ui.settings))
        }
        if before.mode != ui.mode {
            effect.commands += [before.mode.engineCommand(open: false)].compactMap { $0 }
            effect.commands += [ui.mode.engineCommand(open: true)].compactMap { $0 }
        }
        return effect
    }

    /// The next theme of the list (mono on a terminal without colours), named on the message line.
    func switchTheme() {
        if backend.capabilities.colors == 0 {
            theme = .mono
        } else if let i = themes.firstIndex(where: { $0.name == theme.name }) {
            theme = themes[(i + 1) % themes.count]
        } else if let first = themes.first {
            theme = first
        }
        ui.notice = "theme \(theme.name)"
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
    /// Returns when the user quits, `stop` becomes true or the terminal hangs up, after the engine
    /// saved and stopped.
    public func run(stop: borrowing Atomic<Bool>) {
        var dirty = true
        while true {
            if stop.load(ordering: .relaxed) || backend.hasHungUp { break }
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
            if !backend.hasHungUp { backend.present(render(engine.latest)) }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

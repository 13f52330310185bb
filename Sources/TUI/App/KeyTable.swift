import Engine
import Foundation

/// What fills the screen: the panels, or one view over them.
public enum Mode: Sendable, Equatable {
    case panels
    /// The key list (`?`).
    case help
    /// The opened sweep's tables (`w`).
    case sweep
    /// The metric against α, bits and NFE per model (`g`).
    case probes
    /// The slider's marks sampled from the same noise (`c`).
    case coupled
    /// Each preview image beside its nearest training image (`k`).
    case nearest
}

extension Mode {
    /// What the engine computes for the view while it is open; nil for views it draws from the
    /// snapshot alone.
    func engineCommand(open: Bool) -> StudioCommand? {
        switch self {
        case .probes: .probes(open)
        case .coupled: .coupled(open)
        case .nearest: .nearest(open)
        case .panels, .help, .sweep: nil
        }
    }
}

extension Mode {
    /// What `e` exports in this mode: the coupled grid, the probes' curves, else the preview.
    var exportView: ExportView {
        switch self {
        case .coupled: .coupled
        case .probes: .probes
        case .panels, .help, .sweep, .nearest: .preview
        }
    }
}

/// Everything a key can do; `StudioApp.perform` carries it out.
public enum Action: Sendable, Equatable {
    case toggleTraining, trainShown, trainOneNetwork, toggleOneNetwork
    /// Moves D along the slider by this many rungs.
    case moveDimension(Int)
    /// Moves the focus through the controls by this many rows.
    case moveFocus(Int)
    /// Changes the focused control by this many steps.
    case adjust(Int)
    case resampleWithNewSeed, resample, toggleOracle, play, toggleOverlay, nextSmoothing
    case toggleLossOverlay
    /// Opens the mode, or goes back to the panels when it is open.
    case toggle(Mode)
    case save, export, nextTheme, quit
    /// Closes the open view, else stops the trajectory playing.
    case back
}

/// One row of the key table: the keys, how help shows them, and what they do.
public struct KeyBinding: Sendable {
    /// Each key and its action; one row can hold a pair (← →).
    public let keys: [(Key, Action)]
    /// The keys as help and the README show them ("space", "← →").
    public let label: String
    public let help: String
    /// The word on the message line's hints, when the key has one there; `followHint` while
    /// following a run.
    public let hint: String?
    public let followHint: String?

    init(
        _ label: String, _ keys: [(Key, Action)], _ help: String, hint: String? = nil,
        followHint: String? = nil
    ) {
        self.label = label
        self.keys = keys
        self.help = help
        self.hint = hint
        self.followHint = followHint
    }

    init(
        _ label: String, _ key: Key, _ action: Action, _ help: String, hint: String? = nil,
        followHint: String? = nil
    ) {
        self.init(label, [(key, action)], help, hint: hint, followHint: followHint)
    }
}

/// The studio's keys: `StudioApp.handle`, the help screen, the message line's hints,
/// `pfgm studio --help` and the README test all read this table.
public enum KeyTable {
    public static let bindings: [KeyBinding] = [
        KeyBinding(
            "space", .character(" "), .toggleTraining, "start / pause training", hint: "train"),
        KeyBinding("t", .character("t"), .trainShown, "train at the shown D"),
        KeyBinding("n", .character("n"), .trainOneNetwork, "train one network for every D"),
        KeyBinding("m", .character("m"), .toggleOneNetwork, "one network / D's own model"),
        KeyBinding(
            "← →", [(.left, .moveDimension(-1)), (.right, .moveDimension(1))],
            "move D along the slider", hint: "D", followHint: "D"),
        KeyBinding(
            "↑ ↓", [(.up, .moveFocus(-1)), (.down, .moveFocus(1))], "choose a control"),
        KeyBinding(
            "+ -",
            [
                (.character("+"), .adjust(1)), (.character("="), .adjust(1)),
                (.character("-"), .adjust(-1)), (.character("_"), .adjust(-1)),
            ],
            "change the chosen control"),
        KeyBinding(
            "r", .character("r"), .resampleWithNewSeed, "resample with a new seed",
            hint: "resample", followHint: "resample"),
        KeyBinding("R", .character("R"), .resample, "resample with the same seed"),
        KeyBinding("o", .character("o"), .toggleOracle, "oracle denoiser on / off"),
        KeyBinding(
            "p", .character("p"), .play, "play the sampling trajectory", hint: "play",
            followHint: "play"),
        KeyBinding("d", .character("d"), .toggleOverlay, "data overlay on / off"),
        KeyBinding("l", .character("l"), .nextSmoothing, "loss line: EMA, mean, raw"),
        KeyBinding("L", .character("L"), .toggleLossOverlay, "overlay every model's loss"),
        KeyBinding(
            "w", .character("w"), .toggle(.sweep), "sweep tables (--sweep DIR)"),
        KeyBinding("g", .character("g"), .toggle(.probes), "probes: metric vs α, bits, NFE"),
        KeyBinding(
            "c", .character("c"), .toggle(.coupled), "same noise across D (coupled)"),
        KeyBinding(
            "k", .character("k"), .toggle(.nearest), "nearest training images"
        ),
        KeyBinding(
            "s", .character("s"), .save, "save the shown model / copy it",
            followHint: "copy"),
        KeyBinding("e", .character("e"), .export, "export the view (PNG, JSON)"),
        KeyBinding("T", .character("T"), .nextTheme, "next colour theme"),
        KeyBinding(
            "?", .character("?"), .toggle(.help), "this help", hint: "help", followHint: "help"),
        KeyBinding("Esc", .escape, .back, "close the view / stop playing"),
        KeyBinding(
            "q", [(.character("q"), .quit), (.character("Q"), .quit)], "save and quit",
            hint: "quit", followHint: "quit"),
    ]

    /// What `key` does; nil for a key the studio does not use.
    public static func action(for key: Key) -> Action? {
        for binding in bindings {
            if let match = binding.keys.first(where: { $0.0 == key }) { return match.1 }
        }
        return nil
    }

    /// The message line's hints, made once: the view draws them on every frame.
    static let trainingHints = hints(following: false)
    static let followingHints = hints(following: true)

    /// The message line's hints: "space train · ←→ D · … · q quit".
    public static func hints(following: Bool) -> String {
        bindings.compactMap { binding in
            (following ? binding.followHint : binding.hint).map {
                binding.label.replacingOccurrences(of: " ", with: "") + " " + $0
            }
        }
        .joined(separator: " · ")
    }
}

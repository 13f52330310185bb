/// The coupled view's state and pacing, apart from the engine: whether it is open, the D still to
/// sample for the grid in progress, and what that grid was made for (the settings and the models'
/// steps). A new grid starts when those move, and while training not sooner than `pace` times the
/// last grid's time after it.
public struct CoupledQueue {
    /// The slider's marks the view shows.
    public static let marks: [AugmentedDimension] = [
        .finite(1), .finite(4), .finite(16), .finite(128), .finite(2048), .infinite,
    ]
    public static let pace = 4.0
    public static let minimumPause = 10.0

    public private(set) var isOpen = false
    public private(set) var grid: CoupledGrid?
    private var pending: [AugmentedDimension] = []
    private var key: (settings: StudioSettings, steps: [Int])?
    private var due = 0.0
    private var started = 0.0

    public init() {}

    public mutating func open() {
        isOpen = true
        key = nil
        due = 0
    }

    public mutating func close() {
        isOpen = false
        pending = []
        grid = nil
        key = nil
    }

    /// Starts a new grid over `dimensions`: at once when the view opened or the settings moved
    /// (the shown D aside: the grid has its own), and when only the models' `steps` moved, once
    /// the pause after the last grid is over. True when it started one.
    public mutating func refresh(
        settings: StudioSettings, steps: [Int], dimensions: [AugmentedDimension], now: Double
    ) -> Bool {
        var settings = settings
        settings.augmentedDimension = .infinite
        guard isOpen else { return false }
        let moved = key?.settings != settings
        guard moved || (key?.steps != steps && now >= due) else { return false }
        key = (settings, steps)
        pending = dimensions
        grid = CoupledGrid(total: dimensions.count)
        started = now
        return true
    }

    /// The D to sample next; nil when the grid is done.
    public var next: AugmentedDimension? { isOpen ? pending.first : nil }

    /// Adds the next D's panel; the grid's last one sets when the next grid may start.
    public mutating func record(_ panel: CoupledPanel, now: Double) {
        guard !pending.isEmpty, var grid else { return }
        pending.removeFirst()
        grid.panels.append(panel)
        if pending.isEmpty {
            grid.seconds = now - started
            due = now + max(Self.minimumPause, Self.pace * (now - started))
        }
        self.grid = grid
    }
}

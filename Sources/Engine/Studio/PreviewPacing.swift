/// When the preview is drawn again: at once when asked (a setting, or the shown model, changed),
/// and while training every 19 times the last preview's time, at least 3 s, so previews take
/// about 5% of the engine's time.
public struct PreviewPacing: Sendable {
    public private(set) var isAsked = true
    public private(set) var nextAutomatic = 0.0

    public init() {}

    /// Asks for a preview at the next turn of the loop.
    public mutating func ask() { isAsked = true }

    /// Whether to draw now: asked, or training and the automatic one is due.
    public func isDue(now: Double, training: Bool) -> Bool {
        isAsked || (training && now >= nextAutomatic)
    }

    /// Whether the automatic preview is due, asked or not.
    public func automaticDue(now: Double) -> Bool { now >= nextAutomatic }

    /// A preview begins: the ask is taken (a preview cut short asks again).
    public mutating func begin() { isAsked = false }

    /// A preview that took `seconds` is done at `now`.
    public mutating func finished(took seconds: Double, now: Double) {
        nextAutomatic = now + max(3, 19 * seconds)
    }

    /// Training just started: its first automatic preview after `seconds`.
    public mutating func delayAutomatic(by seconds: Double, now: Double) {
        nextAutomatic = now + seconds
    }
}

import Engine
import Foundation

/// Progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise.
struct Progress {
    let total: Int
    /// The step this process started from: speed and ETA count only the steps it ran (a resumed
    /// run's earlier steps took no time here).
    let firstStep: Int
    let isTerminal = isatty(STDERR_FILENO) == 1
    var lastLine = 0.0
    let start = Stopwatch.now()

    init(total: Int, from firstStep: Int = 0) {
        self.total = total
        self.firstStep = firstStep
    }

    /// `rate`: the latest logged window's steps/s, or nil before the first, when the steps run so
    /// far give it.
    mutating func update(step: Int, loss: Float, rate windowRate: Double?, force: Bool = false) {
        let now = Stopwatch.now()
        let interval = isTerminal ? 0.1 : 10.0
        guard force || now - lastLine >= interval else { return }
        lastLine = now
        let rate = windowRate ?? Double(step - firstStep) / max(now - start, 1e-9)
        let remaining = rate > 0 ? Double(total - step) / rate : 0
        let fraction = Double(step) / Double(max(total, 1))
        let text = String(
            format: "step %d/%d  loss %.4f  %.1f steps/s  ETA %@", step, total, loss, rate,
            duration(remaining))
        if isTerminal {
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar =
                String(repeating: "█", count: filled)
                + String(repeating: "░", count: width - filled)
            writeStandardError("\r\u{1B}[K\(bar) \(text)")
        } else {
            writeStandardError("\(text)\n")
        }
    }

    func finish() {
        if isTerminal { writeStandardError("\n") }
    }
}

func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600
        ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
        : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}

/// Progress of a long evaluation on stderr: a redrawn line on a terminal, nothing otherwise.
final class EvalProgress {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var last = 0.0, shown = false

    func report(_ stage: String, _ fraction: Double) {
        guard isTerminal else { return }
        let now = Stopwatch.now()
        guard now - last >= 0.1 || fraction >= 1 else { return }
        last = now
        shown = true
        writeStandardError(String(format: "\r\u{1B}[K%@ %3.0f%%", stage, 100 * min(fraction, 1)))
    }

    /// Clears the line, so that other lines can be written.
    func finish() {
        if shown { writeStandardError("\r\u{1B}[K") }
        shown = false
    }
}

/// One progress display for a whole sweep: fraction of the work, what runs now, ETA from this run's
/// rate.
struct SweepProgress {
    let isTerminal = isatty(STDERR_FILENO) == 1
    let start = Stopwatch.now()
    var startUnits: Double?
    var lastLine = 0.0

    mutating func update(done: Double, total: Double, label: String) {
        let now = Stopwatch.now()
        if startUnits == nil { startUnits = done }
        guard now - lastLine >= (isTerminal ? 0.2 : 15) else { return }
        lastLine = now
        let rate = (done - (startUnits ?? 0)) / max(now - start, 1e-9)
        let eta = rate > 0 ? (total - done) / rate : .infinity
        let text = String(
            format: "sweep %5.1f%%  ETA %@  %@", 100 * done / max(total, 1), duration(eta), label)
        writeStandardError(isTerminal ? "\r\u{1B}[K" + text : text + "\n")
    }

    func finish() {
        if isTerminal { writeStandardError("\n") }
    }
}

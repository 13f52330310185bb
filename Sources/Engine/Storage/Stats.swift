import Foundation

/// One line of a run's stats.jsonl: the mean loss over the steps since the previous line, with
/// the rate and the time since training began. `pfgm train`, the sweep, the studio and
/// tools/torch write these lines; the studio and the loss history read them.
public struct StatsLine: Codable, Equatable, Sendable {
    public var step: Int
    public var loss: Double
    public var stepsPerSecond: Double?
    public var elapsedSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case step, loss
        case stepsPerSecond = "steps_per_s"
        case elapsedSeconds = "elapsed_s"
    }

    public init(
        step: Int, loss: Double, stepsPerSecond: Double? = nil, elapsedSeconds: Double? = nil
    ) {
        self.step = step
        self.loss = loss
        self.stepsPerSecond = stepsPerSecond
        self.elapsedSeconds = elapsedSeconds
    }

    /// A line of stats.jsonl; nil for a torn line, another kind of line, or a loss that is not a
    /// finite number.
    public init?(parsing line: some StringProtocol) {
        guard let parsed = try? JSONDecoder().decode(Self.self, from: Data(line.utf8)),
            parsed.loss.isFinite
        else { return nil }
        self = parsed
    }

    /// The line as stats.jsonl holds it, newline included. A loss that is not finite is written
    /// as a string, so the line stays JSON and readers skip it.
    public var encoded: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let json = (try? encoder.encode(self)) ?? Data("{\"step\": \(step)}".utf8)
        return Array(json) + [10]
    }
}

/// The losses since the last stats line, and the line that closes them.
public struct StatsWindow: Sendable {
    public private(set) var steps = 0
    public private(set) var lossSum = 0.0
    /// Time spent in the window's steps, when the caller counts it step by step.
    public private(set) var seconds = 0.0

    public init() {}

    public mutating func add(_ loss: Float, seconds: Double = 0) {
        steps += 1
        lossSum += Double(loss)
        self.seconds += seconds
    }

    /// The line for `step`: the window's mean loss and its rate over `wall` seconds (the steps'
    /// own time when nil); the window starts again empty.
    public mutating func close(step: Int, wall: Double? = nil, elapsed: Double) -> StatsLine {
        let line = StatsLine(
            step: step, loss: lossSum / Double(max(steps, 1)),
            stepsPerSecond: Double(steps) / max(wall ?? seconds, 1e-9), elapsedSeconds: elapsed)
        self = StatsWindow()
        return line
    }
}

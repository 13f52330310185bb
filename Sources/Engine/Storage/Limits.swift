/// The bounds on what files, configs and flags may ask for, checked before any memory is taken: a
/// value past one is refused in one line instead of ending in an allocation failure.
public enum Limits {
    /// Float values one array read from a file may hold: 2²⁹, 2 GiB as float32.
    public static let values = 1 << 29
    /// Bytes of one input file: the values above as float64, plus headers.
    public static let fileBytes = (1 << 32) + (1 << 20)
    /// Parameters one network may have (training keeps about six copies: 3 GiB at this bound).
    public static let parameters = 1 << 27
    /// Solver steps n of one sampling run.
    public static let solverSteps = 10_000
    /// Training steps of one run.
    public static let trainingSteps = 1_000_000_000
    /// Samples one command draws (`sample`, `eval`, `prior`).
    public static let samples = 10_000_000
    /// Rows sampled at once: larger counts are drawn and written in chunks of this many.
    public static let sampleChunk = 65_536
}

/// F_θ(x_in, c_noise) or, for one network over a range of D, F_θ(x_in, c_noise, c_aug): a network
/// the preconditioning wraps into a denoiser (MLP-EDM or U-Net). `forward` keeps what `backward`
/// needs; `replica` gives the same network over other parameters with a workspace of its own, so
/// threads can run parts of one batch at once.
public protocol DenoiserNetwork: AnyObject {
    var dim: Int { get }
    /// Whether the network takes D as a condition (c_aug per row, see
    /// `AugmentedDimensionEmbedding`).
    var conditionsOnAugmentedDimension: Bool { get }
    var parameters: ParameterStore { get set }
    /// Dropout for the next training pass (nil: none); sampling passes ignore it.
    var dropout: Dropout? { get set }
    /// Fewest rows per thread worth splitting a batch for.
    var minRowsPerPart: Int { get }
    /// Floating-point operations of one forward pass per example (multiply-adds count as two).
    var forwardFlopsPerExample: Double { get }
    func replica(parameters: ParameterStore) -> any DenoiserNetwork
    /// `cAug` (one value per row) is required by a network that conditions on D and ignored by
    /// others.
    func forward(
        _ x: UnsafePointer<Float>, cNoise: UnsafePointer<Float>, cAug: UnsafePointer<Float>?,
        rows: Int,
        into out: UnsafeMutablePointer<Float>, keepForBackward: Bool)
    func backward(
        gradOut: UnsafePointer<Float>, gradX: UnsafeMutablePointer<Float>?,
        gradCNoise: UnsafeMutablePointer<Float>?)
}

extension DenoiserNetwork {
    public func forward(
        _ x: UnsafePointer<Float>, cNoise: UnsafePointer<Float>, rows: Int,
        into out: UnsafeMutablePointer<Float>, keepForBackward: Bool
    ) {
        forward(
            x, cNoise: cNoise, cAug: nil, rows: rows, into: out, keepForBackward: keepForBackward)
    }

    public func forward(
        _ x: UnsafePointer<Float>, cNoise: UnsafePointer<Float>, rows: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        forward(x, cNoise: cNoise, rows: rows, into: out, keepForBackward: true)
    }

    public func backward(gradOut: UnsafePointer<Float>) {
        backward(gradOut: gradOut, gradX: nil, gradCNoise: nil)
    }

    /// F_θ(x, c_noise[, c_aug]) for a batch given as a matrix.
    public func forward(_ x: Matrix, cNoise: [Float], cAug: [Float]? = nil) -> Matrix {
        precondition(
            x.cols == dim && cNoise.count == x.rows, "input shape does not match the network")
        precondition(
            cAug.map { $0.count == x.rows } ?? !conditionsOnAugmentedDimension,
            "c_aug must have one value per row")
        var out = Matrix(rows: x.rows, cols: dim)
        x.storage.withUnsafeBufferPointer { px in
            cNoise.withUnsafeBufferPointer { pc in
                (cAug ?? []).withUnsafeBufferPointer { pa in
                    out.storage.withUnsafeMutableBufferPointer { po in
                        guard let bx = px.baseAddress, let bc = pc.baseAddress,
                            let bo = po.baseAddress
                        else { return }
                        forward(
                            bx, cNoise: bc, cAug: pa.baseAddress, rows: x.rows, into: bo,
                            keepForBackward: true)
                    }
                }
            }
        }
        return out
    }

    /// Backward for a matrix gradient of the last forward pass (of `rows` rows); returns dLoss/dx.
    public func backward(_ gradOut: Matrix) -> Matrix {
        precondition(gradOut.cols == dim, "gradient shape does not match the network")
        var gradX = Matrix(rows: gradOut.rows, cols: dim)
        gradOut.storage.withUnsafeBufferPointer { pg in
            gradX.storage.withUnsafeMutableBufferPointer { px in
                guard let bg = pg.baseAddress else { return }
                backward(gradOut: bg, gradX: px.baseAddress, gradCNoise: nil)
            }
        }
        return gradX
    }
}

/// Whether every row has the same conditions (c_noise, and c_aug when given), as in sampling: then
/// one embedding pass serves every row.
func conditionsShared(_ cNoise: UnsafePointer<Float>, _ cAug: UnsafePointer<Float>?, rows: Int)
    -> Bool
{
    (0..<rows).allSatisfy { r in cNoise[r] == cNoise[0] && (cAug.map { $0[r] == $0[0] } ?? true) }
}

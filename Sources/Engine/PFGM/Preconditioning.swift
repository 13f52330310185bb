import Foundation

/// EDM preconditioning, shared by every D: D_θ(x, σ) = c_skip·x + c_out·F_θ(c_in·x, c_noise),
/// and the loss weight λ(σ) = (σ² + σ_d²)/(σ·σ_d)².
public struct Preconditioning: Sendable, Equatable {
    public var sigmaData: Double

    public init(sigmaData: Double) { self.sigmaData = sigmaData }

    public func cSkip(_ sigma: Double) -> Double {
        sigmaData * sigmaData / (sigma * sigma + sigmaData * sigmaData)
    }
    public func cOut(_ sigma: Double) -> Double {
        sigma * sigmaData / (sigma * sigma + sigmaData * sigmaData).squareRoot()
    }
    public func cIn(_ sigma: Double) -> Double {
        1 / (sigma * sigma + sigmaData * sigmaData).squareRoot()
    }
    public func cNoise(_ sigma: Double) -> Double { log(sigma) / 4 }
    public func lossWeight(_ sigma: Double) -> Double {
        (sigma * sigma + sigmaData * sigmaData) / (sigma * sigmaData * sigma * sigmaData)
    }
}

/// The EDM training distribution of noise levels: ln σ ~ N(P_mean, P_std²).
public struct NoiseLevelDistribution: Sendable, Equatable, Codable {
    public var pMean: Double = -1.2
    public var pStd: Double = 1.2

    public init(pMean: Double = -1.2, pStd: Double = 1.2) {
        self.pMean = pMean
        self.pStd = pStd
    }

    public func sample(_ rng: inout RandomSource) -> Double { exp(pMean + pStd * rng.normal()) }
}

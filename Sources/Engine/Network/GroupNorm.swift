import Foundation
import KernelInterface

/// Group normalisation over channels-last images: each image's channels are cut into `groups`
/// groups and normalised over all of that group's values in the image, then scaled and shifted per
/// channel. The forward pass writes silu(γ⊙x̂ + β) (every use in the U-Net is followed by SiLU).
public struct GroupNorm: Sendable {
    public let channels: Int
    public let groups: Int
    public let epsilon: Float
    public let scale: ParameterSlot
    public let shift: ParameterSlot

    public init(
        _ name: String, channels: Int, groups: Int, epsilon: Float = 1e-5,
        layout: inout ParameterLayout
    ) {
        precondition(groups >= 1 && channels % groups == 0, "channels must divide into groups")
        self.channels = channels
        self.groups = groups
        self.epsilon = epsilon
        scale = layout.add(
            "\(name).weight", shape: [channels], role: .normScale,
            initial: .init(repeating: 1, count: channels))
        shift = layout.add(
            "\(name).bias", shape: [channels], role: .normShift,
            initial: .init(repeating: 0, count: channels))
    }

    /// DDPM++'s choice: up to 32 groups of at least 4 channels.
    public static func groups(for channels: Int) -> Int {
        var g = max(1, min(32, channels / 4))
        while channels % g != 0 { g -= 1 }
        return g
    }

    var shape: NormShape { NormShape(channels: channels, groups: groups, epsilon: epsilon) }

    /// siluOut ← silu(γ⊙x̂ + β); keeps x̂ (when given) and 1/σ per (image, group) for backward.
    /// With `framedOutput`, siluOut is written framed for a convolution to read in place (border
    /// zeroed).
    public func forward(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, siluOut: UnsafeMutablePointer<Float>,
        normalized xhat: UnsafeMutablePointer<Float>?, inverseStd: UnsafeMutablePointer<Float>,
        parameters p: ParameterStore, framedOutput: Bool = false
    ) {
        if framedOutput { DirectConvolution.clearBorder(siluOut, g, channels: channels) }
        let affine = p.affine(scale: scale, shift: shift)
        CPU.kernels.groupNormForward(
            x, g, shape, affine, siluOut: siluOut, normalized: xhat,
            inverseStd: inverseStd, framedOutput: framedOutput)
    }

    /// Sets dγ and dβ; gradX ← dL/dx (added when `accumulateGradX`), given dL/d silu(y) with y =
    /// γ⊙x̂ + β.
    public func backward(
        gradOut: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>,
        inverseStd: UnsafePointer<Float>, _ g: ImageGeometry,
        gradX: UnsafeMutablePointer<Float>, accumulateGradX: Bool = false,
        parameters p: ParameterStore, scratch dy: UnsafeMutablePointer<Float>
    ) {
        let affine = p.affine(scale: scale, shift: shift)
        CPU.kernels.groupNormBackward(
            gradOut: gradOut, normalized: xhat, inverseStd: inverseStd, g, shape,
            affine, gradX: gradX, accumulate: accumulateGradX, scratch: dy)
    }
}

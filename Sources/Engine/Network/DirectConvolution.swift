import KernelInterface

/// 3×3 convolutions (stride 1, zero padding 1) of channels-last images read in place: the input
/// lies in a zero-bordered frame (copied there, or written there by the layer before), and the
/// kernels (`CPUKernels`, the variant `CPU.kernels`) keep a block of outputs in registers while
/// they stream the taps. Output channels go 32 at a time; weights are packed [output
/// block][tap][input channel][32]. This is where the frame and the packed weights are laid out.
enum DirectConvolution {
    static let lanes = 32
    static func supports(outChannels: Int) -> Bool { outChannels > 0 && outChannels % lanes == 0 }

    /// Few output channels (the U-Net's last convolution) over input channels in 16s: the sums run
    /// along the input channels instead.
    static func supportsNarrow(inChannels: Int, outChannels: Int) -> Bool {
        outChannels > 0 && outChannels < lanes && inChannels > 0 && inChannels % 16 == 0
    }

    /// y[p, o] = scale·(b[o] + Σ_tap Σ_c framed[p + offset(tap), c] · W[o, c, tap]) (+ y inside the
    /// bracket when `accumulate`); image i reads its bias at bias + i·biasStride.
    static func forward(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels: Int, outChannels: Int,
        packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, biasStride: Int = 0,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool, scale: Float = 1
    ) {
        CPU.kernels.convolutionForward(
            framed: framed, g, inChannels: inChannels, outChannels: outChannels,
            packed: packed, bias: bias, biasStride: biasStride, into: y,
            accumulate: accumulate, scale: scale)
    }

    /// dW[o, c, tap] = Σ_p framed[p + offset(tap), c] · gradY[p, o], into the packed layout
    /// (overwritten).
    static func weightGradient(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
        inChannels: Int, outChannels: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        CPU.kernels.convolutionWeightGradient(
            framed: framed, gradY: gradY, g, inChannels: inChannels,
            outChannels: outChannels, into: packed)
    }

    /// The forward for few output channels, W in its stored order [o][c][tap] (added to y when
    /// `accumulate`).
    static func forwardNarrow(
        framed: UnsafePointer<Float>, _ g: ImageGeometry, inChannels: Int, outChannels: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        scratch: UnsafeMutablePointer<Float>
    ) {
        CPU.kernels.convolutionForwardNarrow(
            framed: framed, g, inChannels: inChannels, outChannels: outChannels,
            weights: weights, bias: bias, into: y, accumulate: accumulate,
            scratch: scratch)
    }

    /// dW for few output channels, into W's stored order (overwritten).
    static func weightGradientNarrow(
        framed: UnsafePointer<Float>, gradY: UnsafePointer<Float>, _ g: ImageGeometry,
        inChannels: Int, outChannels: Int, into dW: UnsafeMutablePointer<Float>
    ) {
        CPU.kernels.convolutionWeightGradientNarrow(
            framed: framed, gradY: gradY, g, inChannels: inChannels,
            outChannels: outChannels, into: dW)
    }

    /// Zeroes the one-pixel border of every framed image (the inside is left as it is).
    static func clearBorder(
        _ framed: UnsafeMutablePointer<Float>, _ g: ImageGeometry, channels c: Int
    ) {
        let (fh, fw, _) = g.framed
        let rowValues = fw * c
        for image in 0..<g.images {
            let dst = framed + image * fh * rowValues
            dst.update(repeating: 0, count: rowValues)
            for y in 0..<g.height {
                let row = dst + (y + 1) * rowValues
                row.update(repeating: 0, count: c)
                (row + (fw - 1) * c).update(repeating: 0, count: c)
            }
            (dst + (fh - 1) * rowValues).update(repeating: 0, count: rowValues)
        }
    }

    /// framed[image, y + 1, x + 1, c] = x[image, y, x, c], zero on the border.
    static func frame(
        _ x: UnsafePointer<Float>, _ g: ImageGeometry, channels c: Int,
        into framed: UnsafeMutablePointer<Float>
    ) {
        clearBorder(framed, g, channels: c)
        for image in 0..<g.images {
            for q in stride(from: 0, to: g.pixelsPerImage, by: g.width) {
                let src = x + (image * g.pixelsPerImage + q) * c
                (framed + g.framedPixel(image: image, pixel: q) * c).update(
                    from: src, count: g.width * c)
            }
        }
    }

    // MARK: - Weight layouts

    /// packed[block][tap][c][o mod 32] = W[o, c, tap], o = 32·block + (o mod 32).
    static func pack(
        _ w: UnsafePointer<Float>, inChannels c: Int, outChannels: Int,
        into packed: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outChannels {
            let block = o / lanes
            let lane = o % lanes
            for ci in 0..<c {
                for tap in 0..<9 {
                    packed[((block * 9 + tap) * c + ci) * lanes + lane] = w[(o * c + ci) * 9 + tap]
                }
            }
        }
    }

    /// The weights of dL/dx = conv(dL/dy): input and output swapped and the taps mirrored,
    /// packed[block][tap][o][c mod 32] = W[o, c, 8 − tap].
    static func packMirrored(
        _ w: UnsafePointer<Float>, inChannels c: Int, outChannels: Int,
        into packed: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outChannels {
            for ci in 0..<c {
                let block = ci / lanes
                let lane = ci % lanes
                for tap in 0..<9 {
                    packed[((block * 9 + tap) * outChannels + o) * lanes + lane] =
                        w[(o * c + ci) * 9 + 8 - tap]
                }
            }
        }
    }

    /// W[o, c, tap] = packed[block][tap][c][o mod 32].
    static func unpack(
        _ packed: UnsafePointer<Float>, inChannels c: Int, outChannels: Int,
        into w: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outChannels {
            let block = o / lanes
            let lane = o % lanes
            for ci in 0..<c {
                for tap in 0..<9 {
                    w[(o * c + ci) * 9 + tap] = packed[((block * 9 + tap) * c + ci) * lanes + lane]
                }
            }
        }
    }
}

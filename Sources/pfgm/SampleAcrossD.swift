import ArgumentParser
import Engine
import Foundation

/// `pfgm sample --aug-dims …`: the same count at several D, from coupled prior draws with
/// `--coupled`, each D written to its own .npy and all of them to one PNG.
extension Sample {
    /// Samples at several D are held in memory, so their count is bounded by one chunk.
    static let countAcrossD = Limits.sampleChunk

    func validateAcrossD() throws {
        guard let augDims else {
            if coupled { throw ValidationError("--coupled needs --aug-dims D1,D2,…") }
            return
        }
        if augDim != nil { throw ValidationError("give --aug-dim or --aug-dims, not both") }
        if latents != nil { throw ValidationError("--latents applies to one D, not --aug-dims") }
        guard !augDims.isEmpty else { throw ValidationError("--aug-dims needs at least one D") }
        if let count, count > Self.countAcrossD {
            throw ValidationError("--count must be at most \(Self.countAcrossD) with --aug-dims")
        }
        guard output.out.hasSuffix(".npy") else {
            throw ValidationError("--out must end in .npy with --aug-dims (one file per D)")
        }
    }

    /// Where D's samples go: --out with -D<d> before .npy.
    func outPath(at d: AugmentedDimension) -> String {
        String(output.out.dropLast(4)) + "-D\(d).npy"
    }

    func sample(across augDims: [AugmentedDimension]) throws {
        let total = count ?? 1
        let outputs = OutputSet()
        var sets: [Matrix] = []
        var image: ImageShape?
        var noise: CoupledNoise?
        for d in augDims {
            let (denoiser, _, shape, trainedQuantile) = try loadDenoiser(at: d)
            image = shape
            note(options.describe(count: total, augmentedDimension: d))
            let request = options.request(
                denoiser, augmentedDimension: d, trainedQuantile: trainedQuantile
            ).quantized()
            if coupled && noise == nil {
                noise = CoupledNoise(count: total, dim: denoiser.dim, seed: options.seed)
            }
            let latents = noise?.latents(
                at: d, sigma: options.sampler.schedule.sigmaMax, truncation: request.truncation)
            // Each D from the seed's own stream, as `pfgm sample --aug-dim D --latents` draws.
            var rng = RandomSource(seed: options.seed)
            let x = request.sample(count: total, latents: latents, rng: &rng)
            _ = try streamRows(outputs, to: outPath(at: d), total: total, dim: denoiser.dim) {
                _, _ in x
            }
            sets.append(x)
        }
        if let png = output.png {
            guard let picture = PNG.picture(ofEach: sets, image: image) else {
                throw Failure("--png: one-dimensional samples have no picture")
            }
            try outputs.add(png, bytes: try picture.encode(path: png))
            note("wrote \(png) (\(picture.width)×\(picture.height), a row or panel per D)")
        }
        try outputs.commit()
    }
}

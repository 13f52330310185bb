import ArgumentParser
import Engine
import Foundation

/// Writes a (total, dim) float32 .npy into `outputs`, its rows made `Limits.sampleChunk` at a time
/// by `chunk(first row, rows)` and streamed into the temporary file, so memory stays bounded
/// whatever the count. Non-finite values fail the command (nothing is written). Returns the first
/// chunk, for a picture.
func streamRows(
    _ outputs: OutputSet, to out: String, total: Int, dim: Int,
    _ chunk: (Int, Int) -> Matrix
) throws -> Matrix? {
    var first: Matrix?
    try outputs.add(out) { fd throws(StorageError) in
        try AtomicFile.write(NPY.header(shape: [total, dim]), to: fd, path: out)
        for start in stride(from: 0, to: total, by: Limits.sampleChunk) {
            let x = chunk(start, min(Limits.sampleChunk, total - start))
            if let bad = x.firstNonFinite {
                throw StorageError(
                    out,
                    "the values' \(bad) (rows from \(start)); nothing was written "
                        + "(σ, σ_d or the weights are out of float32's range)")
            }
            try NPY.appendValues(x.storage, to: fd, path: out)
            if first == nil { first = x }
        }
    }
    return first
}

/// Adds the PNG of `samples` (a grid of images, else a density of the first two coordinates) to
/// `outputs` under `path`.
func addPicture(_ outputs: OutputSet, of samples: Matrix, image: ImageShape?, to path: String)
    throws
{
    guard let picture = PNG.picture(of: samples, image: image) else {
        throw Failure("--png: one-dimensional samples have no picture")
    }
    try outputs.add(path, bytes: try picture.encode(path: path))
    note("wrote \(path) (\(picture.width)×\(picture.height))")
}

/// Refuses an output path before any work: its folder must exist and the path may only be a regular
/// file.
func requireFolder(of path: String) throws {
    do { try OutputSet.check(path) } catch { throw ValidationError(error.description) }
}

/// `--out` and `--png`, shared by `sample` and `prior`. Both paths are checked before any work, so
/// a bad second path cannot leave the first one written.
struct SampleOutputs: ParsableArguments {
    @Option(help: "Output .npy file (K, N).")
    var out: String

    @Option(
        help:
            """
            Also write a PNG: a grid of the samples when they are images, else a density of the \
            first two coordinates.
            """
    )
    var png: String?

    func validate() throws {
        for path in [out] + (png.map { [$0] } ?? []) { try requireFolder(of: path) }
    }
}

import Engine
import Foundation
import Testing

/// A small RGB set, made here, through data, train (MLP and U-Net), sample --png and eval.
@Suite(.serialized) struct ColourImageTests {
    /// 60 images of 8×8: each a left-to-right ramp in one channel (red, green or blue by row), the
    /// others dark.
    static func rgbSet(in dir: String) throws {
        var values: [Float] = []
        for k in 0..<60 {
            for c in 0..<3 {
                for _ in 0..<8 {
                    for x in 0..<8 { values.append(c == k % 3 ? Float(x) / 3.5 - 1 : -0.8) }
                }
            }
        }
        try NPY.write(NPY.Array(shape: [60, 3, 8, 8], values: values), to: "\(dir)/rgb.npy")
    }

    @Test func anRGBSetTrainsSamplesAndDrawsInColour() throws {
        let dir = scratchDirectory()
        try Self.rgbSet(in: dir)
        let data = Binary.run(["data", "--data", "rgb.npy", "--out", "train.npy"], in: dir)
        #expect(data.status == 0, "\(data.stderr)")
        #expect(data.stdout.contains("\"image\": [3, 8, 8]"), "\(data.stdout)")
        #expect(try NPY.read("\(dir)/train.npy").shape == [54, 3, 8, 8])

        for arch in ["unet", "mlp"] {
            let train = Binary.run(
                [
                    "train", "--data", "rgb.npy", "--arch", arch, "--width", "16", "--depth", "1",
                    "--batch", "16", "--aug-dim", "64", "--steps", "20", "--out", arch, "--threads",
                    "1",
                ], in: dir)
            #expect(train.status == 0, "\(train.stderr)")
            #expect(try RunDirectory("\(dir)/\(arch)").readConfig().channels == 3)
            let sample = Binary.run(
                [
                    "sample", "--ckpt", arch, "--count", "16", "--steps", "3", "--out",
                    "\(arch).npy",
                    "--png", "\(arch).png",
                ], in: dir)
            #expect(sample.status == 0, "\(sample.stderr)")
            // IHDR: width and height (4 columns of 8·2 + 1 pixels, plus the outer gap), then bit
            // depth 8, colour type 2.
            let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(arch).png")))
            #expect(
                Array(png[16..<26]) == [0, 0, 0, 69, 0, 0, 0, 69, 8, 2], "\(Array(png.prefix(26)))")
        }
        let oracle = Binary.run(
            [
                "sample", "--oracle", "rgb.npy", "--aug-dim", "inf", "--count", "4", "--steps", "3",
                "--out", "o.npy", "--png", "o.png",
            ], in: dir)
        #expect(oracle.status == 0, "\(oracle.stderr)")
        #expect(
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/o.png")))[25] == 2,
            "the oracle's grid is not in colour")

        let eval = Binary.run(["eval", "--samples", "unet.npy", "--data", "rgb.npy"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        #expect(json["swd"] is Double && json["mmd2"] is Double && json["swd_floor"] is Double)
    }

    @Test func otherChannelCountsAndUnscaledImagesAreRefusedInOneLine() throws {
        let dir = scratchDirectory()
        try NPY.write(
            NPY.Array(shape: [10, 4, 8, 8], values: [Float](repeating: 0, count: 2560)),
            to: "\(dir)/rgba.npy")
        expectRejection(
            ["train", "--data", "rgba.npy", "--aug-dim", "8", "--steps", "5", "--out", "r"],
            in: dir,
            output: "r", mentions: "C = 1 (grey) or 3 (red, green, blue), found C = 4")
        expectRejection(["data", "--data", "rgba.npy"], in: dir, mentions: "found C = 4")
        try NPY.write(
            NPY.Array(shape: [10, 8, 8], values: (0..<640).map { Float($0 % 256) }),
            to: "\(dir)/bytes.npy")
        expectRejection(
            ["train", "--data", "bytes.npy", "--aug-dim", "8", "--steps", "5", "--out", "b"],
            in: dir,
            output: "b", mentions: "image values run from 0 to 255")
    }
}

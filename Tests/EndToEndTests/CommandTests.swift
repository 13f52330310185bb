import Engine
import Foundation
import Testing

/// Train, sample and evaluate with the real binary, and its answers to bad input.
@Suite(.serialized) struct CommandTests {
    static let tiny = ["--width", "32", "--depth", "1", "--batch", "64", "--threads", "1"]

    @Test func trainSampleEvaluate() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            [
                "train", "--data", "moons", "--aug-dim", "64", "--steps", "60", "--log-every", "20",
                "--out", "run",
            ] + Self.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        for file in [
            "config.json", "checkpoint.safetensors", "optimizer.safetensors", "stats.jsonl",
        ] {
            #expect(exists("\(dir)/run/\(file)"), "\(file) is missing")
        }
        let stats = try String(contentsOfFile: "\(dir)/run/stats.jsonl", encoding: .utf8).split(
            separator: "\n")
        #expect(stats.count == 3)
        let last = try stats.last.map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(last??["step"] as? Int == 60 && last??["loss"] is Double, "\(stats)")
        #expect(!train.stderr.contains("\r"), "progress bar drawn without a terminal")

        let sample = Binary.run(
            ["sample", "--ckpt", "run", "--count", "300", "--steps", "6", "--out", "x.npy"], in: dir
        )
        #expect(sample.status == 0, "\(sample.stderr)")
        #expect(sample.stderr.contains("NFE 11"))
        let x = try NPY.readMatrix("\(dir)/x.npy")
        #expect(x.shape == [300, 2])

        let eval = Binary.run(["eval", "--samples", "x.npy", "--data", "moons"], in: dir)
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        for key in [
            "swd", "swd_floor", "mmd2", "mmd2_floor", "memorisation", "memorisation_floor",
            "memorisation_threshold",
        ] {
            #expect(json[key] is Double || json[key] is Int, "\(key) missing")
        }

        // A path with a quote, a backslash, a tab and a newline still gives JSON that reads back.
        let odd = "run \"a\\b\tc\nd\""
        try FileManager.default.moveItem(atPath: "\(dir)/run", toPath: "\(dir)/\(odd)")
        let oddEval = Binary.run(["eval", "--ckpt", odd, "--count", "50", "--steps", "3"], in: dir)
        #expect(oddEval.status == 0, "\(oddEval.stderr)")
        let oddJSON = try JSONSerialization.jsonObject(with: Data(oddEval.stdout.utf8))
        #expect((oddJSON as? [String: Any])?["ckpt"] as? String == odd, "\(oddEval.stdout)")
    }

    /// `eval --ckpt` draws exactly what `sample` draws with the same flags; the kernel quantile of
    /// training is recorded, sets the prior's truncation, and `fit` reads the run.
    @Test func evalCkptSamplesAndScoresInOneCommandAndFitComparesWithTheOracle() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            [
                "train", "--data", "8gaussians", "--aug-dim", "2", "--kernel-quantile", "0.97",
                "--steps", "30", "--out", "run",
            ] + Self.tiny, in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        let config = try RunDirectory("\(dir)/run").readConfig()
        #expect(config.kernelQuantile == 0.97)
        let sampler = ["--count", "300", "--steps", "5", "--seed", "4"]
        let scored = Binary.run(["eval", "--ckpt", "run", "--out", "e.npy"] + sampler, in: dir)
        #expect(scored.status == 0, "\(scored.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as? [String: Any])
        #expect(
            json["nfe"] as? Int == 9 && json["prior_quantile"] as? Double == 0.97
                && json["aug_dim"] as? String == "2")
        #expect(json["mmd_count"] as? Int == 300 && json["data"] as? String == "8gaussians")
        #expect(
            Binary.run(["sample", "--ckpt", "run", "--out", "s.npy"] + sampler, in: dir).status == 0
        )
        #expect(try NPY.read("\(dir)/s.npy") == NPY.read("\(dir)/e.npy"))
        let separate = Binary.run(["eval", "--samples", "s.npy", "--data", "8gaussians"], in: dir)
        let other = try #require(
            try JSONSerialization.jsonObject(with: Data(separate.stdout.utf8)) as? [String: Any])
        #expect(other["swd"] as? Double == json["swd"] as? Double)
        #expect(
            Binary.run(
                ["sample", "--ckpt", "run", "--prior-quantile", "1", "--out", "f.npy"] + sampler,
                in: dir
            ).status == 0)
        #expect(
            try NPY.read("\(dir)/f.npy") != NPY.read("\(dir)/s.npy"),
            "the prior's truncation changed nothing")

        let fit = Binary.run(
            [
                "fit", "--ckpt", "run", "--json", "--sigmas", "0.1,1", "--count", "200",
                "--threads", "1",
            ], in: dir)
        #expect(fit.status == 0, "\(fit.stderr)")
        let levels = try fit.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(
            levels.count == 2
                && levels.allSatisfy {
                    ($0["median"] as? Double ?? -1) >= 0 && $0["far_share"] != nil
                })
        expectRejection(
            ["eval", "--ckpt", "run", "--aug-dim", "8", "--out", "e8.npy"], in: dir,
            output: "e8.npy", mentions: "trained at D=2")
        expectRejection(
            ["fit", "--ckpt", "run", "--sigmas", "0.1,x"], in: dir, mentions: "--sigmas")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "2", "--kernel-quantile", "0.2", "--steps",
                "5", "--out", "r",
            ], in: dir,
            output: "r", mentions: "--kernel-quantile")
    }

    @Test func imagesTrainWithTheUNetAndScoreWithTheFrechetDistance() throws {
        let dir = scratchDirectory()
        let train = Binary.run(
            [
                "train", "--data", "fmnist7", "--arch", "unet", "--width", "8", "--depth", "1",
                "--batch", "16",
                "--aug-dim", "128", "--steps", "10", "--log-every", "5", "--out", "run",
                "--threads", "2",
            ], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("unet W=8 L=1"))
        let config = try String(contentsOfFile: "\(dir)/run/config.json", encoding: .utf8)
        #expect(config.contains("\"architecture\" : \"unet\""))
        let resumed = Binary.run(
            ["train", "--resume", "run", "--steps", "12", "--threads", "1"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let sample = Binary.run(
            [
                "sample", "--ckpt", "run", "--count", "40", "--steps", "4", "--out", "x.npy",
                "--png", "x.png",
            ], in: dir)
        #expect(sample.status == 0, "\(sample.stderr)")
        #expect(try NPY.readMatrix("\(dir)/x.npy").shape == [40, 49])
        let eval = Binary.run(
            ["eval", "--samples", "x.npy", "--data", "fmnist7", "--metric", "fd"], in: dir,
            environment: ["PFGM_CACHE_DIR": dir + "/cache"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let fd = try #require(json["fd_fmnist"] as? Double)
        let floor = try #require(json["fd_fmnist_floor"] as? Double)
        #expect(
            fd > floor && json["fd_fmnist_ceiling"] is Double
                && json["fd_fmnist_classifier_accuracy"] is Double)
        #expect(eval.stderr.contains("< 2000"))
        #expect(
            exists("\(dir)/cache/fd-classifier-fmnist7-v\(ImageClassifier.version).safetensors"))
    }

    @Test func latentsMakeSamplingDeterministicAndBitsLeaveTheCheckpointAlone() throws {
        let dir = scratchDirectory()
        #expect(
            Binary.run(
                [
                    "train", "--data", "8gaussians", "--aug-dim", "inf", "--steps", "20", "--out",
                    "run",
                ] + Self.tiny, in: dir
            ).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/run/checkpoint.safetensors"))
        #expect(
            Binary.run(
                [
                    "prior", "--dim", "2", "--aug-dim", "inf", "--sigma", "80", "--count", "50",
                    "--seed", "3", "--out", "z.npy",
                ], in: dir
            ).status == 0)
        for name in ["a", "b"] {
            let r = Binary.run(
                [
                    "sample", "--ckpt", "run", "--latents", "z.npy", "--steps", "5", "--seed",
                    name == "a" ? "1" : "2", "--out", "\(name).npy",
                ], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try NPY.read("\(dir)/a.npy") == NPY.read("\(dir)/b.npy"))
        let q = Binary.run(
            [
                "sample", "--ckpt", "run", "--latents", "z.npy", "--steps", "5", "--bits", "4",
                "--out", "q.npy",
            ], in: dir)
        #expect(q.status == 0, "\(q.stderr)")
        #expect(try NPY.read("\(dir)/q.npy") != NPY.read("\(dir)/a.npy"))
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: "\(dir)/run/checkpoint.safetensors"))
                == before)
    }

    @Test func denoiseEvaluatesTheModelAndDataWritesTheTrainingSplit() throws {
        let dir = scratchDirectory()
        #expect(
            Binary.run(
                [
                    "train", "--data", "8gaussians", "--aug-dim", "8", "--steps", "20", "--out",
                    "run",
                ] + Self.tiny, in: dir
            ).status == 0)
        var rng = RandomSource(seed: 5)
        let x = Matrix(rows: 7, cols: 2, storage: (0..<14).map { _ in Float(3 * rng.normal()) })
        try NPY.write(x, to: "\(dir)/x.npy")
        let r = Binary.run(
            [
                "denoise", "--ckpt", "run", "--input", "x.npy", "--sigma", "1.5", "--out", "d.npy",
                "--threads", "1",
            ], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let (model, _) = try RunDirectory("\(dir)/run").loadDenoiser()
        model.threads = 1
        var expected = [Float](repeating: 0, count: 14)
        expected.withUnsafeMutableBufferPointer { out in
            x.storage.withUnsafeBufferPointer { input in
                if let i = input.baseAddress, let o = out.baseAddress {
                    model.denoise(i, rows: 7, sigma: 1.5, into: o)
                }
            }
        }
        #expect(try NPY.readMatrix("\(dir)/d.npy").storage == expected)
        #expect(expected != x.storage)

        let described = Binary.run(["data", "--data", "8gaussians", "--out", "g.npy"], in: dir)
        #expect(
            described.status == 0 && described.stdout.contains("\"dim\": 2, \"train\": 50000"),
            "\(described.stdout)")
        #expect(try NPY.readMatrix("\(dir)/g.npy") == Dataset.load("8gaussians").train)
        try NPY.write(Matrix(rows: 5, cols: 3), to: "\(dir)/wide.npy")
        expectRejection(
            ["denoise", "--ckpt", "run", "--input", "wide.npy", "--sigma", "1", "--out", "d1.npy"],
            in: dir, output: "d1.npy", mentions: "2 coordinates")
        expectRejection(
            ["denoise", "--ckpt", "run", "--input", "x.npy", "--sigma", "0", "--out", "d2.npy"],
            in: dir, output: "d2.npy", mentions: "--sigma")
        expectRejection(
            [
                "denoise", "--ckpt", "nowhere", "--input", "x.npy", "--sigma", "1", "--out",
                "d3.npy",
            ], in: dir, output: "d3.npy", mentions: "nowhere")
        expectRejection(
            ["data", "--data", "spirals", "--out", "g2.npy"], in: dir, output: "g2.npy",
            mentions: "unknown data set")
    }

    @Test func oracleSamplingLandsOnThePoints() throws {
        let dir = scratchDirectory()
        let points = Matrix(rows: 3, cols: 2, storage: [1, 1, -1, 0.5, 0, -2])
        try NPY.write(points, to: "\(dir)/p.npy")
        let r = Binary.run(
            [
                "sample", "--oracle", "p.npy", "--aug-dim", "16", "--count", "40", "--out", "x.npy",
                "--png", "x.png",
            ], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        // The picture of 2-D points is their density: a PNG file, 512 pixels square.
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/x.png")))
        #expect(
            png.prefix(4) == [0x89, 0x50, 0x4E, 0x47] && png[16..<24] == [0, 0, 2, 0, 0, 0, 2, 0])
        let x = try NPY.readMatrix("\(dir)/x.npy")
        for i in 0..<x.rows {
            let nearest =
                (0..<3).map { k in
                    hypot(Double(x[i, 0] - points[k, 0]), Double(x[i, 1] - points[k, 1]))
                }.min() ?? 1
            #expect(nearest < 1e-2)
        }
    }

    /// `--aug-dims … --coupled`: one .npy per D and a panel per D; each D's samples are
    /// `pfgm sample --aug-dim D --latents`'s from the same coupled draws (the sampler's injected
    /// noise included), and they differ between D.
    @Test func coupledSamplingAcrossDIsSampleOnTheSameLatents() throws {
        let dir = scratchDirectory()
        var rng = RandomSource(seed: 3)
        let points = Matrix(
            rows: 60, cols: 2, storage: (0..<120).map { _ in Float(rng.normal()) })
        try NPY.write(points, to: "\(dir)/p.npy")
        let common = ["--oracle", "p.npy", "--steps", "6", "--seed", "4", "--alpha", "0.2"]
        let grid = Binary.run(
            ["sample"] + common + [
                "--aug-dims", "2,inf", "--coupled", "--count", "30", "--out", "g.npy", "--png",
                "g.png",
            ], in: dir)
        #expect(grid.status == 0, "\(grid.stderr)")
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/g.png")))
        // Two 256-pixel density panels and a 4-pixel gap: 516 × 256.
        #expect(png[16..<24] == [0, 0, 2, 4, 0, 0, 1, 0])
        let noise = CoupledNoise(count: 30, dim: 2, seed: 4)
        var samples: [Matrix] = []
        for (d, name) in [(AugmentedDimension.finite(2), "2"), (.infinite, "inf")] {
            let latents = noise.latents(at: d, sigma: 80, truncation: nil)
            try NPY.write(latents, to: "\(dir)/l\(name).npy")
            let one = Binary.run(
                ["sample"] + common + [
                    "--aug-dim", name, "--latents", "l\(name).npy", "--out", "s\(name).npy",
                ], in: dir)
            #expect(one.status == 0, "\(one.stderr)")
            let fromGrid = try NPY.readMatrix("\(dir)/g-D\(name).npy")
            #expect(fromGrid.storage == (try NPY.readMatrix("\(dir)/s\(name).npy")).storage)
            samples.append(fromGrid)
        }
        #expect(samples[0].storage != samples[1].storage)
    }

    @Test func resumingContinuesExactlyWhereTheRunStopped() throws {
        let dir = scratchDirectory()
        let common = ["--data", "rings", "--aug-dim", "8"] + Self.tiny
        #expect(
            Binary.run(["train"] + common + ["--steps", "40", "--out", "straight"], in: dir).status
                == 0)
        #expect(
            Binary.run(["train"] + common + ["--steps", "20", "--out", "split"], in: dir).status
                == 0)
        let resumed = Binary.run(
            ["train", "--resume", "split", "--steps", "40", "--threads", "1"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let a = try SafeTensors.read("\(dir)/straight/checkpoint.safetensors")
        let b = try SafeTensors.read("\(dir)/split/checkpoint.safetensors")
        #expect(a.tensors == b.tensors)
        let again = Binary.run(["train", "--resume", "split", "--steps", "40"], in: dir)
        #expect(again.status != 0 && again.stderr.contains("already at step 40"))
    }

    @Test func badInputGetsAOneLineErrorAndNoOutput() throws {
        let dir = scratchDirectory()
        #expect(
            Binary.run(
                ["train", "--data", "moons", "--aug-dim", "4", "--steps", "5", "--out", "run"]
                    + Self.tiny, in: dir
            ).status == 0)
        #expect(
            Binary.run(
                [
                    "train", "--data", "manifold", "--dim", "4", "--aug-dim", "4", "--steps", "5",
                    "--out", "run4",
                ] + Self.tiny, in: dir
            ).status == 0)
        try NPY.write(Matrix(rows: 5, cols: 3), to: "\(dir)/wide.npy")

        expectRejection(
            ["train", "--data", "spirals", "--aug-dim", "4", "--steps", "5", "--out", "r1"],
            in: dir, output: "r1", mentions: "checkerboard, moons")
        expectRejection(
            ["train", "--data", "moons", "--aug-dim", "0", "--steps", "5", "--out", "r2"], in: dir,
            output: "r2", mentions: "aug-dim")
        expectRejection(
            ["train", "--data", "moons", "--aug-dim", "nan", "--steps", "5", "--out", "r2"],
            in: dir, output: "r2", mentions: "aug-dim")
        expectRejection(
            ["train", "--data", "moons", "--aug-dim", "4", "--steps", "0", "--out", "r3"], in: dir,
            output: "r3", mentions: "--steps")
        expectRejection(
            ["train", "--data", "missing.npy", "--aug-dim", "4", "--steps", "5", "--out", "r4"],
            in: dir, output: "r4", mentions: "missing.npy")
        expectRejection(
            ["train", "--data", "moons", "--aug-dim", "4", "--steps", "5", "--out", "run"], in: dir,
            mentions: "already holds a run")
        expectRejection(
            [
                "train", "--data", "moons", "--aug-dim", "4", "--steps", "5", "--out", "r5",
                "--frobnicate",
            ], in: dir, output: "r5", mentions: "frobnicate")
        expectRejection(
            ["sample", "--ckpt", "run", "--latents", "wide.npy", "--out", "s1.npy"], in: dir,
            output: "s1.npy", mentions: "3 coordinates")
        expectRejection(
            ["sample", "--ckpt", "run", "--aug-dim", "inf", "--count", "5", "--out", "s2.npy"],
            in: dir, output: "s2.npy", mentions: "trained at D=4")
        expectRejection(
            ["sample", "--ckpt", "nowhere", "--count", "5", "--out", "s3.npy"], in: dir,
            output: "s3.npy", mentions: "nowhere")
        expectRejection(
            [
                "sample", "--oracle", "absent.npy", "--aug-dim", "4", "--count", "5", "--out",
                "s4.npy",
            ], in: dir, output: "s4.npy", mentions: "absent.npy")
        expectRejection(
            ["sample", "--ckpt", "run", "--count", "5", "--steps", "0", "--out", "s5.npy"], in: dir,
            output: "s5.npy", mentions: "steps")
        expectRejection(
            ["eval", "--samples", "wide.npy", "--data", "moons"], in: dir, mentions: "3 coordinates"
        )
        expectRejection(
            [
                "train", "--data", "moons", "--arch", "unet", "--aug-dim", "4", "--steps", "5",
                "--out", "r6",
            ], in: dir, output: "r6", mentions: "square images")
        expectRejection(
            [
                "train", "--data", "moons", "--arch", "cnn", "--aug-dim", "4", "--steps", "5",
                "--out", "r7",
            ], in: dir, output: "r7", mentions: "arch")
        expectRejection(
            ["eval", "--samples", "wide.npy", "--data", "manifold", "--metric", "fd"], in: dir,
            mentions: "labelled images")
        expectRejection(
            [
                "sample", "--ckpt", "run", "--count", "5", "--out", "s7.npy", "--png",
                "no/such/s7.png",
            ], in: dir, output: "s7.npy", mentions: "no/such")
        expectRejection(["studio", "--follow", "gone"], in: dir, mentions: "gone: no such folder")
        expectRejection(
            ["studio", "--follow", "run4", "--ckpt", "run"], in: dir, mentions: "cannot be combined"
        )
        expectRejection(
            ["bench", "--config", "unet14", "--width", "2000"], in: dir,
            mentions: "width above 1024")

        // A checkpoint of another N in a run directory: the shapes are named.
        try FileManager.default.removeItem(atPath: "\(dir)/run/checkpoint.safetensors")
        try FileManager.default.copyItem(
            atPath: "\(dir)/run4/checkpoint.safetensors",
            toPath: "\(dir)/run/checkpoint.safetensors")
        expectRejection(
            ["sample", "--ckpt", "run", "--count", "5", "--out", "s6.npy"], in: dir,
            output: "s6.npy", mentions: "6660 weights")
    }
}

/// Locks, interruption and divergence with the real binary.
@Suite(.serialized) struct ReliabilityTests {
    @Test func aRunInUseIsRefusedAndCtrlCSavesAndStops() throws {
        let dir = scratchDirectory()
        let first = try Binary.launch(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--steps", "1000000", "--save-every",
                "1000000", "--out", "run",
            ] + CommandTests.tiny, in: dir)
        // The first stats line: the run is locked and has trained, so Ctrl-C has steps to save.
        let deadline = Date().addingTimeInterval(20)
        while !exists("\(dir)/run/stats.jsonl") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(exists("\(dir)/run/stats.jsonl"), "no stats line within 20 s")
        let second = Binary.run(["train", "--resume", "run", "--steps", "10"], in: dir)
        #expect(
            second.status != 0 && second.stderr.contains("in use by another pfgm process"),
            "\(second.stderr)")
        #expect(second.errorLines.count == 1)
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        #expect(first.terminationStatus != 0)
        let saved = try SafeTensors.read("\(dir)/run/optimizer.safetensors")
        #expect(Int(saved.metadata["step"] ?? "0") ?? 0 > 0, "Ctrl-C did not save")
        let resumed = Binary.run(
            [
                "train", "--resume", "run", "--steps",
                "\((Int(saved.metadata["step"] ?? "0") ?? 0) + 5)", "--threads", "1",
            ], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func divergenceStopsWithAMessageAndKeepsFiniteWeights() throws {
        let dir = scratchDirectory()
        let r = Binary.run(
            [
                "train", "--data", "moons", "--aug-dim", "8", "--steps", "200", "--lr", "1e30",
                "--out", "run",
            ] + CommandTests.tiny, in: dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("diverged"), "\(r.stderr)")
        // The last good weights are saved whatever the step (at step 0, the initial ones).
        let checkpoint = try SafeTensors.read("\(dir)/run/checkpoint.safetensors")
        #expect(checkpoint.tensors.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }
}

@Suite(.serialized) struct InterruptedWriteTests {
    @Test func killedWhileSavingLeavesTheLastOrTheNewCheckpointIntact() throws {
        let dir = scratchDirectory()
        var rng = RandomSource(seed: 71)
        var kills = 0
        var checked = 0
        for _ in 0..<12 {
            if !exists("\(dir)/run/optimizer.safetensors") {
                try? FileManager.default.removeItem(atPath: "\(dir)/run")
            }
            let arguments =
                !exists("\(dir)/run/optimizer.safetensors")
                ? [
                    "train", "--data", "moons", "--aug-dim", "8", "--steps", "1000000",
                    "--save-every", "1", "--out", "run",
                ] + CommandTests.tiny
                : ["train", "--resume", "run", "--steps", "1000000", "--threads", "1"]
            let process = try Binary.launch(arguments, in: dir)
            Thread.sleep(forTimeInterval: 0.15 + 0.4 * rng.uniform())
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
            for file in ["checkpoint.safetensors", "optimizer.safetensors"]
            where exists("\(dir)/run/\(file)") {
                let saved = try SafeTensors.read("\(dir)/run/\(file)")
                #expect(
                    !saved.tensors.isEmpty && saved.metadata["step"] != nil,
                    "\(file) torn after kill \(kills)")
                checked += 1
            }
        }
        #expect(checked >= 10, "too few saves were observed (\(checked))")
        let resumed = try SafeTensors.read("\(dir)/run/optimizer.safetensors")
        let step = Int(resumed.metadata["step"] ?? "") ?? 0
        let last = Binary.run(
            ["train", "--resume", "run", "--steps", "\(step + 3)", "--threads", "1"], in: dir)
        #expect(last.status == 0, "\(last.stderr)")
        let leftovers = (try FileManager.default.contentsOfDirectory(atPath: "\(dir)/run")).filter {
            $0.contains(".tmp-")
        }
        #expect(leftovers.isEmpty, "stale temporary files: \(leftovers)")
    }
}

/// Threads follow the cores this process may use unless --threads says otherwise.
@Suite struct ThreadDefaultTests {
    func benchThreads(_ arguments: [String], in dir: String, executable: String = Binary.path)
        throws -> Int
    {
        let result = Binary.run(arguments, in: dir, executable: executable)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["kernels"] as? String == CPU.name)
        return try #require(json["threads"] as? Int)
    }

    @Test func benchUsesEveryAllowedCoreOneUnderTasksetAndTheFlagWins() throws {
        let dir = scratchDirectory()
        let bench = ["bench", "--config", "toy", "--seconds", "0.05", "--windows", "1", "--json"]
        #expect(try benchThreads(bench, in: dir) == Cores.available)
        #expect(
            try benchThreads(
                ["-c", "0", Binary.path] + bench, in: dir, executable: "/usr/bin/taskset") == 1)
        #expect(try benchThreads(bench + ["--threads", "3"], in: dir) == 3)
    }

    /// `--reference-batch` times the stable target's steps beside the plain ones; below the batch
    /// it is refused in one line.
    @Test func benchTimesTheStableTargetBesideThePlainStep() throws {
        let dir = scratchDirectory()
        let bench = ["bench", "--config", "toy", "--seconds", "0.05", "--windows", "1"]
        let result = Binary.run(bench + ["--json", "--reference-batch", "1024"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["reference_batch"] as? Int == 1024)
        #expect((json["stable_target_steps_per_s"] as? Double ?? 0) > 0)
        let text = Binary.run(bench + ["--reference-batch", "512"], in: dir)
        #expect(text.stdout.contains("stable target") && text.stdout.contains("over 512 points"))
        expectRejection(bench + ["--reference-batch", "100"], in: dir, mentions: "reference batch")
    }
}

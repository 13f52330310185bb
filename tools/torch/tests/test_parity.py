"""Same weights and inputs, same denoiser outputs, in pfgm (Swift) and PyTorch, in both
directions."""

import math
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pfgm_torch import method, networks, rundir, tensorfile  # noqa: E402
from pfgm_torch.train import TrainingState  # noqa: E402
from support import TempDirTestCase, pfgm, relative_error, torch_tool  # noqa: E402

# The bar: max |Swift − PyTorch| ≤ 1e-4 × max |output|. Both compute in float32 with
# different summation orders; measured differences are ~1e-7 (MLP) and ~4e-7 (U-Net).
TOLERANCE = 1e-4
SIGMAS = (0.01, 0.3, 2.0, 80.0)


class ParityTests(TempDirTestCase):
    def compare_denoisers(
        self, run, inputs, tolerance=TOLERANCE, sigmas=SIGMAS, mutate=None, aug_dim=None
    ):
        """`pfgm denoise` against this package's denoiser (in this process) on the same points at
        several σ (at D = aug_dim for one network over a range of D). Returns pfgm's outputs."""
        x_path = self.path("x.npy")
        np.save(x_path, inputs.astype(np.float32))
        net, config, _ = rundir.RunDirectory(run).load_model()
        if mutate:
            mutate(net)
        at = ["--aug-dim", aug_dim] if aug_dim is not None else []
        outputs = []
        for sigma in sigmas:
            pfgm(
                "denoise",
                "--ckpt",
                run,
                "--input",
                x_path,
                "--sigma",
                sigma,
                "--out",
                self.path("swift.npy"),
                "--threads",
                1,
                *at,
            )
            swift = np.load(self.path("swift.npy"))
            outputs.append(swift)
            self.assertEqual(swift.shape, (inputs.shape[0], inputs[0].size))
            with torch.no_grad():
                x = torch.from_numpy(inputs.reshape(swift.shape).astype(np.float32))
                c_aug = None
                if aug_dim is not None:
                    c_aug = torch.full(
                        (x.shape[0],),
                        method.aug_feature(config["dim"], method.parse_aug_dim(aug_dim)),
                    )
                out = (
                    method.Preconditioning(config["sigma_data"])
                    .denoise(net, x, torch.full((x.shape[0],), sigma), c_aug)
                    .numpy()
                )
            error = relative_error(out, swift)
            self.assertLessEqual(error, tolerance, f"σ={sigma}: relative difference {error:.2e}")
            if sigma >= 2:
                # Here D is mostly the network's part c_out·F, so the check is of F, not only of
                # c_skip·x.
                c_skip = 1 / (1 + (sigma / config["sigma_data"]) ** 2)
                network_part = np.abs(swift - c_skip * inputs.reshape(swift.shape)).max()
                self.assertGreater(network_part, 0.1 * np.abs(swift).max())
        return outputs

    # pfgm → PyTorch

    def test_mlp_trained_by_pfgm_loads_in_torch(self):
        rng = np.random.RandomState(3)
        np.save(self.path("points.npy"), rng.randn(400, 5).astype(np.float32) * [1, 2, 0.5, 1, 3])
        run = self.path("mlp")
        pfgm(
            "train",
            "--data",
            self.path("points.npy"),
            "--aug-dim",
            4,
            "--steps",
            60,
            "--batch",
            64,
            "--lr",
            1e-2,
            "--width",
            48,
            "--depth",
            3,
            "--out",
            run,
            "--threads",
            1,
        )
        self.compare_denoisers(run, rng.randn(33, 5) * 2)
        # The command-line denoiser gives the same numbers.
        torch_tool(
            "denoise",
            "--ckpt",
            run,
            "--input",
            self.path("x.npy"),
            "--sigma",
            2.0,
            "--out",
            self.path("cli.npy"),
        )
        pfgm(
            "denoise",
            "--ckpt",
            run,
            "--input",
            self.path("x.npy"),
            "--sigma",
            2.0,
            "--out",
            self.path("swift.npy"),
        )
        self.assertLessEqual(
            relative_error(np.load(self.path("cli.npy")), np.load(self.path("swift.npy"))),
            TOLERANCE,
        )

    def test_unet_trained_by_pfgm_loads_in_torch(self):
        # Colour 16×16 images: three resolutions (16, 8, 4) and the channels-first ↔ channels-last
        # path.
        rng = np.random.RandomState(4)
        np.save(self.path("images.npy"), rng.uniform(-1, 1, (64, 3, 16, 16)).astype(np.float32))
        run = self.path("unet")
        pfgm(
            "train",
            "--data",
            self.path("images.npy"),
            "--arch",
            "unet",
            "--width",
            32,
            "--depth",
            1,
            "--aug-dim",
            "inf",
            "--steps",
            40,
            "--batch",
            8,
            "--lr",
            1e-2,
            "--out",
            run,
            "--threads",
            1,
        )
        config = rundir.RunDirectory(run).read_config()
        self.assertEqual((config["channels"], networks.unet_levels(16)), (3, 3))
        self.compare_denoisers(run, rng.randn(5, 3, 16, 16))

    def test_one_network_trained_by_pfgm_loads_in_torch_at_every_d(self):
        rng = np.random.RandomState(9)
        np.save(self.path("points.npy"), rng.randn(300, 3).astype(np.float32))
        run = self.path("one")
        pfgm(
            "train",
            "--data",
            self.path("points.npy"),
            "--aug-dim",
            "1..4096,inf",
            "--feature-share",
            0.75,
            "--infinity-share",
            0.4,
            "--steps",
            60,
            "--batch",
            64,
            "--lr",
            1e-2,
            "--width",
            32,
            "--depth",
            2,
            "--out",
            run,
            "--threads",
            1,
        )
        config = rundir.RunDirectory(run).read_config()
        self.assertEqual(
            (config["aug_dim"], config["infinity_share"], config["feature_share"]),
            ("1..4096,inf", 0.4, 0.75),
        )
        x = rng.randn(17, 3) * 2
        answers = {
            d: self.compare_denoisers(run, x, sigmas=(0.3, 2.0), aug_dim=d)
            for d in ("1", "8", "4096", "inf")
        }
        # D matters: the one network answers differently at D = 1 and D = ∞ (same weights, same
        # points).
        self.assertGreater(relative_error(answers["1"][1], answers["inf"][1]), 1e-3)
        status, output = torch_tool(
            "sample",
            "--ckpt",
            run,
            "--aug-dim",
            8192,
            "--count",
            4,
            "--out",
            self.path("s.npy"),
            expect_ok=False,
        )
        self.assertNotEqual(status, 0)
        self.assertIn("1..4096,inf", output)

    # PyTorch → pfgm

    def write_torch_run(self, config):
        """A run written by this package: fresh weights, then every tensor moved by noise so no part
        is trivial."""
        torch.manual_seed(11)
        state = TrainingState(config, "cpu")
        with torch.no_grad():
            for p in state.model.parameters():
                p.add_(0.2 * torch.randn_like(p))
        state.ema = {n: p.detach().clone() for n, p in state.model.named_parameters()}
        run = rundir.RunDirectory(self.path("torch-run"))
        run.write_config(config)
        run.save(state)
        return run.path

    def test_mlp_written_by_torch_loads_in_pfgm(self):
        config = rundir.new_config("points.npy", 7, "16", 0.8, 10, width=40, depth=2)
        run = self.write_torch_run(config)
        self.compare_denoisers(run, np.random.RandomState(5).randn(21, 7))

    def test_unet_written_by_torch_loads_in_pfgm(self):
        images = self.path("images.npy")
        np.save(images, np.random.RandomState(8).uniform(-1, 1, (40, 3, 8, 8)).astype(np.float32))
        config = rundir.new_config(
            images, 3 * 8 * 8, "inf", 0.5, 10, architecture="unet", width=32, depth=2, channels=3
        )
        run = self.write_torch_run(config)
        self.compare_denoisers(run, np.random.RandomState(6).randn(4, 3, 8, 8))
        # The Adam moments follow the U-Net's storage order (decoder levels downward): pfgm checks
        # the recorded order when it resumes, and PyTorch checks pfgm's when it takes the run back.
        pfgm("train", "--resume", run, "--steps", 12, "--threads", 1)
        torch_tool("train", "--resume", run, "--steps", 14)
        self.assertEqual(
            tensorfile.read(os.path.join(run, "checkpoint.safetensors"))[1]["step"], "14"
        )

    def test_one_network_unet_written_by_torch_loads_in_pfgm_and_resumes_both_ways(self):
        images = self.path("images.npy")
        np.save(images, np.random.RandomState(10).uniform(-1, 1, (40, 1, 8, 8)).astype(np.float32))
        config = rundir.new_config(
            images, 64, "2..2048,inf", 0.5, 10, architecture="unet", width=8, depth=1
        )
        run = self.write_torch_run(config)
        self.assertEqual(networks.build(config).layout()[-2:], ["map_aug.weight", "map_aug.bias"])
        for d in ("2", "inf"):
            self.compare_denoisers(
                run, np.random.RandomState(11).randn(3, 1, 8, 8), sigmas=(0.3, 2.0), aug_dim=d
            )
        pfgm("train", "--resume", run, "--steps", 12, "--threads", 1)
        torch_tool("train", "--resume", run, "--steps", 14)
        self.assertEqual(
            tensorfile.read(os.path.join(run, "checkpoint.safetensors"))[1]["step"], "14"
        )

    def test_stable_target_is_pfgms_posterior_mean_row_by_row(self):
        """The twin's stable target against pfgm's oracle (one Euler step from σ to 0 lands on
        D*(x, σ)), rows at several D and σ in one call. Both weigh in float64 from float32 points;
        measured ~1e-7, the bar TOLERANCE."""
        rng = np.random.default_rng(3)
        points = rng.normal(size=(40, 3)).astype(np.float32)
        x = (rng.normal(size=(8, 3)) * 1.5).astype(np.float32)
        np.save(self.path("points.npy"), points)
        np.save(self.path("x.npy"), x)
        rows = [(1, 0.3), (2, 0.7), (8, 1.5), (math.inf, 0.05), (128, 3.0)]
        d = torch.tensor([r[0] for r in rows for _ in range(8)], dtype=torch.float64)
        sigma = torch.tensor([r[1] for r in rows for _ in range(8)], dtype=torch.float32)
        twin = method.stable_target(
            torch.tensor(np.tile(x, (len(rows), 1))), sigma, d, torch.tensor(points)
        ).numpy()
        for k, (aug_dim, s) in enumerate(rows):
            out = self.path(f"o{k}.npy")
            pfgm(
                "sample", "--oracle", self.path("points.npy"), "--latents", self.path("x.npy"),
                "--aug-dim", method.format_aug_dim(aug_dim), "--steps", 1, "--solver", "euler",
                "--sigma-max", s, "--out", out,
            )
            exact = np.load(out)
            self.assertLess(relative_error(twin[8 * k : 8 * (k + 1)], exact), TOLERANCE)

    def test_a_wrong_layout_is_caught(self):
        # The check has teeth: reading the [out, in, 3, 3] kernels upside down, or the Linear
        # weights of one block transposed, fails it.
        config = rundir.new_config(
            "images.npy", 64, "inf", 0.5, 10, architecture="unet", width=8, depth=1
        )
        run = self.write_torch_run(config)
        x = np.random.RandomState(7).randn(3, 64)
        self.compare_denoisers(run, x, sigmas=(2.0,))

        def flip_kernels(net):
            with torch.no_grad():
                net.enc[0][0].conv0.weight.copy_(net.enc[0][0].conv0.weight.flip(2))

        def transpose_map(net):
            with torch.no_grad():
                net.map_layer1.weight.copy_(net.map_layer1.weight.t().contiguous())

        for mutate in (flip_kernels, transpose_map):
            with self.assertRaises(AssertionError, msg=mutate.__name__):
                self.compare_denoisers(run, x, sigmas=(2.0,), mutate=mutate)

    def test_parameter_names_and_shapes_match_pfgm(self):
        # A checkpoint with a tensor renamed is refused by pfgm with the name in the message.
        config = rundir.new_config("points.npy", 3, "8", 1.0, 10, width=16, depth=1)
        run = self.write_torch_run(config)
        path = os.path.join(run, "checkpoint.safetensors")
        tensors, meta = tensorfile.read(path)
        tensors["blocks.0.linear.weights"] = tensors.pop("blocks.0.linear.weight")
        tensorfile.write(path, tensors, meta)
        np.save(self.path("x.npy"), np.zeros((2, 3), np.float32))
        status, output = pfgm(
            "denoise",
            "--ckpt",
            run,
            "--input",
            self.path("x.npy"),
            "--sigma",
            1,
            "--out",
            self.path("d.npy"),
            expect_ok=False,
        )
        self.assertNotEqual(status, 0)
        self.assertIn("blocks.0.linear.weight", output)
        self.assertFalse(os.path.exists(self.path("d.npy")))


if __name__ == "__main__":
    unittest.main()

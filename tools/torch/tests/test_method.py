"""The PyTorch kernel, prior, schedule and files agree with the paper and with pfgm."""

import math
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pfgm_torch import data, method, tensorfile  # noqa: E402
from support import TempDirTestCase, pfgm  # noqa: E402


class KernelTests(TempDirTestCase):
    def test_mean_squared_radius(self):
        # E[R²] = σ²·N·D/(D − 2). With N = 2, D = 8, R²/r² is Beta-prime(1, 4): relative s.d. 1.41
        # per draw, 0.0032 over 200,000 draws; the bar is 5 of those. D = ∞: E‖x‖² = N·σ².
        torch.manual_seed(1)
        n, sigma, count = 2, 1.5, 200_000
        for d, expected in ((8.0, sigma**2 * n * 8 / 6), (math.inf, n * sigma**2)):
            x = method.perturbation(count, n, d, torch.full((count,), sigma))
            mean = x.double().square().sum(1).mean().item()
            self.assertAlmostEqual(mean / expected, 1, delta=0.016, msg=f"D={d}")

    def test_prior_radii_match_pfgm(self):
        # Two-sample Kolmogorov–Smirnov on the norms of 20,000 draws each of pfgm's and this prior
        # at N = 3, D = 5 (heavy-tailed), fixed seeds; 0.0195 is the 0.1% critical value. A prior
        # with D off by one (D = 6) scores above it (checked below), so the test can fail.
        pfgm(
            "prior",
            "--dim",
            3,
            "--aug-dim",
            5,
            "--sigma",
            2,
            "--count",
            20_000,
            "--seed",
            3,
            "--out",
            self.path("p.npy"),
        )
        theirs = np.linalg.norm(np.load(self.path("p.npy")), axis=1)
        torch.manual_seed(4)
        ours = lambda d: method.prior(20_000, 3, d, 2.0).norm(dim=1).numpy()
        self.assertLess(ks_statistic(ours(5.0), theirs), 0.0195)
        self.assertGreater(ks_statistic(ours(8.0), theirs), 0.0195)

    def test_truncation_table_cuts_as_each_d_does(self):
        """The one network's table against each D's own limit, as pfgm's KernelTruncationTableTests
        (the kink at D = 2 is a knot; the floor's near D = 4-8 at N = 2 leaves 0.009)."""
        for n in (2, 196):
            table = method.TruncationTable(0.97, n, (1.0, 4096.0, True))
            d = torch.exp(torch.linspace(0, math.log(4096), 401, dtype=torch.float64))
            found = table(d)
            for k in range(len(d)):
                own = method.truncation_log_limit(0.97, n, float(d[k]))
                self.assertLess(abs(float(found[k]) - own), 0.02, msg=f"N={n} D={float(d[k])}")
            inf = table(torch.tensor([math.inf], dtype=torch.float64))
            self.assertEqual(float(inf[0]), method.truncation_log_limit(0.97, n, math.inf))

    def test_truncated_kernel_matches_pfgm(self):
        # The cap: N = D = 2 has b ~ Beta(1, 1), so the 0.97 quantile of R²/σ² = D·b/(1 − b) is
        # 2·0.97/0.03 exactly.
        self.assertAlmostEqual(
            method.truncation_log_limit(0.97, 2, 2.0), math.log(2 * 0.97 / 0.03), places=9
        )
        self.assertEqual(method.truncation_log_limit(1.0, 2, 2.0), math.inf)
        # D = ∞, and N = 2 at D = 8, are cut only at the floor: the D = ∞ kernel's (1 −
        # 10⁻⁴)-quantile, −2·log(10⁻⁴).
        self.assertAlmostEqual(
            method.truncation_log_limit(0.97, 2, math.inf), math.log(-2 * math.log(1e-4)), places=9
        )
        self.assertAlmostEqual(
            method.truncation_log_limit(0.97, 2, 8.0), math.log(-2 * math.log(1e-4)), places=9
        )
        # pfgm's truncated prior never passes this side's cap and, where the cut is at the 0.97
        # quantile (where the density is not small), reaches it (20,000 draws put the largest within
        # 2% of it in log(R²/σ²)); both sides' truncated radii agree by two-sample KS at 0.1%
        # (0.0195).
        for n, d in ((2, 2.0), (3, 5.0), (196, 8.0), (2, math.inf)):
            pfgm(
                "prior",
                "--dim",
                n,
                "--aug-dim",
                method.format_aug_dim(d),
                "--sigma",
                1,
                "--count",
                20_000,
                "--kernel-quantile",
                0.97,
                "--seed",
                5,
                "--out",
                self.path("p.npy"),
            )
            theirs = np.linalg.norm(np.load(self.path("p.npy")).astype(np.float64), axis=1)
            limit = method.truncation_log_limit(0.97, n, d)
            top = 2 * math.log(theirs.max())
            self.assertLessEqual(top, limit + 1e-5, msg=f"N={n} D={d}")
            if limit > method.truncation_log_limit(0.97, n, math.inf):
                self.assertGreater(top, limit - 0.02 * abs(limit) - 0.02, msg=f"N={n} D={d}")
            torch.manual_seed(6)
            ours = method.prior(20_000, n, d, 1.0, quantile=0.97).double().norm(dim=1).numpy()
            self.assertLessEqual(2 * math.log(ours.max()), limit + 1e-5)
            self.assertLess(ks_statistic(ours, theirs), 0.0195, msg=f"N={n} D={d}")

    def test_schedule_matches_the_formula(self):
        s = method.schedule(5, 0.002, 80, 7)
        self.assertEqual(len(s), 6)
        self.assertAlmostEqual(s[0], 80, places=9)
        self.assertAlmostEqual(s[4], 0.002, places=12)
        self.assertEqual(s[5], 0)
        a, b = 80 ** (1 / 7), 0.002 ** (1 / 7)
        self.assertAlmostEqual(s[2], ((a + b) / 2) ** 7, places=9)

    def test_one_network_draws_d_as_pfgm(self):
        # Over 1..4096 at N = 2: log-uniform puts log 2 / log 4096 = 1/12 of the draws at D ≤ 2;
        # uniform in b = N/(N + D) puts (2/3 − 1/2)/(2/3 − 2/4098) = 0.2502 there; the mix of
        # half each 0.1668. 40,000 draws: s.d. ≤ 0.0022, the bar is 5 of those.
        torch.manual_seed(3)
        value = (1.0, 4096.0, False)
        for share, expected in ((0.0, 1 / 12), (1.0, 0.2502), (0.5, 0.1668)):
            d = method.draw_dimensions(40_000, value, feature_share=share, n=2)
            self.assertTrue(bool(((d >= 1) & (d <= 4096)).all()))
            self.assertLess(abs(float((d <= 2).double().mean()) - expected), 0.011, share)
        with_inf = method.draw_dimensions(40_000, (1.0, 4096.0, True), feature_share=0.5, n=2)
        self.assertLess(abs(float(torch.isinf(with_inf).double().mean()) - 0.25), 0.011)

    def test_p_mean_shift_raises_ln_sigma_at_finite_d(self):
        """A one network's batches with p_mean_shift: ln σ + shift·N/(N + D) at each finite D
        and σ as drawn at ∞, from the same streams (float32 σ: 1e-5 in ln σ)."""
        import types

        from pfgm_torch.train import Batches

        ctx = types.SimpleNamespace(rank=0, world=1, device="cpu")
        config = dict(batch=512, dim=2, aug_dim="1..4096,inf", kernel_quantile=0.97)
        config.update(p_mean=-1.2, p_std=1.2, infinity_share=0.25)
        data = torch.randn(48, 2)
        drawn = {}
        for shift in (0.0, 1.5):
            torch.manual_seed(4)
            _, _, sigma, c_aug = Batches(data, dict(config, p_mean_shift=shift), ctx).draw()
            drawn[shift] = (sigma.double(), c_aug.double())
        (plain, c_aug), (shifted, c_aug2) = drawn[0.0], drawn[1.5]
        self.assertTrue(torch.equal(c_aug, c_aug2))
        self.assertTrue(bool((c_aug == 0).any()) and bool((c_aug > 0).any()))
        expected = plain.log() + 1.5 * c_aug / 8
        self.assertLess(float((shifted.log() - expected).abs().max()), 1e-5)

    def test_aug_dim_text(self):
        self.assertEqual(
            [
                method.format_aug_dim(method.parse_aug_dim(t))
                for t in ("8", "inf", "0.5", "2048", "∞")
            ],
            ["8", "inf", "0.5", "2048", "inf"],
        )
        for bad in ("0", "-1", "nan", "x"):
            with self.assertRaises(ValueError):
                method.parse_aug_dim(bad)


class FileTests(TempDirTestCase):
    def test_safetensors_round_trip_and_errors(self):
        path = self.path("t.safetensors")
        tensors = {
            "b": np.arange(6, dtype=np.float32).reshape(2, 3),
            "a": np.array([1.5], np.float32),
        }
        tensorfile.write(path, tensors, {"step": 3})
        back, meta = tensorfile.read(path)
        self.assertEqual(meta, {"step": "3"})
        for k in tensors:
            np.testing.assert_array_equal(back[k], tensors[k])
        self.assertEqual(
            [f for f in os.listdir(self.dir)], ["t.safetensors"], "no temporary file left"
        )
        with open(path, "rb") as f:
            raw = f.read()
        overwrite(path, raw[:-4])
        with self.assertRaisesRegex(tensorfile.FormatError, "offsets"):
            tensorfile.read(path)
        overwrite(path, b"\x01")
        with self.assertRaisesRegex(tensorfile.FormatError, "truncated"):
            tensorfile.read(path)

    def test_held_out_split_and_sigma_match_pfgm(self):
        np.save(self.path("pts.npy"), np.random.RandomState(0).randn(1234, 3).astype(np.float32))
        _, out = pfgm(
            "data",
            "--data",
            self.path("pts.npy"),
            "--split",
            "held-out",
            "--out",
            self.path("held.npy"),
        )
        pfgm("data", "--data", self.path("pts.npy"), "--out", self.path("train.npy"))
        d = data.load(self.path("pts.npy"))
        np.testing.assert_array_equal(d.held_out, np.load(self.path("held.npy")))
        np.testing.assert_array_equal(d.train, np.load(self.path("train.npy")))
        self.assertIn(f'"sigma_data": {d.sigma_data!r}', out)


def overwrite(path, raw):
    with open(path, "wb") as f:
        f.write(raw)


def ks_statistic(a, b):
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(
        np.abs(
            np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size
        ).max()
    )


if __name__ == "__main__":
    unittest.main()

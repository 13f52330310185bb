"""Training in PyTorch (one process and under torchrun) into pfgm run directories, and back."""

import json
import re
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pfgm_torch import tensorfile  # noqa: E402
from pfgm_torch.train import ema_decay, learning_rate  # noqa: E402
from support import (  # noqa: E402
    ENV,
    PACKAGE_ROOT,
    PFGM,
    TempDirTestCase,
    pfgm,
    relative_error,
    run,
    torch_tool,
)

TOY = (
    "--aug-dim",
    8,
    "--width",
    64,
    "--depth",
    2,
    "--batch",
    256,
    "--log-every",
    25,
    "--threads",
    1,
)


def torchrun_command(*options):
    """torchrun of this interpreter on the entry point that needs nothing installed.
    --redirects/--tee work around Debian's torch 1.13 on Python 3.11, whose default "0" does not
    parse; they send each worker's stdout to a log and the console, as usual."""
    launcher = os.path.join(os.path.dirname(sys.executable), "torchrun")
    head = (
        [launcher]
        if os.access(launcher, os.X_OK)
        else [sys.executable, "-m", "torch.distributed.run"]
    )
    return head + [
        *options,
        "--redirects",
        "1",
        "--tee",
        "1",
        os.path.join(PACKAGE_ROOT, "train.py"),
    ]


def torchrun(processes, *args):
    return run(
        torchrun_command("--standalone", f"--nproc_per_node={processes}") + [str(a) for a in args]
    )


def two_nodes(*args):
    """The multi-node command of docs/scale-out.md with two agents on this machine, one process
    each."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = torchrun_command(
        "--nnodes=2",
        "--nproc_per_node=1",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint=127.0.0.1:{port}",
        "--rdzv_id=pfgm-test",
    ) + [str(a) for a in args]
    agents = [
        subprocess.Popen(
            command,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    outputs = [agent.communicate(timeout=600)[0] for agent in agents]
    for agent, output in zip(agents, outputs):
        if agent.returncode != 0:
            raise AssertionError(f"two-node torchrun failed ({agent.returncode}):\n{output}")


def losses(folder):
    with open(os.path.join(folder, "stats.jsonl")) as f:
        return [(line["step"], line["loss"]) for line in map(json.loads, f)]


class TrainingTests(TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.data = self.path("moons.npy")
        pfgm("data", "--data", "moons", "--out", self.data)

    def train_torch(self, name, steps, *extra):
        folder = self.path(name)
        torch_tool("train", "--data", self.data, "--steps", steps, "--out", folder, *TOY, *extra)
        return folder

    def test_two_processes_and_two_nodes_match_one_and_the_studio_opens_the_run(self):
        single = self.train_torch("single", 300)
        double = self.path("double")
        torchrun(2, "--data", self.data, "--steps", 300, "--out", double, *TOY)
        a, b = losses(single), losses(double)
        self.assertEqual([s for s, _ in a], list(range(25, 301, 25)))
        self.assertEqual([s for s, _ in a], [s for s, _ in b])
        # Every process draws the whole batch from one seeded stream and keeps its half, so the two
        # runs see the same data and noise; only the order of the gradient sums differs (measured
        # ~1e-8 per window). 1e-3 leaves room for that to grow over 300 steps and is far below the
        # differences between seeds (0.5–10 % per window).
        for (step, x), (_, y) in zip(a, b):
            self.assertLess(abs(x - y) / y, 1e-3, f"step {step}: one process {x}, two {y}")
        self.assertLess(a[-1][1], a[0][1], "the loss falls")
        nodes = self.path("nodes")
        two_nodes("--data", self.data, "--steps", 300, "--out", nodes, *TOY)
        self.assertEqual([s for s, _ in losses(nodes)], [s for s, _ in a])
        for (step, x), (_, y) in zip(a, losses(nodes)):
            self.assertLess(abs(x - y) / y, 1e-3, f"step {step}: one process {x}, two nodes {y}")
        other_seed = self.train_torch("seed1", 300, "--seed", 1)
        self.assertGreater(
            max(abs(x - y) / y for (_, x), (_, y) in zip(a, losses(other_seed))),
            1e-3,
            "a different seed gives a different curve, so the bar above is not loose",
        )
        pfgm("sample", "--ckpt", double, "--count", 500, "--out", self.path("s.npy"))
        _, out = pfgm("eval", "--samples", self.path("s.npy"), "--data", self.data)
        metrics = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        self.assertLess(metrics["swd"], 0.5, "the two-process model has learnt the moons")
        screen = self.studio_screen(double)
        self.assertIn("loaded D=8 (step 300)", screen)
        self.assertIn("Loss · D=8 (logged)", screen, "the studio shows the run's logged loss curve")

    def test_one_network_under_torchrun_matches_one_process_and_pfgm_samples_it_at_any_d(self):
        # One network over a range of D: every process draws the whole batch's D, σ and
        # perturbations from the shared stream too, so two processes follow one (same bar and reason
        # as above).
        one = ("--aug-dim", "1..64,inf")
        single = self.train_torch("one-single", 100, *one)
        double = self.path("one-double")
        torchrun(2, "--data", self.data, "--steps", 100, "--out", double, *TOY, *one)
        a, b = losses(single), losses(double)
        self.assertEqual([s for s, _ in a], [s for s, _ in b])
        for (step, x), (_, y) in zip(a, b):
            self.assertLess(abs(x - y) / y, 1e-3, f"step {step}: one process {x}, two {y}")
        with open(os.path.join(double, "config.json")) as f:
            self.assertEqual(json.load(f)["infinity_share"], 0.25)
        for d in ("2", "inf"):
            pfgm(
                "sample",
                "--ckpt",
                double,
                "--aug-dim",
                d,
                "--count",
                200,
                "--out",
                self.path(f"s{d}.npy"),
            )
        self.assertFalse(
            np.array_equal(np.load(self.path("s2.npy")), np.load(self.path("sinf.npy")))
        )
        status, out = pfgm(
            "sample",
            "--ckpt",
            double,
            "--aug-dim",
            128,
            "--count",
            5,
            "--out",
            self.path("no.npy"),
            expect_ok=False,
        )
        self.assertNotEqual(status, 0)
        self.assertIn("1..64,inf", out)
        self.assertFalse(os.path.exists(self.path("no.npy")))

    def studio_screen(self, folder, *extra):
        """The studio opened on the run in tmux; returns the screen once the model is loaded (or
        after 60 s)."""
        return self.studio_screens(folder, "--ckpt", "loaded D=", 1, *extra)[0]

    def studio_screens(self, folder, how, ready, count, *extra):
        """The studio opened (`how`: --ckpt or --follow) on the run in tmux: `count` screens showing
        `ready`, each at a different step (or what was there after 60 s)."""
        socket = f"pfgm-torch-{os.getpid()}"
        tmux = lambda *a: (
            subprocess.run(
                ["tmux", "-L", socket, *a], capture_output=True, text=True, env=ENV
            ).stdout
        )
        command = " ".join(
            map(
                shlex.quote,
                [
                    PFGM,
                    "studio",
                    how,
                    folder,
                    "--runs",
                    self.path("runs"),
                    "--threads",
                    "1",
                    *extra,
                ],
            )
        )
        tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "studio", command)
        try:
            screens, screen, deadline = [], "", time.time() + 60
            while time.time() < deadline and len(screens) < count:
                time.sleep(0.5)
                screen = tmux("capture-pane", "-p", "-t", "studio")
                step = lambda text: (re.search(r"│ step (\d+) │", text) or re.search("", "")).group(
                    0
                )
                if ready in screen and all(step(screen) != step(s) for s in screens):
                    screens.append(screen)
            tmux("send-keys", "-t", "studio", "q")
            return screens + [screen] * (count - len(screens))
        finally:
            time.sleep(1)
            tmux("kill-server")

    def test_ctrl_c_under_torchrun_saves_at_a_logged_step_and_the_run_continues(self):
        folder = self.path("run")
        command = torchrun_command("--standalone", "--nproc_per_node=2") + [
            "--data",
            self.data,
            "--steps",
            "100000",
            "--out",
            folder,
            "--save-every",
            "50",
            *map(str, TOY),
        ]
        agent = subprocess.Popen(
            command,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        stats, deadline = os.path.join(folder, "stats.jsonl"), time.time() + 120
        while time.time() < deadline and not (os.path.exists(stats) and os.path.getsize(stats) > 0):
            time.sleep(0.2)
        # A studio follows the job as from a login node: its checkpoints and steps, read-only.
        screens = self.studio_screens(folder, "--follow", "Samples · followed D=8, step", 2)
        self.assertIn("◉ following", screens[0])
        steps = [int(re.search(r"│ step (\d+) │", s).group(1)) for s in screens]
        self.assertGreater(steps[1], steps[0], "the followed step moves while torchrun trains")
        run_files = {
            "config.json",
            "checkpoint.safetensors",
            "optimizer.safetensors",
            "stats.jsonl",
            ".lock",
        }
        self.assertLessEqual(
            {f for f in os.listdir(folder) if ".tmp" not in f},
            run_files,
            "only the trainer's files",
        )
        agent.send_signal(
            signal.SIGINT
        )  # what Ctrl-C sends to torchrun; it passes it to its workers
        output = agent.communicate(timeout=120)[0]
        self.assertIn(
            "saved. Continue with: torchrun --nproc_per_node=2 -m pfgm_torch.train --resume", output
        )
        _, meta = tensorfile.read(os.path.join(folder, "optimizer.safetensors"))
        logged = losses(folder)
        self.assertEqual(int(meta["step"]), logged[-1][0], "saved at the last logged step")
        self.assertEqual(logged[-1][0] % 25, 0)
        torch_tool("train", "--resume", folder, "--steps", logged[-1][0] + 25)
        self.assertEqual(losses(folder)[-1][0], logged[-1][0] + 25)

    def test_pfgm_samples_a_torch_model_like_torch(self):
        # Trained with dropout: neither side drops when sampling.
        folder = self.train_torch("run", 150, "--dropout", 0.13)
        latents = self.path("latents.npy")
        pfgm("prior", "--dim", 2, "--aug-dim", 8, "--sigma", 80, "--count", 400, "--out", latents)
        for solver, steps in (("heun", 18), ("euler", 12)):
            pfgm(
                "sample",
                "--ckpt",
                folder,
                "--latents",
                latents,
                "--steps",
                steps,
                "--solver",
                solver,
                "--out",
                self.path("swift.npy"),
                "--threads",
                1,
            )
            torch_tool(
                "sample",
                "--ckpt",
                folder,
                "--latents",
                latents,
                "--steps",
                steps,
                "--solver",
                solver,
                "--out",
                self.path("torch.npy"),
            )
            swift, torch_out = np.load(self.path("swift.npy")), np.load(self.path("torch.npy"))
            # Same latents, same schedule, same float32 arithmetic: measured ~1e-6 relative after 35
            # evaluations.
            self.assertLess(relative_error(torch_out, swift), 1e-4, solver)
            self.assertGreater(
                np.abs(swift - np.load(latents)).max(), 10, "the samples moved from the prior"
            )

    def test_pfgm_continues_a_torch_run_and_back(self):
        folder = self.train_torch("run", 100)
        _, meta = tensorfile.read(os.path.join(folder, "optimizer.safetensors"))
        self.assertEqual(meta["step"], "100")
        # The data moved (as between a cluster and a laptop): named where it is now, or the error
        # says how.
        moved = self.path("moved.npy")
        os.rename(self.data, moved)
        status, out = pfgm("studio", "--ckpt", folder, expect_ok=False)
        self.assertNotEqual(status, 0)
        self.assertIn("point at it with --data PATH", out)
        self.assertIn("Loss · D=8 (logged)", self.studio_screen(folder, "--data", moved))
        pfgm("train", "--resume", folder, "--data", moved, "--steps", 150, "--log-every", 25)
        steps = [s for s, _ in losses(folder)]
        self.assertEqual(steps, list(range(25, 151, 25)))
        torch_tool("train", "--resume", folder, "--data", moved, "--steps", 175, "--log-every", 25)
        history = losses(folder)
        self.assertEqual(history[-1][0], 175)
        self.assertLess(
            history[-1][1], 1.5 * history[3][1], "no jump in the loss after two hand-overs"
        )

    def test_edm_schedules_match_pfgm_and_travel_both_ways(self):
        """EDM's EMA half-life and learning-rate ramp: the figures pfgm's tests hold its own to
        (β 0.2140 at update 10, 0.98622 at 1000 for 500 kimg, ramp 0.05, batch 512), and these
        settings, dropout and the reference batch kept by a run that passes from pfgm to torch
        and back."""
        c = {"ema_halflife_kimg": 500, "ema_rampup": 0.05, "batch": 512, "learning_rate": 1e-3}
        self.assertEqual(ema_decay(c, 1), 0.0)
        self.assertAlmostEqual(ema_decay(c, 10), 0.5 ** (1 / 0.45), places=12)
        self.assertAlmostEqual(ema_decay(c, 1000), 0.98622, places=5)
        c["lr_rampup_kimg"] = 10000
        self.assertEqual(learning_rate(c, 0), 0.0)
        self.assertAlmostEqual(learning_rate(c, 9766), 1e-3 * 9766 * 512 / 1e7, places=15)
        self.assertEqual(learning_rate(c, 30000), 1e-3)
        keys = ("ema_halflife_kimg", "ema_rampup", "lr_rampup_kimg", "dropout", "reference_batch")
        schedule = ("--ema-halflife-kimg", 0.5, "--lr-rampup-kimg", 2, "--dropout", 0.1)
        schedule += ("--reference-batch", 256)
        folder = self.path("from-pfgm")
        pfgm("train", "--data", self.data, "--steps", 40, "--out", folder, *TOY, *schedule)
        torch_tool("train", "--resume", folder, "--steps", 60, "--log-every", 25)
        with open(os.path.join(folder, "config.json")) as f:
            config = json.load(f)
        self.assertEqual([config.get(k) for k in keys], [0.5, 0.05, 2, 0.1, 256])
        other = self.train_torch("from-torch", 40, *schedule, "--ema-rampup", 0.1)
        pfgm("train", "--resume", other, "--steps", 60, "--log-every", 25)
        with open(os.path.join(other, "config.json")) as f:
            config = json.load(f)
        self.assertEqual([config.get(k) for k in keys], [0.5, 0.1, 2, 0.1, 256])
        self.assertEqual(losses(other)[-1][0], 60)

    def test_a_parameter_order_mismatch_is_refused(self):
        folder = self.train_torch("run", 25)
        path = os.path.join(folder, "optimizer.safetensors")
        tensors, meta = tensorfile.read(path)
        names = meta["layout"].split(",")
        names[0], names[2] = names[2], names[0]
        tensorfile.write(path, tensors, {**meta, "layout": ",".join(names)})
        status, out = pfgm("train", "--resume", folder, "--steps", 50, expect_ok=False)
        self.assertNotEqual(status, 0)
        self.assertIn("parameter order differs", out)

    def test_a_run_without_optimizer_file_opens_from_its_checkpoint(self):
        folder = self.train_torch("run", 50)
        os.remove(os.path.join(folder, "optimizer.safetensors"))
        pfgm("train", "--resume", folder, "--steps", 75, "--log-every", 25)
        self.assertEqual([s for s, _ in losses(folder)], [25, 50, 75])

    def test_bad_input_gives_one_line_and_no_run(self):
        status, out = torch_tool(
            "train",
            "--data",
            self.path("missing.npy"),
            "--aug-dim",
            8,
            "--steps",
            5,
            "--out",
            self.path("x"),
            expect_ok=False,
        )
        self.assertEqual((status, out.strip().count("\n")), (1, 0), out)
        self.assertIn("missing.npy", out)
        self.assertFalse(os.path.exists(self.path("x")))
        status, out = torch_tool(
            "train",
            "--data",
            "moons",
            "--aug-dim",
            8,
            "--steps",
            5,
            "--out",
            self.path("x"),
            expect_ok=False,
        )
        self.assertIn("pfgm data --data moons", out)
        status, out = torch_tool(
            "train",
            "--data",
            self.data,
            "--aug-dim",
            "-3",
            "--steps",
            5,
            "--out",
            self.path("x"),
            expect_ok=False,
        )
        self.assertNotEqual(status, 0)
        self.assertIn("--aug-dim", out)
        if not torch.cuda.is_available():
            status, out = torch_tool(
                "train",
                "--data",
                self.data,
                "--aug-dim",
                8,
                "--steps",
                5,
                "--device",
                "cuda",
                "--out",
                self.path("x"),
                expect_ok=False,
            )
            self.assertEqual(
                (status, out.strip()),
                (1, "pfgm_torch.train: --device cuda: no CUDA device is visible"),
            )
            status, out = torch_tool(
                "sample",
                "--ckpt",
                self.path("x"),
                "--count",
                3,
                "--device",
                "cuda",
                "--out",
                self.path("s.npy"),
                expect_ok=False,
            )
            self.assertEqual(
                (status, out.strip()),
                (1, "pfgm_torch.sample: --device cuda: no CUDA device is visible"),
            )
        self.assertFalse(os.path.exists(self.path("x")))


if __name__ == "__main__":
    unittest.main()

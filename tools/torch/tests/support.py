"""Helpers for the interoperability tests: the pfgm binary, this package's commands, temporary
folders."""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPOSITORY = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
PFGM = os.environ.get("PFGM_BIN", os.path.join(REPOSITORY, ".build", "release", "pfgm"))
ENV = {
    **os.environ,
    "PYTHONPATH": PACKAGE_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    "OMP_NUM_THREADS": "1",
}


def run(args, expect_ok=True, timeout=600):
    """Runs a command; returns (exit status, stdout + stderr). Fails the test on an unexpected
    status."""
    result = subprocess.run(
        args, capture_output=True, text=True, env=ENV, timeout=timeout, stdin=subprocess.DEVNULL
    )
    output = result.stdout + result.stderr
    if expect_ok and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{output}")
    return result.returncode, output


def pfgm(*args, **kw):
    return run([PFGM, *map(str, args)], **kw)


def torch_tool(module, *args, **kw):
    return run([sys.executable, "-m", f"pfgm_torch.{module}", *map(str, args)], **kw)


def relative_error(a, b):
    """max |a − b| over max |b|: the parity measure of the issue."""
    return float(np.abs(a - b).max() / np.abs(b).max())


class TempDirTestCase(unittest.TestCase):
    def setUp(self):
        if not os.access(PFGM, os.X_OK):
            self.fail(
                f"the pfgm binary is not built at {PFGM} (run swift build -c release, or set "
                f"PFGM_BIN)"
            )
        self._tmp = tempfile.TemporaryDirectory(prefix="pfgm-torch-")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

#!/usr/bin/env python3
"""Runs pfgm_torch.train from a checkout, with nothing installed: `torchrun ... tools/torch/train.py
ARGS`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pfgm_torch.train import main  # noqa: E402

sys.exit(main())

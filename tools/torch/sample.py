#!/usr/bin/env python3
"""Runs pfgm_torch.sample from a checkout, with nothing installed: `torchrun ...
tools/torch/sample.py ARGS`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pfgm_torch.sample import main  # noqa: E402

sys.exit(main())

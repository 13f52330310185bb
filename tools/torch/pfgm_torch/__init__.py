"""PFGM++ denoisers, training and sampling in PyTorch, reading and writing pfgm's run directories.

A run trained here (on one CPU, one GPU, or many under torchrun) opens in `pfgm sample --ckpt` and
`pfgm studio --ckpt`; a run trained by `pfgm train` loads here. See docs/scale-out.md.
"""

__version__ = "0.1.0"

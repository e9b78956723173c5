"""nnlib: the small helper library of the course *Neural Network Architectures*.

The core modules hold the mechanisms the chapters teach, each short enough to
read whole and checked against PyTorch in ``tests/``:

- ``data`` (datasets, one standardization, one input check), ``plots`` (the
  palette and shared plots), ``widgets`` (interactive figures), ``losses``
  (losses and metrics), ``train`` (the one training loop, :func:`nnlib.train.fit`);
- ``perceptron``, ``activations``, ``mlp`` (chapter 1); ``autograd``,
  ``gradcheck``, ``autograd_mlp`` (chapter 2); ``optim`` (chapter 3);
  ``regularization`` (chapter 4); ``initialization``, ``normalization``, ``pca``,
  ``deep_mlp`` (chapter 5); ``conv``, ``cnn`` (chapter 6); ``recurrent``,
  ``seq2seq`` (chapter 7); ``attention``, ``seq2seq_attention`` (chapter 8);
  ``transformer``, ``vit``, ``tokenize`` (chapter 9); ``checkpoint`` and the
  pretrained weights in ``pretrained/`` (chapter 10).

Each chapter's experiments and drawings live apart, in :mod:`nnlib.figures`
(one module per chapter); the core never imports them.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__version__ = "0.1.0"
__all__ = ["building_website", "device", "seed_everything", "__version__"]


def device() -> torch.device:
    """The fastest device available: CUDA, then Apple's MPS, then the CPU.

    Examples
    --------
    >>> device().type in {"cuda", "mps", "cpu"}
    True
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch, and return a generator seeded the same way.

    Notebooks call this once in their first code cell so that two executions print
    the same numbers; functions that sample still take their own ``seed`` argument.

    Examples
    --------
    >>> g = seed_everything(0)
    >>> a = torch.rand(2, generator=g)
    >>> b = torch.rand(2, generator=seed_everything(0))
    >>> bool(torch.equal(a, b))
    True
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global state that scikit-learn samples from)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def building_website() -> bool:
    """True while the notebooks are executed for the course website.

    ``make site`` (and the notebook test, whose outputs the website reuses) sets the
    environment variable ``NNLIB_WEBSITE=1``. Only then do interactive figures draw
    their precomputed website frames, and progress bars stay off; a student's live
    kernel pays for neither.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"NNLIB_WEBSITE": "1"}):
    ...     building_website()
    True
    >>> with mock.patch.dict("os.environ", {"NNLIB_WEBSITE": "0"}):
    ...     building_website()
    False
    """
    return os.environ.get("NNLIB_WEBSITE", "0").strip() == "1"

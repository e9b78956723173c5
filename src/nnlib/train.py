"""Training-loop helpers shared by the chapters.

Long loops show a ``tqdm`` progress bar in a live kernel. The website build sets
the environment variable ``NNLIB_PROGRESS=0`` so that executed pages stay quiet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress", "progress_enabled"]


def progress_enabled() -> bool:
    """False when the environment variable ``NNLIB_PROGRESS`` is ``"0"``.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"NNLIB_PROGRESS": "0"}):
    ...     progress_enabled()
    False
    """
    return os.environ.get("NNLIB_PROGRESS", "1").strip() != "0"


def progress(iterable: Iterable[Any], **kw: Any) -> tqdm:
    """Wrap ``iterable`` in a ``tqdm.auto`` bar, disabled when ``NNLIB_PROGRESS=0``.

    Keyword arguments go to ``tqdm`` (``desc``, ``total``, ``leave``, ...); an
    explicit ``disable=True`` also silences the bar.

    Shapes
    ------
    Yields the items of ``iterable`` unchanged.

    Examples
    --------
    >>> list(progress(range(3), disable=True))
    [0, 1, 2]
    """
    disable = bool(kw.pop("disable", False)) or not progress_enabled()
    return tqdm(iterable, disable=disable, **kw)

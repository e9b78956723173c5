"""Saving and loading trained weights, with checks that name what is wrong.

A *checkpoint* here is two files side by side: ``name.pt``, the model's
``state_dict`` (a dictionary from parameter names to tensors) written by
``torch.save``, and ``name.json``, its metadata: how it was made (seed, data,
accuracy, ``torch`` version) and the file's SHA-256 checksum.

Loading follows what practitioners write, ``torch.load(path, weights_only=True)``
then ``model.load_state_dict(state)``, with three checks in front that turn a
cryptic failure into a sentence:

* the file's SHA-256 must match the metadata (a truncated download or a file
  edited by hand is caught before it is unpickled);
* every key the model expects must be present and no other key may be there;
* every tensor must have the shape of the parameter it replaces.

``weights_only=True`` matters: a ``.pt`` file is a pickle, and unpickling an
arbitrary file can run arbitrary code. With ``weights_only=True`` PyTorch's
restricted unpickler accepts tensors, numbers, strings and containers only.

The course's own checkpoint (chapter 10's CNN pretrained on MNIST-1D digits 0-4,
made by ``scripts/pretrain.py``) ships inside the package, so Colab, Binder and a
grading sandbox all find it: :func:`pretrained_path`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = [
    "PRETRAINED",
    "sha256_file",
    "pretrained_path",
    "read_metadata",
    "check_state_dict",
    "save_checkpoint",
    "load_checkpoint",
]

#: The checkpoints shipped in ``nnlib/pretrained/`` (file stem, without ``.pt``).
PRETRAINED = ("mnist1d_cnn_digits0to4",)


def sha256_file(path: str | Path) -> str:
    """Hexadecimal SHA-256 of a file's bytes.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "a.bin"
    ...     _ = p.write_bytes(b"abc")
    ...     sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def pretrained_path(name: str = PRETRAINED[0]) -> Path:
    """Path of a checkpoint shipped with ``nnlib`` (its ``.json`` lies beside it).

    Examples
    --------
    >>> pretrained_path().name
    'mnist1d_cnn_digits0to4.pt'
    """
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained checkpoint {name!r}; expected one of {PRETRAINED}")
    return Path(str(resources.files("nnlib") / "pretrained" / f"{name}.pt"))


def _metadata_path(path: Path) -> Path:
    return path.with_suffix(".json")


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata written beside checkpoint ``path`` (``name.pt`` -> ``name.json``).

    Examples
    --------
    >>> read_metadata(pretrained_path())["classes"]
    [0, 1, 2, 3, 4]
    """
    meta = _metadata_path(Path(path))
    if not meta.is_file():
        raise FileNotFoundError(f"no metadata file {meta} beside the checkpoint {path}")
    return json.loads(meta.read_text())


def check_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    """Raise ValueError naming missing keys, unexpected keys and wrong shapes.

    Shapes
    ------
    Every ``state[k]`` must have the shape of ``model.state_dict()[k]``.

    Examples
    --------
    >>> model = nn.Linear(3, 2)
    >>> check_state_dict(model, {"weight": torch.zeros(2, 3), "bias": torch.zeros(2)})
    >>> try:
    ...     check_state_dict(model, {"weight": torch.zeros(2, 4), "bias": torch.zeros(2)})
    ... except ValueError as err:
    ...     print(str(err).split(": ", 1)[1])
    wrong shapes: weight has (2, 4), the model expects (2, 3)
    """
    expected = model.state_dict()
    problems = []
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing:
        problems.append(f"missing keys {missing}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected}")
    wrong = [
        f"{k} has {tuple(state[k].shape)}, the model expects {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if wrong:
        problems.append("wrong shapes: " + "; ".join(wrong))
    if problems:
        raise ValueError("checkpoint does not fit the model: " + "; ".join(problems))


def save_checkpoint(model: nn.Module, path: str | Path, **metadata: Any) -> dict[str, Any]:
    """Write ``model.state_dict()`` to ``path`` and its metadata (with sha256) beside it.

    The metadata gets ``torch_version``, ``num_parameters``, ``size_bytes`` and
    ``sha256`` added; the keyword arguments must be JSON-serializable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     meta = save_checkpoint(nn.Linear(3, 2), Path(d) / "lin.pt", seed=0)
    ...     sorted(meta)
    ['num_parameters', 'seed', 'sha256', 'size_bytes', 'torch_version']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save(state, path)
    meta = dict(metadata)
    meta["torch_version"] = torch.__version__
    meta["num_parameters"] = sum(v.numel() for v in state.values())
    meta["size_bytes"] = path.stat().st_size
    meta["sha256"] = sha256_file(path)
    _metadata_path(path).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def load_checkpoint(model: nn.Module, path: str | Path, *, verify: bool = True) -> dict[str, Any]:
    """Load checkpoint ``path`` into ``model`` after checking it; return its metadata.

    With ``verify`` the file's SHA-256 must equal the metadata's ``sha256``. The
    state is read with ``torch.load(path, weights_only=True)`` (no code runs while
    unpickling), checked by :func:`check_state_dict`, then loaded with
    ``model.load_state_dict``.

    Shapes
    ------
    Every tensor in the file must have its parameter's shape in ``model``.

    Examples
    --------
    >>> from nnlib.cnn import CNN1D, CNNConfig
    >>> model = CNN1D(CNNConfig(num_classes=5))
    >>> load_checkpoint(model, pretrained_path())["num_samples"] > 10_000
    True
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint file {path}")
    meta = read_metadata(path)
    if verify:
        actual = sha256_file(path)
        recorded = meta.get("sha256")
        if actual != recorded:
            raise ValueError(
                f"bad checksum: {path.name} has sha256 {actual}, its metadata records "
                f"{recorded}; the file is corrupted or was changed after it was written"
            )
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # a truncated zip, a non-tensor pickle, ...
        raise ValueError(f"could not read checkpoint {path.name}: {err}") from err
    if not isinstance(state, Mapping):
        raise ValueError(f"checkpoint {path.name} holds a {type(state).__name__}, not a state_dict")
    check_state_dict(model, state)
    model.load_state_dict(state)
    return meta

"""Pretrain chapter 10's CNN on MNIST-1D digits 0-4 and write the checkpoint into nnlib.

    PYTHONPATH=src python scripts/pretrain.py            # or: make pretrain

The notebook of chapter 10 reuses these weights for digits 5-9. The source set is
generated here, far larger than a notebook could afford: ``--num-samples`` signals
of MNIST-1D (seed ``--data-seed``, not the course's seed 42, so no signal of the
chapter's target set was seen), of which the digits 0-4 are kept; the generator's
own test split of digits 0-4 tells when to stop looking; the accuracy recorded is on a
separate held-out set, digits 0-4 of 5,000 signals drawn with seed ``--heldout-seed``
(quick to regenerate, so a test can check it).

It writes ``src/nnlib/pretrained/mnist1d_cnn_digits0to4.pt`` (the ``state_dict``)
and ``.json`` (seed, data sizes, held-out accuracy, ``torch`` version, sha256,
seconds). ``tests/test_checkpoint.py`` checks that the committed file reaches the
recorded accuracy. Training runs on one thread and takes about a minute.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import torch

from nnlib.checkpoint import save_checkpoint
from nnlib.cnn import CNN1D, CNNConfig, Recipe, train_mnist1d
from nnlib.data import mnist1d
from nnlib.losses import accuracy

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "nnlib" / "pretrained" / "mnist1d_cnn_digits0to4.pt"
CLASSES = (0, 1, 2, 3, 4)
HELDOUT_SAMPLES = 5000


def source_data(num_samples: int, seed: int) -> tuple[torch.Tensor, ...]:
    """MNIST-1D (``num_samples`` signals, ``seed``) restricted to digits 0-4, both splits."""
    X, y, X_test, y_test = mnist1d(num_samples=num_samples, seed=seed)
    keep, keep_test = y < len(CLASSES), y_test < len(CLASSES)
    return X[keep], y[keep], X_test[keep_test], y_test[keep_test]


def heldout_data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits 0-4 of both splits of ``HELDOUT_SAMPLES`` signals drawn with ``seed``."""
    X, y, X_test, y_test = mnist1d(num_samples=HELDOUT_SAMPLES, seed=seed)
    X, y = torch.cat([X, X_test]), torch.cat([y, y_test])
    keep = y < len(CLASSES)
    return X[keep], y[keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-samples", type=int, default=60_000)
    parser.add_argument("--data-seed", type=int, default=1)
    parser.add_argument("--heldout-seed", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    start = time.perf_counter()
    data = source_data(args.num_samples, args.data_seed)
    generate_s = time.perf_counter() - start
    config = CNNConfig(num_classes=len(CLASSES))
    model = CNN1D(config, seed=args.seed)
    recipe = Recipe(epochs=args.epochs, seed=args.seed)
    _, train_s = train_mnist1d(model, data, recipe)
    X_held, y_held = heldout_data(args.heldout_seed)
    model.eval()
    with torch.no_grad():
        split_acc = accuracy(model(data[2]), data[3])
        acc = accuracy(model(X_held), y_held)
    meta = save_checkpoint(
        model,
        args.out,
        architecture="CNN1D",
        config=asdict(config),
        classes=list(CLASSES),
        seed=args.seed,
        data_seed=args.data_seed,
        num_samples=args.num_samples,
        train_size=len(data[1]),
        test_size=len(data[3]),
        test_accuracy_generator_split=round(float(split_acc), 4),
        heldout_seed=args.heldout_seed,
        heldout_num_samples=HELDOUT_SAMPLES,
        heldout_size=len(y_held),
        recipe=asdict(recipe),
        heldout_accuracy=round(float(acc), 4),
        train_seconds=round(train_s, 1),
    )
    print(
        f"generated {args.num_samples} signals in {generate_s:.0f} s; trained on "
        f"{len(data[1])} (digits 0-4) in {train_s:.0f} s; held-out accuracy "
        f"{acc:.2%} on {len(y_held)} ({split_acc:.2%} on the split of {len(data[3])}); "
        f"wrote {args.out} ({meta['size_bytes']} bytes, "
        f"sha256 {meta['sha256'][:12]}...)"
    )


if __name__ == "__main__":
    main()

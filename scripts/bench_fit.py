"""How much nnlib.train.fit costs over a bare hand-written loop, on the digits MLP.

Both train the same 64-32-10 ReLU MLP with Adam for the same mini-batches (batch 32,
reshuffled every epoch) and record every batch loss; both evaluate once, at the end.
Each is timed several times, alternating, and the fastest run of each is compared
(the minimum is the run least disturbed by the rest of the machine).

Usage: python scripts/bench_fit.py [--epochs 10] [--repeats 5] [--limit 1.10]
Exits with 1 if fit is slower than ``limit`` times the bare loop.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
from torch import nn

from nnlib.data import digits_split
from nnlib.losses import accuracy
from nnlib.mlp import MLP, MLPConfig
from nnlib.train import fit

CONFIG = MLPConfig(in_features=64, hidden=[32], out_features=10)


def bare_loop(epochs: int, batch_size: int = 32) -> tuple[float, list[float]]:
    X, y, _, _ = digits_split()
    model = MLP(CONFIG, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    g = torch.Generator().manual_seed(0)
    losses = []
    start = time.perf_counter()
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=g).split(batch_size):
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    with torch.no_grad():
        accuracy(model(X), y)
    return time.perf_counter() - start, losses


def with_fit(epochs: int, batch_size: int = 32) -> tuple[float, list[float]]:
    X, y, _, _ = digits_split()
    model = MLP(CONFIG, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    start = time.perf_counter()
    h = fit(model, X, y, optimizer=opt, loss="cross_entropy", epochs=epochs,
            batch_size=batch_size, metrics={"accuracy": accuracy}, eval_every=None,
            show_progress=False)  # fmt: skip
    return time.perf_counter() - start, h.loss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--limit", type=float, default=1.10)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    bare_loop(1), with_fit(1)  # warm up: first calls pay for lazy initialization
    bare, ours = [], []
    for _ in range(args.repeats):
        t, ref_losses = bare_loop(args.epochs)
        bare.append(t)
        t, fit_losses = with_fit(args.epochs)
        ours.append(t)
    if fit_losses != ref_losses:
        print("fit and the bare loop computed different losses", file=sys.stderr)
        return 1
    ratio = min(ours) / min(bare)
    steps = len(fit_losses)
    print(f"digits MLP, {args.epochs} epochs, {steps} steps, best of {args.repeats}:")
    print(f"  bare loop      {min(bare):6.3f} s  ({1e6 * min(bare) / steps:5.0f} us a step)")
    print(f"  nnlib fit      {min(ours):6.3f} s  ({1e6 * min(ours) / steps:5.0f} us a step)")
    print(f"  fit / bare     {ratio:6.3f}  (limit {args.limit:.2f}; same losses, bit for bit)")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())

"""Chapter 11's comparison: every architecture of the course on MNIST-1D, side by side.

* :func:`make_architecture` builds one of :data:`ARCHITECTURES` from the course's
  own modules: the MLP and the CNN of :mod:`nnlib.cnn`, a GRU classifier over
  :class:`nnlib.recurrent.GRU`, and a small :class:`nnlib.vit.ViT1D`.
* :data:`PROPERTIES` holds what each one builds in (the symmetry it exploits,
  what one output sees, whether it is parallel over positions); the receptive
  field of the CNN is computed, not typed.
* :func:`compare` trains each with one short recipe (:func:`nnlib.cnn.train_mnist1d`)
  and returns the table's rows; :func:`plot_comparison` draws accuracy against
  training time.
"""

from __future__ import annotations

import torch
from matplotlib.axes import Axes
from torch import nn

from nnlib.cnn import CNNConfig, Recipe, make_model, num_parameters, receptive_field, train_mnist1d
from nnlib.plots import series_style
from nnlib.recurrent import GRU
from nnlib.transformer import TransformerConfig
from nnlib.vit import ViT1D, ViTConfig

__all__ = [
    "ARCHITECTURES",
    "NAMES",
    "PATCH",
    "GRUClassifier",
    "make_architecture",
    "properties",
    "compare",
    "plot_comparison",
]

#: The architectures compared, in the order the course met them.
ARCHITECTURES = ("mlp", "cnn", "gru", "vit")
#: How tables and figures name them.
NAMES = {"mlp": "MLP", "cnn": "CNN", "gru": "GRU", "vit": "ViT"}
#: Samples per token for the GRU and the transformer: 40 samples become 10 tokens.
PATCH = 4


class GRUClassifier(nn.Module):
    """A GRU reads the signal as ``40 / patch`` tokens; a linear layer reads its last state.

    Shapes
    ------
    x : (B, 40);  returns (B, num_classes).

    Examples
    --------
    >>> GRUClassifier(hidden=8)(torch.zeros(3, 40)).shape
    torch.Size([3, 10])
    """

    def __init__(
        self, *, hidden: int = 48, patch: int = PATCH, num_classes: int = 10, seed: int = 0
    ) -> None:
        super().__init__()
        self.patch = patch
        self.gru = GRU(patch, hidden, seed=seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.head = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] % self.patch:
            raise ValueError(
                f"expected signals (B, L) with L a multiple of {self.patch}, got {tuple(x.shape)}"
            )
        tokens = x.view(x.shape[0], -1, self.patch)  # (B, T, patch)
        _, (last,) = self.gru(tokens)  # (B, hidden): the state after the last token
        return self.head(last)  # (B, num_classes)


def make_architecture(name: str, *, seed: int = 0) -> nn.Module:
    """One of :data:`ARCHITECTURES`, seeded, mapping (B, 40) signals to 10 logits.

    Examples
    --------
    >>> [num_parameters(make_architecture(a)) for a in ARCHITECTURES]
    [15210, 10826, 8266, 17642]
    """
    if name in ("mlp", "cnn"):
        return make_model(name, seed=seed)
    if name == "gru":
        return GRUClassifier(seed=seed)
    if name == "vit":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            t = TransformerConfig(d_model=32, num_heads=4, num_layers=2, d_ff=64)
            return ViT1D(ViTConfig(patch_size=PATCH, transformer=t))
    raise ValueError(f"unknown architecture {name!r}; expected one of {ARCHITECTURES}")


def properties(name: str) -> dict[str, str]:
    """What architecture ``name`` builds in: symmetry, what one output sees, parallelism.

    Examples
    --------
    >>> properties("cnn")["context"]
    '32 of 40 samples per unit, then a max over positions'
    """
    rf = receptive_field(CNNConfig().layer_specs())
    table = {
        "mlp": {
            "symmetry": "none (every weight tied to one input position)",
            "context": "all 40 samples in the first layer",
            "parallel": "yes (no positions at all)",
        },
        "cnn": {
            "symmetry": "translation (shared kernels, a max over positions)",
            "context": f"{rf} of 40 samples per unit, then a max over positions",
            "parallel": "yes, over positions",
        },
        "gru": {
            "symmetry": "time shift (one cell applied at every step)",
            "context": "every earlier token, through one state vector",
            "parallel": "no: step t waits for step t-1",
        },
        "vit": {
            "symmetry": "token permutation, broken only by the positional code",
            "context": "every token, from the first layer on",
            "parallel": "yes, over tokens",
        },
    }
    if name not in table:
        raise ValueError(f"unknown architecture {name!r}; expected one of {ARCHITECTURES}")
    return table[name]


#: Epochs of the short recipe for each: enough for a few seconds of training.
EPOCHS = {"mlp": 10, "cnn": 10, "gru": 10, "vit": 10}


def compare(
    data: tuple[torch.Tensor, ...],
    *,
    architectures: tuple[str, ...] = ARCHITECTURES,
    epochs: dict[str, int] | None = None,
    seed: int = 0,
) -> list[dict]:
    """Train each architecture on ``data`` with the course's recipe, cut short; the table's rows.

    Each row: name, the :func:`properties`, parameters, test accuracy, seconds.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(40, 40, generator=g), torch.randint(0, 10, (40,), generator=g)
    >>> rows = compare((X, y, X, y), architectures=("mlp",), epochs={"mlp": 1})
    >>> rows[0]["parameters"]
    15210
    """
    epochs = {**EPOCHS, **(epochs or {})}
    rows = []
    for name in architectures:
        model = make_architecture(name, seed=seed)
        recipe = Recipe(epochs=epochs[name], lr=0.01 if name == "vit" else 0.02, seed=seed)
        history, seconds = train_mnist1d(model, data, recipe, show_progress=False)
        rows.append(
            {
                "architecture": name,
                **properties(name),
                "parameters": num_parameters(model),
                "accuracy": history.final("val", "accuracy"),
                "seconds": seconds,
            }
        )
    return rows


def plot_comparison(ax: Axes, rows: list[dict]) -> Axes:
    """Test accuracy (%) against training time (s), one marked point per architecture."""
    for i, row in enumerate(rows):
        style = series_style(i, marker=True)
        ax.plot(
            row["seconds"],
            100 * row["accuracy"],
            linestyle="none",
            marker=style["marker"],
            color=style["color"],
            markersize=9,
        )
        ax.annotate(
            NAMES[row["architecture"]],
            (row["seconds"], 100 * row["accuracy"]),
            textcoords="offset points",
            xytext=(8, -4),
            fontsize=10,
        )
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("test accuracy on MNIST-1D (%)")
    ax.set_title("Four architectures, one task")
    ax.set_ylim(0, 100)
    ax.set_xlim(0, 1.25 * max(r["seconds"] for r in rows))
    ax.axhline(10, color="0.5", linestyle=":", linewidth=1)
    ax.grid(alpha=0.3)
    return ax

"""The MNIST-1D benchmark's three models, its training recipe, and receptive fields.

Greydanus & Kobak (2020) built MNIST-1D so that architectures differ on a laptop:
logistic regression reaches about 32% test accuracy, an MLP 68%, a CNN 94%; with
the 40 positions of every signal shuffled by one fixed permutation the CNN falls
to 56% while the others do not move. This module holds what later chapters reuse:

* :func:`make_model` builds ``"logistic"`` (one linear layer), ``"mlp"`` (two hidden
  layers of 100, as in the paper) and ``"cnn"`` (:class:`CNN1D`, set by a
  :class:`CNNConfig`): three convolutions of kernel 5 with ReLU, max pooling by 2
  after the first two, a global max over positions, and a linear read-out. The
  global max makes the read-out blind to *where* a pattern is, the inductive bias
  that wins on the data as generated and loses on the shuffled data.
* :class:`Recipe`, :data:`RECIPES` and :func:`train_mnist1d`: AdamW (Loshchilov &
  Hutter 2019) with a one-cycle learning-rate schedule (Smith & Topin 2019) stepped
  every batch, batches of 100, one thread; 30 epochs for logistic regression and the
  MLP, 20 for the CNN, whose steps cost most and which needs fewer. It keeps each
  model within 20 s on a laptop's CPU: about 5 s for the CNN on one core, for more
  than 94%.
  One thread is faster than two for models this small: the work per layer is
  too small to pay for the synchronization.
* :class:`BasicBlock`, the residual block of ResNet-18 (He et al. 2016): two 3x3
  convolutions with batch norm, added to a shortcut.
* :func:`receptive_field` (the formula) and :func:`measured_receptive_field` (the
  input positions on which one output unit's gradient is not zero).

:class:`CNN1D` uses ``torch.nn.Conv1d``: :mod:`nnlib.conv` computes the same
numbers (``tests/test_conv.py``) but PyTorch's kernels train faster.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nnlib.losses import accuracy
from nnlib.mlp import MLP, MLPConfig
from nnlib.train import History, fit

__all__ = [
    "CNNConfig",
    "CNN1D",
    "BasicBlock",
    "RESNET18_STAGES",
    "MODELS",
    "make_model",
    "num_parameters",
    "Recipe",
    "RECIPES",
    "train_mnist1d",
    "receptive_field",
    "measured_receptive_field",
]

#: The benchmark's models, in the order of the paper's table.
MODELS = ("logistic", "mlp", "cnn")


@dataclass(kw_only=True)
class CNNConfig:
    """Hyperparameters of a :class:`CNN1D`.

    Parameters
    ----------
    channels : int
        Feature maps in every convolutional layer.
    kernel_size : int
        Odd kernel width (padding ``kernel_size // 2`` keeps the length).
    layers : int
        Convolutional layers; each but the last is followed by max pooling by 2.
    num_classes : int
        Outputs of the linear read-out.

    Examples
    --------
    >>> CNNConfig().layer_specs()
    [(5, 1, 1), (2, 2, 1), (5, 1, 1), (2, 2, 1), (5, 1, 1)]
    """

    channels: int = 32
    kernel_size: int = 5
    layers: int = 3
    num_classes: int = 10

    def __post_init__(self) -> None:
        if self.channels < 1 or self.layers < 1 or self.num_classes < 1:
            raise ValueError(
                f"channels, layers and num_classes must be >= 1, got "
                f"{self.channels}, {self.layers}, {self.num_classes}"
            )
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, got {self.kernel_size}")

    def layer_specs(self) -> list[tuple[int, int, int]]:
        """(kernel, stride, dilation) of every convolution and pooling, input to output."""
        specs: list[tuple[int, int, int]] = []
        for i in range(self.layers):
            specs.append((self.kernel_size, 1, 1))
            if i < self.layers - 1:
                specs.append((2, 2, 1))
        return specs


class CNN1D(nn.Module):
    """Convolutions, max pooling, a global max over positions, then a linear layer.

    Shapes
    ------
    x : (N, L) one channel, or (N, 1, L);  returns (N, num_classes).
    ``features(x)`` returns the last feature map, (N, channels, L / 2**(layers-1)).

    Examples
    --------
    >>> model = CNN1D(CNNConfig(), seed=0)
    >>> model(torch.zeros(4, 40)).shape, num_parameters(model)
    (torch.Size([4, 10]), 10826)
    """

    def __init__(self, config: CNNConfig | None = None, *, seed: int | None = None) -> None:
        super().__init__()
        self.config = config = config or CNNConfig()
        c, k = config.channels, config.kernel_size
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            layers: list[nn.Module] = []
            for i in range(config.layers):
                layers += [nn.Conv1d(1 if i == 0 else c, c, k, padding=k // 2), nn.ReLU()]
                if i < config.layers - 1:
                    layers.append(nn.MaxPool1d(2))
            self.body = nn.Sequential(*layers)
            self.head = nn.Linear(c, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)  # (N, 1, L)
        if x.dim() != 3 or x.shape[1] != 1:
            raise ValueError(f"expected input of shape (N, L) or (N, 1, L), got {tuple(x.shape)}")
        return self.body(x)  # (N, C, L')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.features(x).amax(dim=-1)  # (N, C): the strongest response anywhere
        return self.head(pooled)  # (N, num_classes)


#: ResNet-18's stages: (output channels, basic blocks, stride of the first block).
RESNET18_STAGES: tuple[tuple[int, int, int], ...] = (
    (64, 2, 1),
    (128, 2, 2),
    (256, 2, 2),
    (512, 2, 2),
)


class BasicBlock(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``, the block of ResNet-18 and -34.

    The shortcut is the identity, or a strided 1x1 convolution with batch norm where
    the block changes the resolution or the number of channels.

    Shapes
    ------
    x : (B, C_in, height, width);  returns (B, C_out, height / stride, width / stride).

    Examples
    --------
    >>> block = BasicBlock(64, 128, stride=2)
    >>> block(torch.zeros(2, 64, 8, 8)).shape
    torch.Size([2, 128, 4, 4])
    """

    def __init__(self, c_in: int, c_out: int, *, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:  # match the residual's shape
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))  # (B, C_out, height', width')
        out = self.bn2(self.conv2(out))  # (B, C_out, height', width')
        return torch.relu(out + self.shortcut(x))


def num_parameters(model: nn.Module) -> int:
    """Trainable numbers in ``model``.

    Examples
    --------
    >>> num_parameters(nn.Linear(40, 10))
    410
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_model(name: str, *, seed: int = 0, length: int = 40, num_classes: int = 10) -> nn.Module:
    """One of the benchmark's models (:data:`MODELS`), seeded.

    Shapes
    ------
    The model maps (N, length) to (N, num_classes).

    Examples
    --------
    >>> [num_parameters(make_model(m)) for m in MODELS]
    [410, 15210, 10826]
    """
    if name == "logistic":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return nn.Linear(length, num_classes)
    if name == "mlp":
        return MLP(
            MLPConfig(in_features=length, hidden=[100, 100], out_features=num_classes), seed=seed
        )
    if name == "cnn":
        return CNN1D(CNNConfig(num_classes=num_classes), seed=seed)
    raise ValueError(f"unknown model {name!r}; expected one of {MODELS}")


@dataclass(kw_only=True)
class Recipe:
    """How every benchmark model is trained (the same recipe for all three).

    Examples
    --------
    >>> r = Recipe()
    >>> r.epochs * math.ceil(4000 / r.batch_size)  # updates on the 4,000 training signals
    1200
    """

    epochs: int = 30
    batch_size: int = 100
    lr: float = 0.02
    weight_decay: float = 0.01
    threads: int = 1
    seed: int = 0


#: The recipe of each benchmark model: the same but for the CNN's shorter schedule.
RECIPES: dict[str, Recipe] = {"logistic": Recipe(), "mlp": Recipe(), "cnn": Recipe(epochs=20)}


def train_mnist1d(
    model: nn.Module,
    data: Sequence[torch.Tensor],
    recipe: Recipe | None = None,
    **fit_kw,
) -> tuple[History, float]:
    """Train ``model`` with :func:`nnlib.train.fit` under ``recipe``; return history and seconds.

    ``data`` is ``(X_train, y_train, X_test, y_test)`` as :func:`nnlib.data.mnist1d`
    returns it; the test set is the validation set (accuracy at the end only, as in
    the paper's table). The thread count is restored afterwards.

    Shapes
    ------
    X_train : (N, 40);  y_train : (N,);  likewise for the test split.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> X, y = torch.randn(50, 40, generator=g), torch.randint(0, 10, (50,), generator=g)
    >>> h, seconds = train_mnist1d(make_model("logistic"), (X, y, X, y), Recipe(epochs=2))
    >>> len(h), 0.0 <= h.final("val", "accuracy") <= 1.0
    (2, True)
    """
    recipe = recipe or Recipe()
    X, y, X_test, y_test = data
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps = recipe.epochs * math.ceil(len(y) / recipe.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=steps)
    threads = torch.get_num_threads()
    torch.set_num_threads(recipe.threads)
    try:
        start = time.perf_counter()
        history = fit(
            model,
            X,
            y,
            optimizer=opt,
            epochs=recipe.epochs,
            batch_size=recipe.batch_size,
            val=(X_test, y_test),
            metrics={"accuracy": accuracy},
            eval_every=None,
            schedule=schedule,
            schedule_every="step",
            seed=recipe.seed,
            **fit_kw,
        )
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    return history, seconds


def receptive_field(specs: Sequence[tuple[int, int, int]]) -> int:
    """Input positions seen by one output unit: ``1 + sum_l d_l (k_l - 1) prod_{i<l} s_i``.

    Each layer widens the field by its dilated kernel's extra width ``d (k - 1)``,
    measured in input positions: one step at layer ``l`` is ``s_1 ... s_{l-1}`` of them.

    Shapes
    ------
    specs : a sequence of (kernel, stride, dilation), input to output; returns an int.

    Examples
    --------
    >>> receptive_field([(3, 1, 1)] * 4)  # four 3-wide convolutions: 1 + 4 * 2
    9
    """
    field, jump = 1, 1
    for k, s, d in specs:
        if min(k, s, d) < 1:
            raise ValueError(f"kernel, stride and dilation must be >= 1, got {(k, s, d)}")
        field += d * (k - 1) * jump
        jump *= s
    return field


def measured_receptive_field(
    features: nn.Module, *, length: int = 200, channels: int = 1, samples: int = 32, seed: int = 0
) -> int:
    """Width of the input region on which the middle output unit's gradient is non-zero.

    The gradient of unit ``features(x)[:, :, middle]`` (summed over channels) is taken
    for ``samples`` random inputs; a ReLU or a max pool can zero it at some positions
    for one input, so the absolute gradients are summed over inputs first.

    Shapes
    ------
    ``features`` maps (samples, channels, length) to (samples, C, L').

    Examples
    --------
    >>> measured_receptive_field(nn.Conv1d(1, 1, 5))
    5
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, channels, length, generator=g, requires_grad=True)
    out = features(x)  # (samples, C, L')
    out[:, :, out.shape[-1] // 2].sum().backward()
    touched = (x.grad.abs().sum(dim=(0, 1)) > 0).nonzero().flatten()  # (positions,)
    if touched.numel() == 0:
        raise ValueError("the output unit does not depend on the input")
    if touched[0] == 0 or touched[-1] == length - 1:
        raise ValueError(f"the receptive field reaches the input's ends: use length > {length}")
    return int(touched[-1] - touched[0] + 1)

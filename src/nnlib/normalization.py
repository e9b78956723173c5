"""Layer normalization and batch normalization, written out from their definitions.

Both rescale the activations of a layer to mean 0 and variance 1 and then apply a
learned affine map ``gamma * x_hat + beta``; they differ in *what* they average
over. Layer norm (Ba, Kiros and Hinton 2016) averages over the features of one
sample, so it behaves the same in training and evaluation. Batch norm (Ioffe and
Szegedy 2015) averages each feature over the samples of the batch; at evaluation
time there may be no batch, so during training it keeps exponential moving
averages of the batch statistics and uses those, frozen, in evaluation mode.

The modules match ``torch.nn.LayerNorm`` and ``torch.nn.BatchNorm1d`` (values,
gradients and running statistics; see ``tests/test_normalization.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from nnlib.data import check_2d

__all__ = ["layer_norm", "batch_norm", "LayerNorm", "BatchNorm1d"]


def _check_2d(x: torch.Tensor, features: int | None, who: str) -> None:
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise TypeError(f"{who}: expected a floating-point tensor, got {type(x).__name__}")
    check_2d(x, features=features, name=f"{who}'s input")


def _scale_shift(
    y: torch.Tensor, gamma: torch.Tensor | None, beta: torch.Tensor | None
) -> torch.Tensor:
    """The learned affine map ``gamma * y + beta`` (either part may be absent)."""
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def layer_norm(
    x: torch.Tensor,
    gamma: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Normalize every row of ``x`` over its features, then scale and shift.

    ``mu = mean_j x_j``, ``sigma^2 = mean_j (x_j - mu)^2`` (the biased variance),
    ``y = gamma * (x - mu) / sqrt(sigma^2 + eps) + beta``.

    Shapes
    ------
    x : (N, C);  gamma, beta : (C,);  returns (N, C).

    Examples
    --------
    >>> y = layer_norm(torch.tensor([[1.0, 2.0, 3.0]]))
    >>> [round(v, 4) for v in y[0].tolist()]
    [-1.2247, 0.0, 1.2247]
    """
    _check_2d(x, None if gamma is None else gamma.shape[0], "layer_norm")
    mu = x.mean(dim=1, keepdim=True)  # (N, 1)
    var = x.var(dim=1, unbiased=False, keepdim=True)  # (N, 1)
    y = (x - mu) / torch.sqrt(var + eps)  # eps keeps a constant row from dividing by 0
    return _scale_shift(y, gamma, beta)


def batch_norm(
    x: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    gamma: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """Normalize every feature (column) of ``x`` with the given mean and variance.

    In training mode the statistics are those of the batch itself; in evaluation
    mode they are the running averages (see :class:`BatchNorm1d`).

    Shapes
    ------
    x : (N, C);  mean, var, gamma, beta : (C,);  returns (N, C).

    Examples
    --------
    >>> x = torch.tensor([[0.0, 10.0], [2.0, 30.0]])
    >>> batch_norm(x, x.mean(0), x.var(0, unbiased=False), eps=0.0).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    _check_2d(x, mean.shape[0], "batch_norm")
    y = (x - mean) / torch.sqrt(var + eps)  # (N, C): (C,) broadcasts over the batch
    return _scale_shift(y, gamma, beta)


class LayerNorm(nn.Module):
    """Layer normalization of each sample over its features, with a learned scale and shift.

    Parameters
    ----------
    num_features : int
        Number of features ``C`` of each sample.
    eps : float
        Added to the variance for numerical stability (PyTorch's default 1e-5).

    Shapes
    ------
    x : (N, C);  returns (N, C).

    Examples
    --------
    >>> ln = LayerNorm(4)
    >>> y = ln(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)))
    >>> bool(y.mean(dim=1).abs().max() < 1e-6)
    True
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5) -> None:
        super().__init__()
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))  # beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.weight, self.bias, self.eps)


class BatchNorm1d(nn.Module):
    """Batch normalization of ``(N, C)`` activations, with running statistics.

    Training mode: normalize with the mean and *biased* variance of the batch, and
    update the running estimates
    ``running = (1 - momentum) * running + momentum * batch_statistic``, where the
    variance that enters the running estimate is the *unbiased* one (divided by
    ``N - 1``), as in PyTorch. Evaluation mode: normalize with the running
    estimates, so one sample's output no longer depends on the rest of the batch.

    Shapes
    ------
    x : (N, C), N >= 2 in training mode;  returns (N, C).

    Examples
    --------
    >>> bn = BatchNorm1d(2)
    >>> x = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    >>> bn(x).detach().round(decimals=3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> bn.running_mean.tolist(), bn.running_var.tolist()  # doctest: +ELLIPSIS
    ([0.1000..., 0.2000...], [1.1000..., 1.1000...])
    >>> _ = bn.eval()
    >>> [[round(v, 3) for v in row] for row in bn(x).tolist()]  # with the running statistics
    [[-0.095, 0.763], [1.812, 2.67]]
    """

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        if num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features))  # beta
        # Buffers, not parameters: saved in state_dict and moved by .to(), never trained.
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_2d(x, self.num_features, "BatchNorm1d")
        if not self.training:
            return batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, self.eps
            )
        n = x.shape[0]
        if n < 2:
            raise ValueError("BatchNorm1d in training mode needs at least 2 samples per batch")
        mean = x.mean(dim=0)  # (C,)
        var = x.var(dim=0, unbiased=False)  # (C,) the batch is normalized with 1/N
        with torch.no_grad():  # the running averages are bookkeeping, not part of the graph
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(m * mean)
            # ...but the running variance estimates the population variance: 1/(N - 1).
            self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
            self.num_batches_tracked += 1
        return batch_norm(x, mean, var, self.weight, self.bias, self.eps)

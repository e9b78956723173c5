"""An MLP built on :mod:`nnlib.autograd`, and the three steps of a training iteration.

Every iteration of gradient descent does the same three things (Rumelhart, Hinton
& Williams 1986):

1. **forward and loss**: run the network on the data and compute the loss;
2. **backward**: backpropagate to get the gradient of the loss for every weight;
3. **update**: move every weight against its gradient, ``w <- w - lr * dl/dw``.

:func:`train_gd` writes them out with the from-scratch engine. The same loop with
``torch.autograd`` and ``torch.optim.SGD`` is :func:`nnlib.train.fit` with a full
batch; from the same initial weights the two produce the same losses, step for step.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from nnlib.activations import check_activation
from nnlib.autograd import Tensor, binary_cross_entropy_with_logits
from nnlib.train import progress

__all__ = ["Linear", "EngineMLP", "train_gd"]

#: The activations the engine's Tensor implements (as methods of the same name).
ENGINE_ACTIVATIONS = ("relu", "tanh", "sigmoid")


class Linear:
    """A fully connected layer ``X W^T + b`` whose weights are engine tensors.

    The weight has PyTorch's layout ``(out_features, in_features)`` so that the
    weights of an ``nn.Linear`` copy over unchanged.

    Shapes
    ------
    W : (out, in);  b : (out,);  X : (N, in) -> (N, out).

    Examples
    --------
    >>> layer = Linear(np.ones((3, 2)), np.zeros(3))
    >>> layer(Tensor(np.ones((4, 2)))).shape
    (4, 3)
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        W, b = np.asarray(W), np.asarray(b)
        if W.ndim != 2 or b.shape != (W.shape[0],):
            raise ValueError(f"expected W (out, in) and b (out,), got {W.shape} and {b.shape}")
        self.W = Tensor(W, requires_grad=True, name="W")
        self.b = Tensor(b, requires_grad=True, name="b")

    def __call__(self, X: Tensor) -> Tensor:
        return X @ self.W.T + self.b  # (N, in) @ (in, out) + (out,) -> (N, out)

    def parameters(self) -> list[Tensor]:
        return [self.W, self.b]


class EngineMLP:
    """Linear layers with an activation between them, on the from-scratch engine.

    Parameters
    ----------
    layers : list of Linear
    activation : str
        ``"relu"``, ``"tanh"`` or ``"sigmoid"``, applied after every layer but the last.

    Shapes
    ------
    X : (N, in_features) -> logits (N, out_features).

    Examples
    --------
    >>> import torch
    >>> from nnlib.mlp import MLP, MLPConfig
    >>> torch_model = MLP(MLPConfig(in_features=2, hidden=[4], out_features=1), seed=0)
    >>> model = EngineMLP.from_torch(torch_model)
    >>> X = np.zeros((5, 2))
    >>> model(Tensor(X)).shape
    (5, 1)
    >>> bool(np.allclose(model(Tensor(X)).data, torch_model(torch.zeros(5, 2)).detach()))
    True
    """

    def __init__(self, layers: list[Linear], activation: str = "relu") -> None:
        check_activation(activation, ENGINE_ACTIVATIONS)
        self.layers, self.activation = list(layers), activation

    @classmethod
    def from_torch(cls, model: nn.Module) -> EngineMLP:
        """Copy the weights of a PyTorch MLP (``nnlib.mlp.MLP``) in float64."""
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError("the model has no nn.Linear layers to copy")
        activation = getattr(getattr(model, "config", None), "activation", "relu")
        layers = [
            Linear(lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy())
            for lin in linears
        ]
        return cls(layers, activation)

    def __call__(self, X: Tensor) -> Tensor:
        h = X
        for i, layer in enumerate(self.layers):
            h = layer(h)  # (N, out_i)
            if i < len(self.layers) - 1:
                h = getattr(h, self.activation)()
        return h

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]


def train_gd(
    model: EngineMLP, X, y, *, steps: int, lr: float, show_progress: bool = True
) -> list[float]:
    """Full-batch gradient descent on the binary cross-entropy, with the engine.

    Returns the loss before each step's update (``steps`` values).

    Shapes
    ------
    X : (N, d);  y : (N,) labels in {0, 1}.

    Examples
    --------
    >>> from nnlib.data import logic_gate
    >>> X, y = logic_gate("OR")
    >>> model = EngineMLP([Linear(np.full((1, 2), 0.1), np.zeros(1))])
    >>> losses = train_gd(model, X, y, steps=50, lr=1.0, show_progress=False)
    >>> losses[-1] < losses[0]
    True
    """
    if steps < 1 or lr <= 0:
        raise ValueError(f"expected steps >= 1 and lr > 0, got steps={steps}, lr={lr}")
    X = Tensor(X)  # (N, d) data: no gradient needed
    params = model.parameters()
    losses = []
    for _ in progress(range(steps), desc="engine GD", disable=not show_progress):
        loss = binary_cross_entropy_with_logits(model(X), y)  # 1. forward and loss
        for p in params:
            p.zero_grad()
        loss.backward()  # 2. backward: dl/dp for every parameter
        for p in params:
            p.data -= lr * p.grad  # 3. update
        losses.append(loss.item())
    return losses

"""The activation functions of the course, in one registry.

A nonlinearity between two linear layers is what keeps a stack of them from
collapsing into a single linear map. ReLU ``max(0, z)`` (Nair & Hinton 2010) is
the default of modern networks: its slope is 1 wherever it is active, so it does
not saturate. The leaky ReLU (Maas, Hannun & Ng 2013) keeps a small slope for
``z < 0``; ``tanh`` and the logistic sigmoid saturate for large ``|z|``.

Every model of :mod:`nnlib` names its activation by a key of :data:`ACTIVATIONS`;
:class:`Activation` wraps one as a module for ``nn.Sequential`` stacks.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LEAKY_SLOPE", "ACTIVATIONS", "check_activation", "Activation"]

#: Slope of the leaky ReLU for negative inputs (Maas, Hannun and Ng 2013 used 0.01).
LEAKY_SLOPE = 0.01

#: Activation functions by name, each elementwise from a tensor to a tensor of its shape.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_SLOPE),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "identity": lambda z: z,
}


def check_activation(name: str, allowed: tuple[str, ...] | None = None) -> str:
    """Return ``name`` if it is a known activation (and in ``allowed``, if given).

    Examples
    --------
    >>> check_activation("tanh")
    'tanh'
    >>> check_activation("relu", allowed=("tanh", "sigmoid"))
    Traceback (most recent call last):
    ...
    ValueError: unknown activation 'relu'; expected one of ['tanh', 'sigmoid']
    """
    names = tuple(ACTIVATIONS) if allowed is None else allowed
    if name not in names:
        raise ValueError(f"unknown activation {name!r}; expected one of {list(names)}")
    return name


class Activation(nn.Module):
    """The activation called ``name`` as a module (no parameters).

    Shapes
    ------
    any shape;  returns the same shape.

    Examples
    --------
    >>> Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = check_activation(name)
        self.fn = ACTIVATIONS[name]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.fn(z)

    def extra_repr(self) -> str:
        return self.name

"""Drawings of computational graphs and the chapter 2 step-through figure.

:func:`plot_graph` draws a graph built by :mod:`nnlib.autograd` (inputs on the
left, the output on the right) with the value and the gradient of every node.
:func:`interactive_backprop` steps through the forward pass, node by node in
topological order, and then through the backward pass, one vector-Jacobian
product at a time in reverse order, as backpropagation does (Rumelhart, Hinton &
Williams 1986). The gradients come from the engine itself
(``Tensor.backward(steps=k)``), so the figure shows what the code computes.
Only matplotlib is used (no graphviz), so the figure draws everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from nnlib.autograd import Tensor, topological_order
from nnlib.plots import OKABE_ITO
from nnlib.widgets import Choice, InteractiveFigure, Slider, on_axes

__all__ = [
    "two_path_graph",
    "neuron_graph",
    "GRAPHS",
    "graph_layout",
    "plot_graph",
    "backprop_state",
    "num_steps",
    "plot_backprop_step",
    "draw_backprop_step",
    "interactive_backprop",
]

Positions = dict[str, tuple[float, float]]

_SYMBOL = {"*": "\u00b7", "+": "+", "-": "\u2212", "/": "/", "@": "@"}
_FORWARD = OKABE_ITO["blue"]
_BACKWARD = OKABE_ITO["vermillion"]


def _name(t: Tensor) -> str:
    return t.name or f"{t.item():g}"


def _leaf(value: float, name: str) -> Tensor:
    return Tensor(value, requires_grad=True, name=name)


def _named(t: Tensor, name: str) -> Tensor:
    t.name = name
    return t


def two_path_graph() -> tuple[Tensor, Positions]:
    """``f = (v1 h)(v2 h)`` with ``h = tanh(w x)``: ``h`` reaches ``f`` along two paths.

    It is the scalar skeleton of the chapter's two-path network: one hidden unit
    ``h`` feeds two units ``p`` and ``q`` that meet again at the output, so
    ``df/dh = df/dp dp/dh + df/dq dq/dh``.

    Returns
    -------
    The output node and drawing positions by node name.

    Examples
    --------
    >>> f, pos = two_path_graph()
    >>> round(f.item(), 4), sorted(pos)
    (-0.2163, ['f', 'h', 'p', 'q', 'v1', 'v2', 'w', 'x', 'z'])
    """
    x, w = _leaf(2.0, "x"), _leaf(0.3, "w")
    v1, v2 = _leaf(1.5, "v1"), _leaf(-0.5, "v2")
    z = _named(w * x, "z")
    h = _named(z.tanh(), "h")
    p = _named(v1 * h, "p")
    q = _named(v2 * h, "q")
    f = _named(p * q, "f")
    pos = {
        "w": (0, 0.6), "x": (0, -0.6), "z": (1, 0), "v1": (2, 1.2), "h": (2, 0),
        "v2": (2, -1.2), "p": (3, 0.6), "q": (3, -0.6), "f": (4, 0),
    }  # fmt: skip
    return f, pos


def neuron_graph() -> tuple[Tensor, Positions]:
    """One sigmoid neuron and its squared error: ``loss = (sigmoid(w x + b) - y)^2``.

    The loss node is named ``ℓ``, the book's per-example loss.

    Examples
    --------
    >>> loss, pos = neuron_graph()
    >>> round(loss.item(), 4), len(pos), loss.name == "\u2113"
    (0.1101, 9, True)
    """
    x, w = _leaf(1.5, "x"), _leaf(0.8, "w")
    b, y = _leaf(-0.5, "b"), _leaf(1.0, "y")
    z = _named(w * x, "z")
    u = _named(z + b, "u")
    s = _named(u.sigmoid(), "s")
    e = _named(s - y, "e")
    loss = _named(e**2, "\u2113")  # the per-example loss, ell
    pos = {
        "w": (0, 0.6), "x": (0, -0.6), "z": (1, 0.3), "b": (1, -0.9), "u": (2, 0),
        "s": (3, 0.3), "y": (3, -0.9), "e": (4, 0), "\u2113": (5, 0),
    }  # fmt: skip
    return loss, pos


#: The graphs of the step-through figure, by the name its control shows.
GRAPHS: dict[str, Callable[[], tuple[Tensor, Positions]]] = {
    "two paths": two_path_graph,
    "neuron": neuron_graph,
}


def graph_layout(root: Tensor) -> dict[int, tuple[float, float]]:
    """Positions by ``id(node)``: column = distance from the inputs, rows centred.

    An operation sits one column right of its latest parent; a leaf sits one
    column left of its first consumer, so a bias appears next to where it is used.

    Examples
    --------
    >>> x = Tensor(1.0, name="x")
    >>> y = x.exp()
    >>> sorted(graph_layout(y).values())
    [(0.0, 0.0), (1.0, 0.0)]
    """
    order = topological_order(root)
    col: dict[int, int] = {}
    for node in order:
        if node.parents:
            col[id(node)] = 1 + max(col.get(id(p), 0) for p in node.parents)
    for node in order:
        if not node.parents:
            consumers = [col[id(n)] for n in order if any(p is node for p in n.parents)]
            col[id(node)] = min(consumers, default=1) - 1
    shift = min(col.values())
    columns: dict[int, list[Tensor]] = {}
    for node in order:
        columns.setdefault(col[id(node)] - shift, []).append(node)
    pos = {}
    for c, nodes in columns.items():
        for r, node in enumerate(nodes):
            pos[id(node)] = (float(c), float((len(nodes) - 1) / 2 - r))
    return pos


def _label(t: Tensor) -> str:
    if not t.parents:
        return _name(t)
    names = [_name(p) for p in t.parents]
    if t.op in _SYMBOL:
        return f"{t.name} = {names[0]}{_SYMBOL[t.op]}{names[1]}"
    if t.op == "**2":
        return f"{t.name} = {names[0]}\u00b2"
    op = {"sigmoid": "\u03c3"}.get(t.op, t.op)
    return f"{t.name} = {op}({names[0]})"


def plot_graph(
    ax: Axes,
    root: Tensor,
    *,
    positions: Positions | None = None,
    known: set[int] | None = None,
    grads: dict[int, tuple[float, bool]] | None = None,
    current: Tensor | None = None,
    phase: str = "",
    title: str = "Computational graph",
) -> Axes:
    """Draw the graph of ``root``: one box per node with its value and gradient.

    Parameters
    ----------
    positions : dict, optional
        ``(column, row)`` by node name; :func:`graph_layout` by default.
    known : set of int, optional
        ``id`` of the nodes whose value is shown (all by default; others show "?").
    grads : dict, optional
        ``id(node) -> (gradient, complete)`` for the gradients to show; when
        omitted, the ``.grad`` of every node that has one. An incomplete gradient
        (not all paths summed yet) is marked with "+...".
    current : Tensor, optional
        The node being computed, outlined; its edges are highlighted.
    phase : str
        ``"forward"`` or ``"backward"``: colour of the highlighted edges.

    Shapes
    ------
    Scalar graphs: every node holds one number.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> f, pos = two_path_graph()
    >>> f.backward()
    >>> ax = plot_graph(Figure().add_subplot(), f, positions=pos)
    >>> len(ax.patches)  # 9 boxes and 9 edges
    18
    """
    order = topological_order(root)
    if any(t.data.size != 1 for t in order):
        raise ValueError("plot_graph draws scalar graphs only (one number per node)")
    if positions is None:
        where = graph_layout(root)
    else:
        missing = [_name(t) for t in order if _name(t) not in positions]
        if missing:
            raise ValueError(f"positions has no entry for the nodes {missing}")
        where = {id(t): positions[_name(t)] for t in order}
    known = {id(t) for t in order} if known is None else known
    if grads is None:
        grads = {id(t): (float(t.grad), True) for t in order if t.grad is not None}
    bw, bh = 0.82, 0.72  # box size in column units
    for node in order:  # edges first, so that boxes cover their ends
        x1, y1 = where[id(node)]
        for parent in node.parents:
            x0, y0 = where[id(parent)]
            active = current is node
            color = (_BACKWARD if phase == "backward" else _FORWARD) if active else "0.6"
            start, end = (x0 + bw / 2, y0), (x1 - bw / 2, y1)
            if active and phase == "backward":
                start, end = end, start  # the gradient flows from the node to its parents
            ax.add_patch(
                FancyArrowPatch(
                    start, end, arrowstyle="-|>", mutation_scale=9, color=color,
                    lw=2.0 if active else 1.0, zorder=1,
                )
            )  # fmt: skip
    for node in order:
        x, y = where[id(node)]
        leaf = not node.parents
        edge = (_BACKWARD if phase == "backward" else _FORWARD) if node is current else "0.3"
        ax.add_patch(
            FancyBboxPatch(
                (x - bw / 2, y - bh / 2), bw, bh, boxstyle="round,pad=0.02",
                facecolor="#F2F2F2" if leaf else "white", edgecolor=edge,
                lw=2.2 if node is current else 0.8, zorder=2,
            )
        )  # fmt: skip
        value = f"{node.item():.3f}" if id(node) in known else "?"
        ax.text(x, y + 0.2, _label(node), ha="center", va="center", fontsize=6.5, zorder=3)
        ax.text(x, y, value, ha="center", va="center", fontsize=7, color=_FORWARD, zorder=3)
        if id(node) in grads:
            g, complete = grads[id(node)]
            text = f"g={g:.3f}" + ("" if complete else "+\u2026")
            ax.text(x, y - 0.2, text, ha="center", va="center", fontsize=6.5, color=_BACKWARD,
                    zorder=3)  # fmt: skip
    xs = [p[0] for p in where.values()]
    ys = [p[1] for p in where.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize="medium")
    return ax


def num_steps(root: Tensor) -> int:
    """Steps of the step-through: the start, one per operation forward, the seed,
    one per operation backward.

    Examples
    --------
    >>> num_steps(two_path_graph()[0])
    12
    """
    n_ops = sum(1 for t in topological_order(root) if t.parents)
    return 2 * n_ops + 2


def _local(node: Tensor, parent_index: int) -> str:
    """The local derivative d node / d parent as a formula in the node names."""
    names = [_name(p) for p in node.parents]
    if node.op == "*":
        return names[1 - parent_index]
    if node.op == "+":
        return "1"
    if node.op == "-":
        return "1" if parent_index == 0 else "(\u22121)"
    if node.op == "tanh":
        return f"(1\u2212{node.name}\u00b2)"
    if node.op == "sigmoid":
        return f"{node.name}(1\u2212{node.name})"
    if node.op == "**2":
        return f"2{names[0]}"
    return f"\u2202{node.name}/\u2202{names[parent_index]}"


def backprop_state(graph: str, step: int) -> dict:
    """Everything the step-through shows at ``step``: graph, known values, gradients, text.

    Steps ``0..n`` are the forward pass (``n`` operations), ``n + 1`` seeds the
    output's gradient with 1, and ``n + 2 .. 2n + 1`` apply one VJP each, in
    reverse topological order. Steps beyond the end show the last one.

    Examples
    --------
    >>> s = backprop_state("two paths", 11)
    >>> s["phase"], round(s["grads"][id(s["leaves"]["w"])][0], 4)
    ('backward', -1.1465)
    """
    if graph not in GRAPHS:
        raise ValueError(f"unknown graph {graph!r}; expected one of {sorted(GRAPHS)}")
    root, pos = GRAPHS[graph]()
    order = topological_order(root)
    ops = [t for t in order if t.parents]
    n = len(ops)
    step = int(min(max(step, 0), 2 * n + 1))
    leaves = {t.name: t for t in order if not t.parents}
    state = {"root": root, "positions": pos, "leaves": leaves, "grads": {}, "current": None}
    out = root.name
    if step <= n:
        state["phase"] = "forward"
        state["known"] = {id(t) for t in leaves.values()} | {id(t) for t in ops[:step]}
        if step == 0:
            state["title"] = f"Forward pass: inputs set (step 0 of {2 * n + 1})"
            state["text"] = "Next: compute every node from its parents, left to right."
            return state
        node = ops[step - 1]
        args = [f"{p.item():.3f}" for p in node.parents]
        rhs = _label(node).split(" = ")[1]
        for p, a in zip(node.parents, args, strict=True):
            rhs = rhs.replace(p.name, a, 1) if p.name else rhs
        state["current"] = node
        state["title"] = f"Forward: compute {node.name} (step {step} of {2 * n + 1})"
        state["text"] = f"{_label(node)} = {rhs} = {node.item():.3f}"
        return state
    k = step - n - 1  # VJPs applied so far
    root.backward(steps=k)
    state["phase"] = "backward"
    state["known"] = {id(t) for t in order}
    done = ops[::-1][:k]  # nodes whose VJP has run
    received = {id(root)} | {id(p) for t in done for p in t.parents}
    for t in order:
        if id(t) in received:
            consumers = [c for c in ops if any(p is t for p in c.parents)]
            complete = all(any(c is d for d in done) for c in consumers)
            state["grads"][id(t)] = (float(t.grad), complete)
    if k == 0:
        state["title"] = (
            f"Backward: seed g = \u2202{out}/\u2202{out} = 1 (step {step} of {2 * n + 1})"
        )
        state["text"] = (
            "g of a node = \u2202" + out + "/\u2202node; next: pass it back, right to left."
        )
        return state
    node = done[-1]
    state["current"] = node
    lines = []
    local_derivatives = node.vjp(np.ones(()))  # d node / d parent, one per parent
    for i, (p, local) in enumerate(zip(node.parents, local_derivatives, strict=True)):
        lines.append(
            f"g_{_name(p)} += g_{node.name}\u00b7{_local(node, i)} = "
            f"{float(node.grad):.3f}\u00b7{float(local):.3f} = {float(node.grad * local):.3f}"
        )
    state["title"] = f"Backward: VJP of {node.name} (step {step} of {2 * n + 1})"
    state["text"] = "\n".join(lines)
    return state


def plot_backprop_step(ax: Axes, graph: str = "two paths", step: int = 0) -> Axes:
    """One frame of the step-through: the graph, highlighted node, and the formula used.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_backprop_step(Figure().add_subplot(), "neuron", 0)
    >>> ax.get_title().startswith("Forward pass")
    True
    """
    s = backprop_state(graph, step)
    plot_graph(
        ax, s["root"], positions=s["positions"], known=s["known"], grads=s["grads"],
        current=s["current"], phase=s["phase"], title=s["title"],
    )  # fmt: skip
    ax.text(0.5, 0.0, s["text"], transform=ax.transAxes, ha="center", va="top", fontsize=7)
    return ax


#: ``draw_backprop_step(fig, graph=..., step=...)``: :func:`plot_backprop_step` on a
#: fresh figure, the drawing function of the widget.
draw_backprop_step = on_axes(plot_backprop_step)


def interactive_backprop() -> InteractiveFigure:
    """Step through the forward and backward pass of a small graph.

    Both graphs have 5 operations, so 12 steps (0 to 11); the website shows every
    step of each (24 frames).

    Examples
    --------
    >>> interactive_backprop().frame_count
    24
    """
    steps = {num_steps(build()[0]) for build in GRAPHS.values()}
    if len(steps) != 1:
        raise ValueError(f"the graphs must have the same number of steps, got {steps}")
    last = steps.pop() - 1
    return InteractiveFigure(
        draw_backprop_step,
        [
            Choice("graph", list(GRAPHS)),
            Slider("step", 0, last, 1, integer=True, static_values=range(last + 1)),
        ],
        figsize=(4.8, 3.4),
        dpi=100,  # small labels on every node: 80 dpi would blur them
        alt="A computational graph with the values and gradients known at one step of "
        "the forward or backward pass",
    )

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.autograd import Tensor, topological_order  # noqa: E402
from nnlib.figures.backprop import (  # noqa: E402
    GRAPHS,
    backprop_state,
    graph_layout,
    interactive_backprop,
    num_steps,
    plot_graph,
)
from nnlib.widgets import Choice, Slider  # noqa: E402


def test_figure_is_light_and_has_the_expected_controls():
    fig = interactive_backprop()
    assert fig.frame_count <= 120
    controls = {c.name: c for c in fig.controls}
    assert isinstance(controls["graph"], Choice) and isinstance(controls["step"], Slider)
    assert controls["step"].grid() == list(range(12))  # the website shows every step


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_figure_draws_at_min_middle_and_max_step(graph):
    fig = interactive_backprop()
    step = next(c for c in fig.controls if c.name == "step")
    titles = [fig.render(graph=graph, step=s).axes[0].get_title() for s in (step.min, 5, step.max)]
    assert titles[0].startswith("Forward pass") and "step 0 of 11" in titles[0]
    assert titles[1].startswith("Forward") and "step 5" in titles[1]
    assert titles[2].startswith("Backward") and "step 11 of 11" in titles[2]


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_last_step_shows_the_gradients_of_torch_autograd(graph):
    state = backprop_state(graph, 99)  # past the end: clipped to the last step
    root = state["root"]
    leaves = state["leaves"]
    ts = {name: torch.tensor(t.item(), dtype=torch.float64, requires_grad=True)
          for name, t in leaves.items()}  # fmt: skip
    # Re-evaluate the same graph in torch by replaying the engine's operations.
    values = {id(t): ts[t.name] for t in leaves.values()}
    funcs = {"*": lambda a, b: a * b, "+": lambda a, b: a + b, "-": lambda a, b: a - b,
             "tanh": torch.tanh, "sigmoid": torch.sigmoid, "**2": lambda a: a**2}  # fmt: skip
    for node in topological_order(root):
        if node.parents:
            values[id(node)] = funcs[node.op](*[values[id(p)] for p in node.parents])
    values[id(root)].backward()
    for name, leaf in leaves.items():
        g, complete = state["grads"][id(leaf)]
        assert complete
        assert abs(g - ts[name].grad.item()) < 1e-12, name


def test_two_path_gradient_is_partial_until_both_paths_are_back():
    n = num_steps(GRAPHS["two paths"]()[0]) // 2 - 1  # 5 operations
    after_q = backprop_state("two paths", n + 3)  # VJPs of f and q done, p not yet
    h = next(t for t in topological_order(after_q["root"]) if t.name == "h")
    g_partial, complete = after_q["grads"][id(h)]
    assert not complete
    after_p = backprop_state("two paths", n + 4)
    h = next(t for t in topological_order(after_p["root"]) if t.name == "h")
    g_full, complete = after_p["grads"][id(h)]
    assert complete and g_full != pytest.approx(g_partial)
    # df/dh = d(v1 h v2 h)/dh = 2 v1 v2 h
    v1, v2 = after_p["leaves"]["v1"].item(), after_p["leaves"]["v2"].item()
    assert g_full == pytest.approx(2 * v1 * v2 * h.item(), abs=1e-12)


def test_forward_steps_reveal_one_value_at_a_time():
    known = [len(backprop_state("neuron", s)["known"]) for s in range(6)]
    assert known == [4, 5, 6, 7, 8, 9]
    assert backprop_state("neuron", 5)["grads"] == {}
    assert "s = \u03c3(u)" in backprop_state("neuron", 3)["text"]


def test_graph_layout_puts_parents_left_of_children():
    x = Tensor(1.0, name="x")
    b = Tensor(2.0, name="b")
    y = (x.exp() * 3.0 + b).tanh()
    pos = graph_layout(y)
    for node in topological_order(y):
        for p in node.parents:
            assert pos[id(p)][0] < pos[id(node)][0]
    assert pos[id(b)][0] == pos[id(y)][0] - 2  # a leaf sits next to its consumer


def test_plot_graph_shows_values_and_gradients():
    f, pos = GRAPHS["two paths"]()
    f.backward()
    ax = plot_graph(Figure().add_subplot(), f, positions=pos, title="two paths")
    texts = [t.get_text() for t in ax.texts]
    assert "h = tanh(z)" in texts and "f = p\u00b7q" in texts
    assert f"g={float(f.grad):.3f}" in texts
    assert ax.get_title() == "two paths"


def test_plot_graph_rejects_bad_input():
    with pytest.raises(ValueError, match="scalar"):
        plot_graph(Figure().add_subplot(), Tensor(np.ones(3)).exp())
    f, pos = GRAPHS["neuron"]()
    with pytest.raises(ValueError, match="positions"):
        plot_graph(Figure().add_subplot(), f, positions={"x": (0, 0)})
    with pytest.raises(ValueError, match="unknown graph"):
        backprop_state("resnet", 0)

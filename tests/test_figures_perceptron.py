import matplotlib

matplotlib.use("Agg")


import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.data import DATASETS, logic_gate  # noqa: E402
from nnlib.figures import perceptron as figures  # noqa: E402
from nnlib.figures.perceptron import (  # noqa: E402
    PLAYGROUND_DEPTHS,
    PLAYGROUND_WIDTHS,
    MLPBundle,
    SideBySide,
    XorWidthSweep,
    interactive_perceptron,
    interactive_playground,
    plot_approximation,
    plot_error_vs_width,
    plot_perceptron,
    plot_success_vs_width,
    summed_bce,
    summed_mse,
    train_playground,
    xor_width_sweep,
)
from nnlib.losses import accuracy, classification_loss  # noqa: E402
from nnlib.mlp import MLP, MLPConfig  # noqa: E402
from nnlib.train import fit  # noqa: E402


def _ax():
    return Figure().add_subplot()


def test_perceptron_figure_draws_at_every_extreme():
    fig = interactive_perceptron()
    assert fig.frame_count <= 150
    assert {c.name for c in fig.controls} == {"w1", "w2", "b", "task"}
    for params in fig.extreme_settings():
        figure = fig.render(**params)
        assert figure.axes[0].get_title().startswith(params["task"])


def test_perceptron_figure_grid_contains_and_or_solutions():
    fig = interactive_perceptron()
    assert fig.render(w1=1.0, w2=1.0, b=-1.5, task="AND").axes[0].get_title().endswith("4/4")
    assert fig.render(w1=1.0, w2=1.0, b=-0.5, task="OR").axes[0].get_title().endswith("4/4")
    grids = {c.name: c.grid() for c in fig.controls}
    assert 1.0 in grids["w1"] and -1.5 in grids["b"] and -0.5 in grids["b"]


@pytest.mark.parametrize("dataset", ["xor", "spirals"])
def test_playground_draws_at_min_and_max(dataset):
    fig = interactive_playground()
    assert {c.name for c in fig.controls} == {"dataset", "width", "depth"}
    assert fig.frame_count <= 150
    for params in (p for p in fig.extreme_settings() if p["dataset"] == dataset):
        title = fig.render(**params).axes[0].get_title()
        assert f"{dataset}, {params['depth']} x {params['width']}:" in title and "%" in title


def test_playground_memoizes_and_learns():
    model_a, acc_a = train_playground("circles", 8, 1)
    model_b, _ = train_playground("circles", 8, 1)
    assert model_a is model_b
    assert acc_a == 1.0
    with pytest.raises(ValueError, match="dataset"):
        train_playground("mnist", 8, 1)


@pytest.mark.parametrize(
    ("gate", "w", "b", "title"),
    [
        ("AND", [1, 1], -1.5, "AND: accuracy 4/4"),
        ("OR", [1, 1], -1.5, "OR: accuracy 2/4"),
        ("XOR", [0, 0], 0.0, "XOR: accuracy 2/4"),  # degenerate: no line, all class 0
        ("XOR", [1, 0], -0.5, "XOR: accuracy 2/4"),  # vertical line
    ],
)
def test_perceptron_plot_counts_correct_points(gate, w, b, title):
    X, y = logic_gate(gate)
    ax = plot_perceptron(_ax(), w, b, X, y, title=gate)
    assert ax.get_title() == title


def test_approximation_and_width_plots():
    x = np.linspace(0, 1, 11)
    ax = plot_approximation(_ax(), x, x, {"a": x**2, "b": x**3})
    assert [ln.get_label() for ln in ax.lines] == ["target", "a", "b"]
    assert ax.get_legend() is not None
    assert plot_approximation(_ax(), x, x, {"a": x**2}, legend=False).get_legend() is None
    ax = plot_error_vs_width(_ax(), [1, 2, 4], [0.3, 0.1, 0.01])
    assert ax.get_yscale() == "log" and ax.get_xlabel().startswith("hidden")
    assert ax.get_legend() is None
    ax = plot_error_vs_width(ax, [2, 16], [0.2, 0.05], label="trained", style=1)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4", "16"]
    first, second = ax.lines
    assert (first.get_color(), first.get_linestyle(), first.get_marker()) != (
        second.get_color(),
        second.get_linestyle(),
        second.get_marker(),
    )
    assert first.get_linestyle() != second.get_linestyle()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["trained"]
    with pytest.raises(ValueError):
        plot_error_vs_width(_ax(), [1, 2], [0.1])


def _members(widths, seeds):
    return [
        MLP(MLPConfig(in_features=2, hidden=[w], out_features=1), seed=s)
        for w in widths
        for s in seeds
    ]


def test_bundle_output_and_gradients_equal_the_members():
    members = _members((1, 2, 5), (0, 3))
    bundle = MLPBundle(members)
    X = torch.randn(7, 2, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 1, 0, 1, 0, 1])
    out = bundle(X)
    assert out.shape == (7, 6)
    summed_bce(out, y).backward()
    start = 0
    for k, m in enumerate(members):
        torch.testing.assert_close(out[:, k : k + 1], m(X), atol=1e-6, rtol=0)
        classification_loss(m(X), y).backward()  # this member's loss alone
        hidden, output = m.linears
        units = slice(start, start + hidden.out_features)
        torch.testing.assert_close(bundle.W1.grad[units], hidden.weight.grad, atol=1e-6, rtol=0)
        torch.testing.assert_close(bundle.b1.grad[units], hidden.bias.grad, atol=1e-6, rtol=0)
        torch.testing.assert_close(bundle.w2.grad[units], output.weight.grad[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(bundle.b2.grad[k : k + 1], output.bias.grad, atol=1e-6, rtol=0)
        start += hidden.out_features


def test_bundle_trained_by_fit_equals_separate_runs():
    """Adam on the bundle gives every member the weights of its own run, to rounding."""
    widths, seeds, steps = (2, 4), (0, 1, 2), 150
    X, y = logic_gate("XOR")
    bundle = MLPBundle(_members(widths, seeds))
    opt = torch.optim.Adam(bundle.parameters(), lr=0.05)
    fit(bundle, X, y, optimizer=opt, loss=summed_bce, steps=steps, eval_every=None)
    sweep = xor_width_sweep(widths, seeds, steps=steps, lr=0.05)
    start = 0
    for k, m in enumerate(_members(widths, seeds)):
        h = fit(
            m, X, y, optimizer=torch.optim.Adam(m.parameters(), lr=0.05), steps=steps,
            metrics={"accuracy": accuracy}, eval_every=None,
        )  # fmt: skip
        units = slice(start, start + m.config.hidden[0])
        start = units.stop
        torch.testing.assert_close(bundle.W1.detach()[units], m.linears[0].weight.detach(),
                                   atol=1e-4, rtol=0)  # fmt: skip
        torch.testing.assert_close(bundle.b2.detach()[k : k + 1], m.linears[1].bias.detach(),
                                   atol=1e-4, rtol=0)  # fmt: skip
        i, j = divmod(k, len(seeds))
        assert sweep.accuracy[i, j] == h.final("train", "accuracy")
        Xt = torch.as_tensor(X, dtype=torch.float32)
        dead = int((torch.relu(m.linears[0](Xt)).amax(0) <= 0).sum())
        assert sweep.dead_units[i, j] == dead


def test_bundle_rejects_bad_members():
    with pytest.raises(ValueError, match="one hidden layer"):
        MLPBundle([MLP(MLPConfig(in_features=2, hidden=[2, 2], out_features=1), seed=0)])
    with pytest.raises(ValueError, match="one hidden layer"):
        MLPBundle([MLP(MLPConfig(in_features=2, hidden=[2], out_features=1, activation="tanh"))])
    with pytest.raises(ValueError, match="in_features"):
        MLPBundle(
            [
                MLP(MLPConfig(in_features=2, hidden=[2], out_features=1), seed=0),
                MLP(MLPConfig(in_features=3, hidden=[2], out_features=1), seed=0),
            ]
        )
    with pytest.raises(ValueError, match="at least one"):
        MLPBundle([])


def test_summed_bce_is_the_sum_of_per_column_losses():
    logits = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([1, 0, 0, 1, 1])
    expected = sum(classification_loss(logits[:, k : k + 1], y) for k in range(3))
    torch.testing.assert_close(summed_bce(logits, y), expected)
    with pytest.raises(ValueError, match="logits"):
        summed_bce(logits, y[:4])


def test_sweep_summary_and_plot():
    acc = np.array([[1.0, 0.75, 0.5, 1.0], [1.0, 1.0, 1.0, 1.0]])
    sweep = XorWidthSweep((2, 8), (0, 1, 2, 3), acc, np.zeros((2, 4), dtype=int))
    assert sweep.successes.tolist() == [2, 4]
    assert sweep.success_rate.tolist() == [0.5, 1.0]
    ax = plot_success_vs_width(_ax(), sweep)
    assert [t.get_text() for t in ax.texts] == ["2/4", "4/4"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "8"]
    assert ax.get_title() and ax.get_xlabel().startswith("hidden") and "4 seeds" in ax.get_ylabel()
    assert ax.get_ylim()[1] > 1.0  # room for the label above a point at 100%
    with pytest.raises(ValueError, match="widths"):
        xor_width_sweep([], range(3))


def test_side_by_side_trained_by_fit_equals_separate_runs():
    """Members of different depths trained together end where their own runs end."""
    X, y = DATASETS["moons"](seed=0)
    hidden = ([4], [4, 4], [8, 3, 2])
    members = [MLP(MLPConfig(in_features=2, hidden=h, out_features=1), seed=0) for h in hidden]
    together = SideBySide(members)
    opt = torch.optim.Adam(together.parameters(), lr=0.03)
    fit(together, X, y, optimizer=opt, loss=summed_bce, steps=40, eval_every=None)
    for h, member in zip(hidden, members, strict=True):
        alone = MLP(MLPConfig(in_features=2, hidden=h, out_features=1), seed=0)
        opt = torch.optim.Adam(alone.parameters(), lr=0.03)
        fit(alone, X, y, optimizer=opt, steps=40, eval_every=None)
        for p, q in zip(member.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(p.detach(), q.detach(), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="at least one"):
        SideBySide([])


def test_summed_mse_is_the_sum_of_per_column_losses():
    out = torch.randn(6, 3, generator=torch.Generator().manual_seed(2))
    y = torch.randn(6, 1, generator=torch.Generator().manual_seed(3))
    expected = sum(torch.nn.functional.mse_loss(out[:, k : k + 1], y) for k in range(3))
    torch.testing.assert_close(summed_mse(out, y), expected)
    torch.testing.assert_close(summed_mse(out, y[:, 0]), expected)
    with pytest.raises(ValueError, match="outputs"):
        summed_mse(out, y[:4])


def test_playground_trains_the_website_grid_of_a_data_set_at_once():
    model, acc = train_playground("moons", 2, 3)
    for w in PLAYGROUND_WIDTHS:
        for d in PLAYGROUND_DEPTHS:
            assert ("moons", w, d, 400, 0.03, 0) in figures._PLAYGROUND
    assert model.config.hidden == (2, 2, 2) and 0.5 <= acc <= 1.0
    # a setting off the grid is trained alone, and memoized too
    assert ("moons", 5, 1, 400, 0.03, 0) not in figures._PLAYGROUND
    train_playground("moons", 5, 1)
    assert ("moons", 5, 1, 400, 0.03, 0) in figures._PLAYGROUND
    assert ("moons", 5, 2, 400, 0.03, 0) not in figures._PLAYGROUND

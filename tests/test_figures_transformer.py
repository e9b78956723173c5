"""nnlib.figures.transformer: tiny configurations, Agg backend."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nnlib.cnn import CNN1D, CNNConfig, num_parameters  # noqa: E402
from nnlib.figures import transformer as ft  # noqa: E402
from nnlib.transformer import EncoderBlock  # noqa: E402


def test_reversal_data_and_exact_match():
    src, tgt = ft.reversal_data(6, length=5, seed=3)
    assert src.shape == tgt.shape == (6, 5)
    assert torch.equal(tgt, src.flip(1))
    assert not torch.equal(src, ft.reversal_data(6, length=5, seed=4)[0])

    class Oracle(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot(x.flip(1), 13).float()  # (B, T, V)

    assert ft.reversal_exact_match(Oracle(), src, tgt) == 1.0
    wrong = tgt.clone()
    wrong[0, 2] = (wrong[0, 2] - 3 + 1) % 10 + 3  # one wrong token spoils one sequence
    assert ft.reversal_exact_match(Oracle(), src, wrong) == pytest.approx(5 / 6)


def test_token_loss_is_cross_entropy_over_positions():
    logits = torch.randn(3, 4, 7)
    targets = torch.randint(0, 7, (3, 4))
    manual = -torch.log_softmax(logits, -1).gather(-1, targets[..., None]).mean()
    torch.testing.assert_close(ft.token_loss(logits, targets), manual)


def test_reversal_transformer_learns_a_short_task():
    model, history, seconds = ft.train_reversal_transformer(
        length=4, num_symbols=3, d_model=16, num_heads=2, d_ff=32, steps=150, lr=3e-3,
        n_train=2000,
    )  # fmt: skip
    assert len(history) == 150 and seconds > 0
    assert history.loss[-1] < 0.5 * history.loss[0]
    src, tgt = ft.reversal_data(200, length=4, num_symbols=3, seed=1)
    assert ft.reversal_exact_match(model, src, tgt) > 0.5


def test_causal_leak_is_zero_only_with_the_mask():
    torch.manual_seed(0)
    block = EncoderBlock(8, 2, 16)
    x = torch.randn(3, 6, 8)
    assert ft.causal_leak(block, x, 3, is_causal=True) == 0.0
    assert ft.causal_leak(block, x, 3, is_causal=False) > 1e-3


def test_make_vit_is_seeded_and_near_the_cnn_in_size():
    a, b = ft.make_vit(seed=1), ft.make_vit(seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    ratio = num_parameters(a) / num_parameters(CNN1D(CNNConfig()))
    assert 0.9 < ratio < 1.0
    assert ft.make_vit(pool="cls").cls is not None


def test_mean_attention_distance_of_uniform_and_local_attention():
    vit = ft.make_vit(num_layers=1)
    X = torch.randn(4, 40)
    d = ft.mean_attention_distance(vit, X)
    assert d.shape == (1, 4)
    # Uniform attention over N patches of P samples: mean |i - j| = (N^2 - 1) / (3N) patches.
    with torch.no_grad():
        for name in ("W_q", "W_k"):
            getattr(vit.encoder.blocks[0].attn, name).weight.zero_()
            getattr(vit.encoder.blocks[0].attn, name).bias.zero_()
    uniform = ft.mean_attention_distance(vit, X)
    np.testing.assert_allclose(uniform, 4 * (100 - 1) / 30, rtol=1e-5)
    # With a class token, it is left out: the value is the same.
    vit_cls = ft.make_vit(num_layers=1, pool="cls")
    with torch.no_grad():
        for name in ("W_q", "W_k"):
            getattr(vit_cls.encoder.blocks[0].attn, name).weight.zero_()
            getattr(vit_cls.encoder.blocks[0].attn, name).bias.zero_()
    np.testing.assert_allclose(ft.mean_attention_distance(vit_cls, X), 13.2, rtol=1e-5)


def test_cnn_layer_fields_grow():
    assert ft.cnn_layer_fields(CNN1D(CNNConfig(layers=2, kernel_size=3), seed=0)) == [3, 8]


def test_positional_encoding_figure_at_every_extreme():
    fig = ft.interactive_positional_encoding()
    for setting in fig.extreme_settings():
        f = Figure(figsize=fig.figsize)
        fig.draw(f, **setting)
        assert len(f.axes) == 3
    assert fig.frame_count <= 40


def test_attention_maps_figure_at_every_extreme():
    maps = [[np.full((2, 3, 3), 1 / 3), np.eye(3)[None].repeat(2, 0)] for _ in range(2)]
    labels = [["a", "b", "c"]] * 2
    fig = ft.interactive_attention_maps({"m": (maps, labels), "n": (maps, labels)}, examples=2)
    for setting in fig.extreme_settings():
        f = Figure(figsize=fig.figsize)
        fig.draw(f, **setting)
        assert len(f.axes) == 2
    assert fig.frame_count == 2 * 2 * 2
    single = ft.interactive_attention_maps({"m": (maps, labels)}, examples=2)
    assert [c.name for c in single.controls] == ["layer", "example"]  # no one-entry menu
    assert single.controls[0].initial == 2  # opens on the last layer
    for setting in single.extreme_settings():
        f = Figure(figsize=single.figsize)
        single.draw(f, **setting)
        assert len(f.axes) == 2


def test_static_plots():
    ax = ft.plot_attention_distance(Figure().add_subplot(), np.ones((2, 3)), [5, 14])
    assert len(ax.lines) == 3 + 1
    ax = ft.plot_token_counts(Figure().add_subplot(), {"chars": 10, "words": 2})
    assert len(ax.patches) == 2


def test_course_pages_reads_the_book_or_falls_back(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("hello tokens")
    assert ft.course_pages(tmp_path) == {"a.md": "hello tokens"}
    with pytest.raises(FileNotFoundError):
        ft.course_pages(tmp_path / "nowhere")

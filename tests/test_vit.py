import pytest
import torch

from nnlib.transformer import TransformerConfig
from nnlib.vit import ViT1D, ViTConfig


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_vit1d_shapes_and_patches(pool):
    torch.manual_seed(0)
    cfg = ViTConfig(
        patch_size=5, pool=pool, transformer=TransformerConfig(d_model=8, num_heads=2, num_layers=2)
    )
    vit = ViT1D(cfg)
    x = torch.arange(80, dtype=torch.float32).view(2, 40)
    assert vit.patches(x)[1, 2].tolist() == [50.0, 51.0, 52.0, 53.0, 54.0]
    logits, ws = vit(x, need_weights=True)
    n = 8 + (pool == "cls")
    assert logits.shape == (2, 10) and len(ws) == 2 and ws[0].shape == (2, 2, n, n)
    logits.sum().backward()
    assert vit.patch_embed.weight.grad.abs().sum() > 0
    if pool == "cls":
        assert vit.cls.grad.abs().sum() > 0


def test_vit1d_errors():
    with pytest.raises(ValueError, match="divide"):
        ViT1D(ViTConfig(patch_size=3))
    with pytest.raises(ValueError, match="pool"):
        ViT1D(ViTConfig(pool="max"))
    with pytest.raises(ValueError, match=r"\(B, 40\)"):
        ViT1D(ViTConfig())(torch.zeros(2, 39))


def test_vit1d_follows_the_positional_choice():
    sin = ViT1D(ViTConfig(transformer=TransformerConfig(d_model=8, num_heads=2)))
    assert not any("pos" in name for name, _ in sin.named_parameters())  # fixed encoding
    learned = ViT1D(
        ViTConfig(
            pool="cls",
            transformer=TransformerConfig(
                d_model=8, num_heads=2, positional="learned", pos_init_std=0.02
            ),
        )
    )
    pe = learned.encoder.pos.pe
    assert pe.shape == (11, 8) and pe.requires_grad and 0.005 < pe.std().item() < 0.05

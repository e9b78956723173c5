"""nnlib.checkpoint: the committed checkpoint keeps its accuracy; bad ones fail clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from nnlib.checkpoint import (
    check_state_dict,
    load_checkpoint,
    pretrained_path,
    read_metadata,
    save_checkpoint,
    sha256_file,
)
from nnlib.cnn import CNN1D, CNNConfig
from nnlib.data import mnist1d
from nnlib.losses import accuracy


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of the committed checkpoint and its metadata, free to damage."""
    src = pretrained_path()
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    shutil.copy(src.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


def test_committed_checkpoint_is_small_and_documented():
    path = pretrained_path()
    meta = read_metadata(path)
    assert path.stat().st_size < 2_000_000
    assert meta["size_bytes"] == path.stat().st_size
    assert meta["sha256"] == sha256_file(path)
    for key in ("seed", "data_seed", "num_samples", "train_size", "heldout_accuracy"):
        assert key in meta, key
    assert meta["torch_version"].split(".")[0] == torch.__version__.split(".")[0]
    assert meta["classes"] == [0, 1, 2, 3, 4]


def test_committed_checkpoint_reaches_its_recorded_accuracy():
    meta = read_metadata(pretrained_path())
    model = CNN1D(CNNConfig(**meta["config"]))
    load_checkpoint(model, pretrained_path())
    # Held-out digits 0-4: a set drawn with a seed the pretraining never used.
    X, y, X_te, y_te = mnist1d(num_samples=meta["heldout_num_samples"], seed=meta["heldout_seed"])
    X, y = torch.cat([X, X_te]), torch.cat([y, y_te])
    keep = y < 5
    assert int(keep.sum()) == meta["heldout_size"]
    assert meta["heldout_seed"] != meta["data_seed"]
    model.eval()
    with torch.no_grad():
        acc = accuracy(model(X[keep]), y[keep])
    assert acc >= meta["heldout_accuracy"] - 0.002  # BLAS rounding may flip a signal or two
    assert acc > 0.95


def test_loading_matches_plain_load_state_dict(copy: Path):
    ours, theirs = CNN1D(CNNConfig(num_classes=5)), CNN1D(CNNConfig(num_classes=5))
    load_checkpoint(ours, copy)
    theirs.load_state_dict(torch.load(copy, weights_only=True))
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    x = torch.randn(7, 40)
    assert torch.equal(ours(x), theirs(x))


def test_save_then_load_round_trip(tmp_path: Path):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    meta = save_checkpoint(model, tmp_path / "m.pt", seed=3)
    assert meta["seed"] == 3 and meta["num_parameters"] == 4 * 3 + 3 + 3 * 2 + 2
    assert json.loads((tmp_path / "m.json").read_text())["sha256"] == meta["sha256"]
    other = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    load_checkpoint(other, tmp_path / "m.pt")
    x = torch.randn(5, 4)
    assert torch.equal(model(x), other(x))


def test_corrupted_file_names_the_bad_checksum(copy: Path):
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad checksum.*sha256"):
        load_checkpoint(CNN1D(CNNConfig(num_classes=5)), copy)


def test_truncated_file_without_checksum_is_unreadable(copy: Path):
    copy.write_bytes(copy.read_bytes()[:1000])
    with pytest.raises(ValueError, match="could not read checkpoint"):
        load_checkpoint(CNN1D(CNNConfig(num_classes=5)), copy, verify=False)


def test_wrong_head_names_the_shapes(copy: Path):
    with pytest.raises(ValueError, match=r"wrong shapes: head.weight has \(5, 32\).*\(10, 32\)"):
        load_checkpoint(CNN1D(CNNConfig(num_classes=10)), copy)


def test_wrong_width_names_every_mismatch(copy: Path):
    with pytest.raises(ValueError, match=r"body.0.weight has \(32, 1, 5\).*\(16, 1, 5\)"):
        load_checkpoint(CNN1D(CNNConfig(channels=16, num_classes=5)), copy)


def test_missing_and_unexpected_keys_are_named(copy: Path):
    with pytest.raises(ValueError, match=r"missing keys \['body.9.weight', 'body.9.bias'\]"):
        load_checkpoint(CNN1D(CNNConfig(layers=4, num_classes=5)), copy)
    with pytest.raises(ValueError, match=r"unexpected keys \['body.6.weight', 'body.6.bias'\]"):
        load_checkpoint(CNN1D(CNNConfig(layers=2, num_classes=5)), copy)


def test_check_state_dict_lists_every_problem():
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError) as err:
        check_state_dict(model, {"weight": torch.zeros(2, 4), "extra": torch.zeros(1)})
    text = str(err.value)
    assert "missing keys ['bias']" in text
    assert "unexpected keys ['extra']" in text
    assert "weight has (2, 4), the model expects (2, 3)" in text


def test_missing_files_and_unknown_names(tmp_path: Path, copy: Path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_checkpoint(nn.Linear(1, 1), tmp_path / "absent.pt")
    copy.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match="no metadata file"):
        load_checkpoint(CNN1D(CNNConfig(num_classes=5)), copy)
    with pytest.raises(ValueError, match="unknown pretrained checkpoint"):
        pretrained_path("resnet50")


def test_weights_only_refuses_arbitrary_objects(tmp_path: Path):
    path = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2, 3), "bias": torch.zeros(2), "obj": Path(".")}, path)
    save_meta = {"sha256": sha256_file(path)}
    path.with_suffix(".json").write_text(json.dumps(save_meta))
    with pytest.raises(ValueError, match="could not read checkpoint"):
        load_checkpoint(nn.Linear(3, 2), path)

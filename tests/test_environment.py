"""The set-up files agree with each other: lock file, Binder environment, pyproject."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(text: str) -> dict[str, str]:
    pins = re.findall(r"^[\s-]*([A-Za-z0-9_.\-]+)==([^\s#]+)", text, flags=re.M)
    return {name.lower().replace("_", "-"): version for name, version in pins}


LOCK = _pins((ROOT / "requirements-lock.txt").read_text())


def test_lock_pins_the_cpu_torch_and_jupyter_book_1():
    assert LOCK["torch"] == "2.13.0"
    assert LOCK["jupyter-book"].startswith("1.")


def test_binder_environment_uses_the_locked_versions():
    env = _pins((ROOT / "environment.yml").read_text())
    assert env, "environment.yml pins nothing"
    mismatched = {k: (v, LOCK.get(k)) for k, v in env.items() if LOCK.get(k) != v}
    assert mismatched == {}


def test_binder_installs_nnlib_after_the_environment():
    assert "pip install --no-deps -e ." in (ROOT / "postBuild").read_text()


def test_every_runtime_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ ]", d)[0].lower() for d in project["dependencies"]]
    missing = [n for n in names if n not in LOCK]
    assert missing == []

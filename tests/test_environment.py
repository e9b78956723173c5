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


def _names(requirements: list[str]) -> list[str]:
    return [re.split(r"[<>=!~ \[;]", r)[0].lower().replace("_", "-") for r in requirements]


def test_every_runtime_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    missing = [n for n in _names(project["dependencies"]) if n not in LOCK]
    assert missing == []


def test_every_course_and_test_dependency_is_locked():
    # make setup installs only the lock file: a tool missing from it is missing in CI.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = extras["optional-dependencies"]
    missing = {k: [n for n in _names(v) if n not in LOCK] for k, v in extras.items()}
    assert missing == {"course": [], "test": []}

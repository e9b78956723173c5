from nnlib.train import progress, progress_enabled


def test_progress_env_switch(monkeypatch):
    monkeypatch.setenv("NNLIB_PROGRESS", "0")
    assert not progress_enabled()
    bar = progress(range(3))
    assert bar.disable
    assert list(bar) == [0, 1, 2]
    monkeypatch.setenv("NNLIB_PROGRESS", "1")
    assert progress_enabled()
    assert not progress(range(3)).disable
    assert progress(range(3), disable=True).disable
    monkeypatch.delenv("NNLIB_PROGRESS")
    assert progress_enabled()

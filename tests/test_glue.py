import pytest

from nnlib.glue import _Text, glue


def test_glue_formats_and_names_are_checked():
    assert glue("steps_sgd", 4314, ",d") == "4,314"
    assert glue("best_lr", 0.03, "g") == "0.03"
    assert repr(_Text("1.5%")) == "1.5%"  # shown on the page without quotes
    with pytest.raises(ValueError, match="identifier"):
        glue("two words", 1)

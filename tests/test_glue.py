from ast import literal_eval

import pytest

from nnlib.glue import glue


def test_glue_formats_and_names_are_checked():
    assert glue("steps_sgd", 4314, ",d") == "4,314"
    assert glue("best_lr", 0.03, "g") == "0.03"
    # myst-nb reads a glued value back with literal_eval of its repr: the text survives.
    assert literal_eval(repr(glue("big", 2436193, ",d"))) == "2,436,193"
    with pytest.raises(ValueError, match="identifier"):
        glue("two words", 1)

"""nbgrader configuration read by ``nbgrader formgrader`` or JupyterLab started here.

Run ``cd grading && ../.venv/bin/jupyter lab`` and open *Nbgrader > Formgrader* to
grade the written answers by hand. The settings themselves live in
``grading/config.py``, shared with ``python -m grading``.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))  # the repository root, so `grading` imports

from grading.config import make_config  # noqa: E402

c = get_config()  # noqa: F821 (defined by traitlets when it reads this file)
c.merge(make_config(_HERE))

"""Each chapter's experiments and drawings, one module per chapter, named by topic.

======================  =========================================================
module                  chapter
======================  =========================================================
``perceptron``          1. perceptron widget, MLP playground, approximation plots
``backprop``            2. computational graphs drawn step by step
``optimizers``          3. optimizers on 2-D surfaces and on digits
``regularization``      4. the overfitting moons setting, penalties, dropout
``propagation``         5. signal statistics, PCA on digits, deep stacks trained
======================  =========================================================

These modules build on the core of :mod:`nnlib` (the mechanisms each chapter
teaches, checked against PyTorch); the core never imports them.
"""

"""Settings for every test and doctest of the repository."""

import torch

# The course's models are tiny: a second thread only adds synchronization, and on a
# 2-core machine with two test workers it makes every small matrix product wait.
torch.set_num_threads(1)

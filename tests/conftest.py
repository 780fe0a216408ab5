import matplotlib
import pytest
import torch

matplotlib.use("Agg")
# Tiny networks train several times faster on one thread than on two (see scripts/test.sh).
torch.set_num_threads(1)


@pytest.fixture
def run_root(tmp_path):
    """A fresh root folder for run folders."""
    return tmp_path / "runs"

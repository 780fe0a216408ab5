import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture
def run_root(tmp_path):
    """A fresh root folder for run folders."""
    return tmp_path / "runs"

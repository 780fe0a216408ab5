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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``, as scripts/test.sh runs it), keep the tests that share a
    module- or session-scoped fixture of their module on one worker, so that the fixture (a training at a
    notebook's size, say) is computed once, not once per worker."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = [d for defs in info.name2fixturedefs.values() for d in defs
                  if d.scope in ("module", "session") and d.baseid and item.nodeid.startswith(d.baseid)
                  and d.baseid.endswith(".py")]
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))

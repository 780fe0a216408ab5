"""No lab run touches the global random state of torch or NumPy.

Library code draws only from generators it is given (``torch.Generator().manual_seed(seed)``,
``np.random.default_rng(seed)``); a ``torch.randn`` without ``generator=``, an ``nn.Module`` initialised
without one, ``torch.manual_seed`` or ``np.random.seed`` changes the global state, so a student's own
random draws in a notebook would change with every lab they run. The quick runs are those of
tests/test_conformance.py (each lab runs once per test session).
"""

from __future__ import annotations

import pytest

from test_conformance import NAMES, completed_run


@pytest.mark.parametrize("name", NAMES)
def test_lab_leaves_the_global_rng_alone(name):
    record = completed_run(name)
    changed = [which for which, flag in (("torch.get_rng_state()", record.torch_rng_changed),
                                         ("np.random.get_state()", record.numpy_rng_changed)) if flag]
    assert not changed, (
        f"{name}: a quick run changed the global random state ({', '.join(changed)}); draw only from an explicit "
        "torch.Generator / np.random.default_rng, and build every nn.Module with generator=")

"""A lab's memory, estimated from its config before it allocates, against what the machine has.

    guard("sparse", need_bytes, key="n")   # ConfigError (exit 2) when need > half the available memory

The estimate counts the large tensors a lab holds at once (a sensing matrix, a batch of signals and their
iterates); it is an order of magnitude, written next to the allocation it describes. The available memory is
``MemAvailable`` of ``/proc/meminfo`` (Linux), else the free physical pages (``os.sysconf``); where neither
can be read nothing is refused. Half of it is the limit, so that the run, the interpreter and the rest of the
machine keep room.
"""

from __future__ import annotations

import os

from dlsm.errors import ConfigError
from dlsm.i18n import t

#: The share of the available memory a run may plan to use.
SHARE = 0.5


def available_bytes() -> int | None:
    """Memory the machine can give now (bytes), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.0f} MiB"


def guard(lab: str, need: float, key: str) -> None:
    """Refuse a run whose estimated memory ``need`` (bytes) exceeds ``SHARE`` of the available memory."""
    have = available_bytes()
    if have is not None and need > SHARE * have:
        raise ConfigError(t("common.err.memory", lab=lab, need=gib(need), have=gib(have), limit=gib(SHARE * have),
                            key=key), key=key)

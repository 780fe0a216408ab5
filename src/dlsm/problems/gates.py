"""Logic gates as a learning problem: truth tables and the course's mini-batch sampler.

A two-input gate is a function g: {0,1}² -> {0,1}. Its truth table lists g at the four inputs in the
order (a, b) = (0,0), (0,1), (1,0), (1,1); that column of four bits *is* the gate, so the sampler
looks the target up in it: y = table[2a + b].

Course (lecture 2): mini-batches of 5 random inputs, each bit an independent Bernoulli(0.5) draw,
targets from the gate; exercise 2-1 learns AND, 2-4 OR, 2-5 XOR.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

from dlsm.errors import ConfigError

GateName = Literal["and", "or", "nand", "nor", "xor", "xnor"]
GATE_NAMES: tuple[str, ...] = get_args(GateName)

#: The four inputs (a, b) in truth-table order.
INPUTS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (1, 0), (1, 1))

#: g(a, b) at the four INPUTS, for each gate.
TRUTH_TABLES: dict[str, tuple[int, int, int, int]] = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
}

#: Gates that one affine map followed by a threshold can compute (a line separates the 0s from the 1s).
LINEARLY_SEPARABLE: frozenset[str] = frozenset({"and", "or", "nand", "nor"})


def _check_gate(gate: str) -> None:
    if gate not in TRUTH_TABLES:
        raise ConfigError.not_one_of("gate", gate, GATE_NAMES)


def truth_table(gate: str, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole truth table as a batch: inputs X (4, 2) in INPUTS order and targets y (4, 1)."""
    _check_gate(gate)
    X = torch.tensor(INPUTS, dtype=dtype)  # (4, 2)
    y = torch.tensor(TRUTH_TABLES[gate], dtype=dtype).unsqueeze(1)  # (4, 1)
    return X, y


def gate_targets(gate: str, X: torch.Tensor) -> torch.Tensor:
    """g(a, b) for a batch of bit pairs X (batch, 2) with entries 0/1; returns (batch, 1) in X's dtype."""
    _check_gate(gate)
    bits = X.round().long()  # (batch, 2)
    index = 2 * bits[:, 0] + bits[:, 1]  # (batch,) row of the truth table
    table = torch.tensor(TRUTH_TABLES[gate], dtype=X.dtype)  # (4,)
    return table[index].unsqueeze(1)  # (batch, 1)


def sample_batch(gate: str, batch_size: int, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's mini-batch: ``batch_size`` inputs with i.i.d. Bernoulli(0.5) bits, and their targets.

    Returns X (batch_size, 2) and y (batch_size, 1), both in ``dtype``.
    """
    X = torch.randint(0, 2, (batch_size, 2), generator=generator).to(dtype)  # (batch, 2)
    return X, gate_targets(gate, X)

"""Classifier-free guidance (Ho & Salimans 2022): one network, conditional and unconditional, mixed at sampling.

Training replaces each label c by the null class ∅ with probability p_∅ (:func:`drop_labels`), so one network
learns both ε̂(x_t, t, c) and ε̂(x_t, t, ∅). Sampling uses, at every reverse step,

    ε̃(x_t, t, c) = ε̂(x_t, t, ∅) + s · (ε̂(x_t, t, c) − ε̂(x_t, t, ∅)),

the guidance scale s as in Stable Diffusion and diffusers (s = 0: the unconditional model, s = 1: the
conditional one, s > 1: guided; the paper's w is s − 1). Since ε̂ ∝ −∇ log p(x_t | c), s > 1 samples from
p(x_t) p(c | x_t)^s up to normalisation: more typical members of the class, at the cost of diversity.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: ε̂(x_t, t, c) of a class-conditional network.
ConditionalModel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def drop_labels(c: torch.Tensor, p_null: float, null: int, generator: torch.Generator) -> torch.Tensor:
    """Labels c (batch,) with each replaced by ``null`` with probability ``p_null`` (drawn from ``generator``)."""
    if p_null <= 0:
        return c
    drop = torch.rand(c.shape, generator=generator).to(c.device) < p_null  # (batch,)
    return torch.where(drop, torch.full_like(c, null), c)


def guided(model: ConditionalModel, c: torch.Tensor, scale: float, null: int
           ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The noise model ε̃(x, t) of the samplers for the classes c (batch,) at guidance scale ``scale``.

    s = 1 asks the conditional network once, s = 0 the unconditional one once; otherwise both in one batch.
    """
    null_c = torch.full_like(c, null)

    def eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if scale == 1:
            return model(x, t, c)
        if scale == 0:
            return model(x, t, null_c)
        both = model(torch.cat([x, x]), torch.cat([t, t]), torch.cat([c, null_c]))  # (2 batch, ...)
        e_c, e_null = both.chunk(2)
        return e_null + scale * (e_c - e_null)
    return eps

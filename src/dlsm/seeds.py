"""Named random streams derived from a run's seed.

A lab draws from several independent streams (the training data, the test data, the network's initial
weights, the sampler's noise). Each gets its own ``torch.Generator`` seeded from the run's seed and the
stream's name::

    from dlsm.seeds import generator, stream_seed
    g_test = generator(config.seed, "judge")             # torch.Generator
    channel = stream_seed(config.seed, "train_channel", restart=r)

Every stream is named in :data:`OFFSETS`, one table for the package, in place of offsets written by hand
at each call. The offsets are the ones the labs used before the table existed, so that the same config and
seed give the same numbers as before; ``restart=r`` (several independent copies of one stream, such as
the training restarts of TPG) adds ``r`` times :data:`RESTART_STRIDE`. A new stream takes an offset that no
other stream of the same lab uses.
"""

from __future__ import annotations

import torch

#: Stream name -> offset added to the run's seed.
OFFSETS: dict[str, int] = {
    "main": 0,
    "second": 1,             # a lab's second independent stream (sparse's test signals, VAE's ε, samples)
    "third": 2,              # diffusion's variance fit and evaluation noise; VAE's evaluation ε
    "fourth": 3,             # VAE's prior samples
    "judge": 7919,           # the digit judge (lecture-3 CNN) that scores generated digits
    "init": 1_000_003,       # initial weights (mimo's TPG); training batches (unfold)
    "train_channel": 2_000_003,
    "eval_channel": 3_000_017,
    "validation_channel": 4_000_037,
    "autoencoder": 5_000_011,  # latent diffusion's autoencoder: its weights, batches and ε
    "epnet_channel": 6_000_011,  # mimo's EP-Net: its training channels and symbols
}

#: Offset between two restarts of the same stream.
RESTART_STRIDE = 10_000_019


def stream_seed(seed: int, name: str, restart: int = 0) -> int:
    """The seed of stream ``name`` (copy ``restart``) of a run with ``seed``."""
    if name not in OFFSETS:
        raise KeyError(f"unknown random stream {name!r}; streams: {', '.join(OFFSETS)}")
    return seed + OFFSETS[name] + RESTART_STRIDE * restart


def generator(seed: int, name: str, restart: int = 0, device: torch.device | str | None = None) -> torch.Generator:
    """A fresh ``torch.Generator`` (on ``device``) seeded with :func:`stream_seed`."""
    g = torch.Generator(device=device) if device is not None else torch.Generator()
    return g.manual_seed(stream_seed(seed, name, restart))

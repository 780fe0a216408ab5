"""Flow matching with the straight path (rectified flow): training loss and a deterministic Euler sampler.

Conditional flow matching (Lipman, Chen, Ben-Hamu, Nickel & Le, ICLR 2023) with the straight ("rectified flow",
Liu, Gong & Liu, ICLR 2023) interpolation between the data x_0 and the noise ε ~ N(0, I):

    x_t = (1 − t) x_0 + t ε,   t ~ U(0, 1),       the target velocity   v = dx_t/dt = ε − x_0,

and the network v̂(x_t, t) is trained on the loss (:func:`flow_matching_loss`)

    L = E_{t, x_0, ε} ‖v − v̂(x_t, t)‖²   (averaged over entries).

Its minimiser is v*(x, t) = E[ε − x_0 | x_t = x], the velocity of an ODE dx/dt = v*(x, t) whose solution carries
x_1 ~ N(0, I) at t = 1 to the data distribution at t = 0 (the marginals of x_t are preserved). :class:`EulerSampler`
integrates it backwards in K equal steps h = 1/K, t_i = i/K:

    x_{t_{i−1}} = x_{t_i} − h v̂(x_{t_i}, t_i),   i = K, ..., 1,

deterministic after x_1 (the same x_1 gives the same x_0), as DDIM with η = 0 is.

Time as the networks see it: the ε-networks of :mod:`dlsm.models.denoisers` embed an integer DDPM step 0..T−1
(sinusoidally, or by a table for the course's network), large steps being noise. Flow matching asks them at
``time_scale · t`` with ``time_scale = T − 1``: t = 1 (noise) is the step T − 1 and t = 0 (data) the step 0, so the
network sees the same range of inputs as under DDPM. The sinusoidal embeddings take the real number unchanged; the
course's embedding table rounds it down to an integer step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: v̂ = model(x_t, s): the velocity predicted for the batch x_t (batch, ...) at the network times s = scale · t (batch,).
VelocityModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def interpolate(x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 − t) x_0 + t ε for each row at its own time t (batch,) in [0, 1]."""
    tt = t.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))  # (batch, 1, ...)
    return (1 - tt) * x0 + tt * eps


def target_velocity(x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """v = dx_t/dt = ε − x_0 of the straight path (the same at every t)."""
    return eps - x0


def draw_times(batch: int, generator: torch.Generator, antithetic: bool = True,
               device: torch.device | str = "cpu") -> torch.Tensor:
    """Training times t (batch,) uniform on [0, 1); ``antithetic``: half drawn, half 1 − t (as DDPM's steps)."""
    if not antithetic:
        return torch.rand(batch, generator=generator).to(device)
    half = torch.rand((batch + 1) // 2, generator=generator)
    return torch.cat([half, 1 - half])[:batch].to(device)


def flow_matching_loss(model: VelocityModel, x0: torch.Tensor, generator: torch.Generator,
                       time_scale: float = 1.0, antithetic: bool = True) -> torch.Tensor:
    """E_{t, ε} ‖(ε − x_0) − v̂((1 − t) x_0 + t ε, time_scale · t)‖², averaged over entries.

    t and ε are drawn from ``generator`` (a CPU generator), then moved to x0's device; the network is asked at
    ``time_scale · t`` (see the module docstring).
    """
    t = draw_times(len(x0), generator, antithetic, x0.device)  # (batch,)
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)  # (batch, ...)
    x_t = interpolate(x0, eps, t)
    return ((target_velocity(x0, eps) - model(x_t, time_scale * t)) ** 2).mean()


class EulerSampler:
    """K Euler steps of dx/dt = v̂(x, t) from t = 1 (x_1 ~ N(0, I)) to t = 0 (see the module docstring).

    Args:
        steps: K, the number of Euler steps (h = 1/K).
        time_scale: the network is asked at ``time_scale · t`` (T − 1 for a network of T DDPM steps).
    """

    def __init__(self, steps: int, time_scale: float = 1.0) -> None:
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        self.K, self.time_scale = int(steps), float(time_scale)

    @property
    def steps(self) -> int:
        """K, the number of reverse steps."""
        return self.K

    def time(self, i: int) -> float:
        """t_i = i/K, the time of the sampler's step i (i = K: noise, i = 0: data)."""
        return i / self.K

    def step(self, v_hat: torch.Tensor, i: int, x: torch.Tensor) -> torch.Tensor:
        """One step x_{t_i} -> x_{t_{i−1}} = x_{t_i} − h v̂(x_{t_i}, t_i) (i = 1..K)."""
        return x - v_hat / self.K

    @torch.no_grad()
    def sample(self, model: VelocityModel, shape: tuple[int, ...], generator: torch.Generator,
               device: torch.device | str = "cpu", keep: tuple[int, ...] = (),
               x_T: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """x_1 ~ N(0, I) (or the given ``x_T``), then K Euler steps down to x_0.

        Returns ``(x_0, kept)`` where ``kept[i]`` is a CPU copy of x_{t_i} for each i in ``keep`` (i = K is the
        starting noise, i = 0 the result), numbered as a respaced DDPM sampler numbers its steps.
        """
        x = torch.randn(shape, generator=generator, device=device) if x_T is None else x_T.to(device)
        kept = {self.K: x.detach().cpu().clone()} if self.K in keep else {}
        for i in range(self.K, 0, -1):
            s = torch.full((x.shape[0],), self.time_scale * self.time(i), device=x.device)  # (batch,)
            x = self.step(model(x, s), i, x)
            if i - 1 in keep:
                kept[i - 1] = x.detach().cpu().clone()
        return x, kept

"""Backpropagation from scratch: a multilayer perceptron in NumPy with its forward and backward pass.

The network (lecture 1-2: "a layer is an affine map followed by an activation") with widths
(n_0, ..., n_L) computes, for a batch of inputs stacked as rows of X,

    h_0 = X,   u_l = h_{l-1} W_lᵀ + b_l,   h_l = φ_l(u_l)   (l = 1..L),   ŷ = h_L,

with W_l of shape (n_l, n_{l-1}) and b_l of shape (n_l,). Training minimises a loss L(ŷ, y).

Backpropagation (lecture 2) is the chain rule applied from the output back to the input. Write
δ_l = ∂L/∂u_l (one row per example). Starting from ∂L/∂h_L = ∂L/∂ŷ, for l = L, L-1, ..., 1:

    δ_l         = ∂L/∂h_l ⊙ φ_l'(u_l)        (through the element-wise activation)
    ∂L/∂W_l     = δ_lᵀ h_{l-1}                (sum over the batch of outer products)
    ∂L/∂b_l     = Σ_batch δ_l
    ∂L/∂h_{l-1} = δ_l W_l                     (through the affine map, to the layer below)

The forward pass keeps (h_{l-1}, u_l) of every layer, because the backward pass needs them. Everything
is float64; :func:`finite_difference_gradients` and PyTorch's autograd (in the tests and the
``backprop`` lab) check the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dlsm.algorithms.activations import ACTIVATIONS

# ----- activations φ, each next to its derivative φ': the shared registry, NumPy side (np_f, np_df) ---
# (dlsm.algorithms.activations defines them once for this network, the torch networks and the activations lab)


# ----- losses L(ŷ, y), each next to its gradient ∂L/∂ŷ ---------------------------------------------
def mse(y_hat: np.ndarray, y: np.ndarray) -> float:
    """L = mean over all entries of (ŷ - y)² (PyTorch's MSELoss, the course's loss)."""
    return float(np.mean((y_hat - y) ** 2))


def mse_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂L/∂ŷ = 2 (ŷ - y) / N, N = number of entries."""
    return 2.0 * (y_hat - y) / y_hat.size


def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    """L = -mean[y log ŷ + (1 - y) log(1 - ŷ)] (binary cross-entropy, ŷ in (0, 1))."""
    return float(-np.mean(y * np.log(y_hat) + (1.0 - y) * np.log(1.0 - y_hat)))


def bce_grad(y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂L/∂ŷ = (ŷ - y) / (ŷ (1 - ŷ)) / N."""
    return (y_hat - y) / (y_hat * (1.0 - y_hat)) / y_hat.size


@dataclass(frozen=True)
class Loss:
    """A loss L(ŷ, y) and its gradient with respect to ŷ."""

    name: str
    f: Callable[[np.ndarray, np.ndarray], float]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]


LOSSES: dict[str, Loss] = {"mse": Loss("mse", mse, mse_grad), "bce": Loss("bce", bce, bce_grad)}


# ----- the network ----------------------------------------------------------------------------------
@dataclass
class LayerCache:
    """What the forward pass keeps of layer l for the backward pass: its input and pre-activation."""

    h_prev: np.ndarray  # (batch, n_{l-1})  input h_{l-1}
    u: np.ndarray  # (batch, n_l)       pre-activation u_l = h_{l-1} W_lᵀ + b_l


class NumpyMLP:
    """A multilayer perceptron with parameters ``W[l]`` (n_l, n_{l-1}) and ``b[l]`` (n_l,), l = 0..L-1.

    ``activation`` is applied after every hidden layer, ``output_activation`` after the last one
    (names from :data:`ACTIVATIONS`). The same network in PyTorch is
    ``dlsm.models.mlp.MLP(widths, activation, output_activation)`` with ``linears[l].weight = W[l]``.
    """

    def __init__(self, W: Sequence[np.ndarray], b: Sequence[np.ndarray], activation: str = "sigmoid",
                 output_activation: str = "sigmoid") -> None:
        if len(W) != len(b) or not W:
            raise ValueError(f"need as many weight matrices as bias vectors (got {len(W)} and {len(b)})")
        self.W = [np.array(w, dtype=np.float64) for w in W]
        self.b = [np.array(v, dtype=np.float64) for v in b]
        self.phi = [ACTIVATIONS[activation]] * (len(W) - 1) + [ACTIVATIONS[output_activation]]

    @classmethod
    def init(cls, widths: Sequence[int], rng: np.random.Generator, activation: str = "sigmoid",
             output_activation: str = "sigmoid") -> NumpyMLP:
        """Random parameters as PyTorch's nn.Linear: W_l, b_l ~ Uniform(±1/sqrt(n_{l-1}))."""
        W, b = [], []
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            bound = 1.0 / np.sqrt(n_in)
            W.append(rng.uniform(-bound, bound, size=(n_out, n_in)))
            b.append(rng.uniform(-bound, bound, size=n_out))
        return cls(W, b, activation, output_activation)

    @property
    def params(self) -> list[np.ndarray]:
        """[W_1, b_1, W_2, b_2, ...]: the arrays themselves (updating them updates the network)."""
        return [p for pair in zip(self.W, self.b, strict=True) for p in pair]

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[LayerCache]]:
        """ŷ for the batch X (batch, n_0), and the per-layer cache the backward pass needs."""
        h = X  # (batch, n_0)
        caches = []
        for W, b, phi in zip(self.W, self.b, self.phi, strict=True):
            u = h @ W.T + b  # (batch, n_l)  affine map
            caches.append(LayerCache(h_prev=h, u=u))
            h = phi.np_f(u)  # (batch, n_l)  activation
        return h, caches

    def backward(self, caches: list[LayerCache], dL_dyhat: np.ndarray) -> tuple[list, list]:
        """The chain rule from ∂L/∂ŷ (batch, n_L) down to every parameter: returns (dW, db) lists."""
        dW: list[np.ndarray] = [np.empty(0)] * len(self.W)
        db: list[np.ndarray] = [np.empty(0)] * len(self.b)
        dL_dh = dL_dyhat  # (batch, n_L)  ∂L/∂h_L
        for l in reversed(range(len(self.W))):
            cache = caches[l]
            delta = dL_dh * self.phi[l].np_df(cache.u)  # (batch, n_l)      δ_l = ∂L/∂u_l
            dW[l] = delta.T @ cache.h_prev  # (n_l, n_{l-1})          ∂L/∂W_l
            db[l] = delta.sum(axis=0)  # (n_l,)                       ∂L/∂b_l
            dL_dh = delta @ self.W[l]  # (batch, n_{l-1})             ∂L/∂h_{l-1}
        return dW, db

    def loss_and_gradients(self, X: np.ndarray, y: np.ndarray, loss: Loss) -> tuple[float, list, list]:
        """L(ŷ, y) with ŷ = f(X), and its gradients (dW, db) by backpropagation."""
        y_hat, caches = self.forward(X)
        dW, db = self.backward(caches, loss.grad(y_hat, y))
        return loss.f(y_hat, y), dW, db

    def gradient_descent_step(self, dW: list[np.ndarray], db: list[np.ndarray], lr: float) -> None:
        """θ ← θ - lr ∂L/∂θ for every parameter (lecture 1's gradient descent), in place."""
        for l in range(len(self.W)):
            self.W[l] -= lr * dW[l]
            self.b[l] -= lr * db[l]


# ----- checking the gradients -----------------------------------------------------------------------
def finite_difference_gradients(net: NumpyMLP, X: np.ndarray, y: np.ndarray, loss: Loss,
                                eps: float = 1e-5) -> list[np.ndarray]:
    """Central differences ∂L/∂θ_i ≈ (L(θ + ε e_i) - L(θ - ε e_i)) / 2ε for every entry of every
    parameter, in the order of ``net.params``; error O(ε²) plus rounding O(machine eps / ε)."""
    grads = []
    for p in net.params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + eps
            plus = loss.f(net.forward(X)[0], y)
            p[i] = saved - eps
            minus = loss.f(net.forward(X)[0], y)
            p[i] = saved
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a - b‖ / max(‖a‖, ‖b‖) (Frobenius norms); 0 when both are zero."""
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / scale)

"""The training engine: oracle checks against a bare PyTorch loop, EMA, clipping, NaN-safety, early stopping,
checkpoint and resume (bitwise on the CPU), incremental training."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlsm.status import Status
from dlsm.training import (
    EpochBatches,
    Generation,
    RunInterrupted,
    RunSession,
    Trainer,
    load_training_checkpoint,
    make_optimizer,
    train_incremental,
)


def _data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 3, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(64, 1, generator=g)
    return X, y


def _model(seed: int = 1) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.5, 0.5, generator=g)
    return net


def _trainer(net, X, y, steps, g, **kw):
    batches = EpochBatches(len(X), 16, g)
    return Trainer(net, lambda m, idx: F.mse_loss(m(X[idx]), y[idx]), batches,
                   make_optimizer("adam", net.parameters(), 1e-2), steps, generators={"data": g}, **kw)


def test_engine_equals_a_bare_pytorch_loop():
    X, y = _data()
    net_a, net_b = _model(), _model()
    g_a, g_b = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    log = _trainer(net_a, X, y, 40, g_a).run()
    opt = torch.optim.Adam(net_b.parameters(), lr=1e-2)
    losses = []
    for _epoch in range(10):  # 64 / 16 = 4 batches per epoch, 40 steps
        order = torch.randperm(64, generator=g_b)
        for b in range(4):
            idx = order[16 * b:16 * (b + 1)]
            loss = F.mse_loss(net_b(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert log.status == Status.COMPLETED and log.steps_done == 40
    assert log.losses == losses
    for pa, pb in zip(net_a.parameters(), net_b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_ema_follows_its_definition_and_is_evaluated():
    X, y = _data()
    net = _model()
    seen = []
    tr = _trainer(net, X, y, 5, torch.Generator().manual_seed(0), ema_decay=0.9,
                  evaluate=lambda m: seen.append(m) or {"w": float(m[0].weight[0, 0])})
    # oracle: θ̄_1 = θ_1, θ̄_k = 0.9 θ̄_{k-1} + 0.1 θ_k, tracked by hand beside the trainer
    ref = None
    orig_step = tr.optimizer.step

    def step_and_track(*a, **k):
        nonlocal ref
        out = orig_step(*a, **k)
        w = net[0].weight.detach().clone()
        ref = w if ref is None else 0.9 * ref + 0.1 * w
        return out

    tr.optimizer.step = step_and_track
    tr.run()
    assert seen and seen[-1] is tr.ema.module
    torch.testing.assert_close(tr.ema.module[0].weight, ref)
    assert not torch.equal(tr.ema.module[0].weight, net[0].weight)


def test_clipping_bounds_the_update_of_sgd():
    X, y = _data()
    net = _model()
    before = [p.detach().clone() for p in net.parameters()]
    batches = EpochBatches(64, 64, torch.Generator().manual_seed(0), shuffle=False)
    tr = Trainer(net, lambda m, idx: 1e6 * F.mse_loss(m(X[idx]), y[idx]), batches,
                 make_optimizer("sgd", net.parameters(), 1.0), 1, clip_grad_norm=0.5)
    tr.run()
    step = torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(net.parameters(), before, strict=True)))
    assert float(step) == pytest.approx(0.5, rel=1e-5)  # lr 1 × gradient clipped to norm 0.5


def test_nonfinite_gradients_are_skipped_and_counted():
    X, y = _data()
    net = _model()
    calls = {"n": 0}

    def loss_fn(m, idx):
        calls["n"] += 1
        loss = F.mse_loss(m(X[idx]), y[idx])
        return loss * float("nan") if calls["n"] % 3 == 0 else loss

    tr = Trainer(net, loss_fn, EpochBatches(64, 16, torch.Generator().manual_seed(0)),
                 make_optimizer("adam", net.parameters(), 1e-2), 9, skip_nonfinite=True)
    log = tr.run()
    assert log.status == Status.COMPLETED and log.skipped == 3 and len(log.losses) == 6
    assert all(math.isfinite(p.abs().sum().item()) for p in net.parameters())


def test_early_stopping_and_best_model():
    X, y = _data()
    net = _model()
    values = iter([3.0, 2.0, 2.5, 2.6, 2.7, 1.0, 0.5])
    tr = _trainer(net, X, y, 100, torch.Generator().manual_seed(0), evaluate=lambda m: {"v": next(values)},
                  eval_every=5, monitor="v", patience=3)
    log = tr.run()
    assert log.steps_done == 25 and "stopped early" in log.message  # 2.0 at step 10, then 3 worse
    assert tr.best["step"] == 10 and tr.best["value"] == 2.0


def test_divergence_is_reported():
    X, y = _data()
    net = _model()
    tr = Trainer(net, lambda m, idx: F.mse_loss(m(X[idx]), y[idx]), EpochBatches(64, 64, torch.Generator()),
                 make_optimizer("sgd", net.parameters(), 50.0), 200)
    assert tr.run().status == Status.DIVERGED


def _train_with_session(tmp, steps, resume=None, stop_after=None, every=7):
    X, y = _data()
    net = _model()
    g = torch.Generator().manual_seed(3)
    with RunSession(tmp, lab="test", resume=resume, checkpoint_every=every, checkpoint_seconds=None):
        tr = _trainer(net, X, y, steps, g, ema_decay=0.95, evaluate=lambda m: {"mse": F.mse_loss(m(X), y).item()},
                      eval_every=5, monitor="mse")
        if stop_after is not None:
            calls = {"n": 0}
            inner = tr.loss_fn

            def interrupting(m, b):
                calls["n"] += 1
                if calls["n"] > stop_after:
                    raise KeyboardInterrupt
                return inner(m, b)

            tr.loss_fn = interrupting
        try:
            log = tr.run()
        except RunInterrupted:  # in a run, Ctrl-C stops the run (mid-step: the last checkpoint is kept)
            log = tr.log
    return net, tr, log


def test_resume_from_a_checkpoint_is_bitwise_identical(tmp_path):
    full_dir, cut_dir = tmp_path / "full", tmp_path / "cut"
    full_dir.mkdir()
    cut_dir.mkdir()
    net_full, tr_full, log_full = _train_with_session(full_dir, 50)
    _, _, log_cut = _train_with_session(cut_dir, 50, stop_after=23)  # last checkpoint after step 21
    assert log_cut.status == Status.INTERRUPTED
    payload = load_training_checkpoint(cut_dir)
    assert payload["trainers"]["train"]["log"]["steps_done"] == 21
    net_res, tr_res, log_res = _train_with_session(cut_dir, 50, resume=payload)
    assert log_res.status == Status.COMPLETED and log_res.steps_done == 50
    assert log_res.history == log_full.history and log_res.steps == log_full.steps
    for a, b in zip(net_full.parameters(), net_res.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(tr_full.ema.parameters(), tr_res.ema.parameters(), strict=True):
        assert torch.equal(a, b)
    assert tr_full.best["step"] == tr_res.best["step"]


def test_incremental_training_trains_generation_by_generation(tmp_path):
    # x_{t+1} = x_t - β_t ∇f(x_t) on f = ½(x1² + 8 x2²): generation g trains β_1..β_g on the error after g steps
    beta = nn.Parameter(torch.full((3,), 0.01))
    curv = torch.tensor([1.0, 8.0])
    g = torch.Generator().manual_seed(0)

    def loss_for(gen):
        def loss(model, x0):
            x = x0
            for t in range(gen):
                x = x - beta[t] * curv * x
            return (x**2).sum(1).mean()
        return loss

    gens = [Generation([beta], 150, 0.02) for _ in range(3)]
    with RunSession(tmp_path, lab="t", checkpoint_seconds=None):
        log = train_incremental(nn.ParameterList([beta]), loss_for,
                                lambda k: 20 * torch.rand(32, 2, generator=g) - 10, gens, generators={"data": g})
    assert log.status == Status.COMPLETED and len(log.logs) == 3
    assert log.final_losses[2] < log.final_losses[0]
    names = set(load_training_checkpoint(tmp_path)["trainers"])
    assert names == {"generation1", "generation2", "generation3"}


def test_ema_update_is_bitwise_torchs_averaged_model():
    """The Trainer's grouped EMA update equals AveragedModel.update_parameters, buffers (float and int) included."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    g = torch.Generator().manual_seed(3)
    X, y = torch.randn(64, 3, generator=g), torch.randn(64, 1, generator=g)
    net = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    reference = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True)
    tr = _trainer(net, X, y, 1, torch.Generator().manual_seed(0), ema_decay=0.8)
    for k in range(6):
        tr._step(k)  # one update of the model, then the Trainer's EMA
        reference.update_parameters(net)  # torch's EMA of the same model
        for a, b in zip(tr.ema.state_dict().values(), reference.state_dict().values(), strict=True):
            assert torch.equal(a, b)
    assert int(tr.ema.n_averaged) == 6
    assert not torch.equal(tr.ema.module[0].weight, net[0].weight)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_incremental_schedule_runs_within_each_generation(schedule):
    """SGD on the loss w (gradient 1): after a generation of N steps, w moved by Σ_k lr_k, the schedule's closed
    form (cosine: lr_k = lr (1 + cos(πk/N)) / 2), and the next generation starts again from lr."""
    w = nn.Parameter(torch.zeros((), dtype=torch.float64))
    N, lr = 10, 0.1
    gens = [Generation([w], N, lr), Generation([w], N, lr)]
    log = train_incremental(nn.ParameterList([w]), lambda _g: (lambda net, _batch: net[0] * 1.0), lambda _k: None,
                            gens, optimizer="sgd", schedule=schedule)
    assert log.status == Status.COMPLETED
    per_generation = N * lr if schedule == "constant" else sum(lr * (1 + math.cos(math.pi * k / N)) / 2
                                                               for k in range(N))
    assert w.item() == pytest.approx(-2 * per_generation, rel=1e-12)


def test_a_generation_can_name_its_own_schedule_and_batches():
    """SGD on the loss w·b (gradient b): the first generation uses train_incremental's constant schedule and
    batches (b = 1), the second its own cosine schedule and batches (b = 2), so w moves by the closed form
    -(N lr) - 2 Σ_k lr (1 + cos(πk/N))/2."""
    w = nn.Parameter(torch.zeros((), dtype=torch.float64))
    N, lr = 10, 0.1
    gens = [Generation([w], N, lr), Generation([w], N, lr, "cosine", lambda _k: 2.0)]
    log = train_incremental(nn.ParameterList([w]), lambda _g: (lambda net, batch: net[0] * batch), lambda _k: 1.0,
                            gens, optimizer="sgd", schedule="constant")
    assert log.status == Status.COMPLETED
    cosine = sum(lr * (1 + math.cos(math.pi * k / N)) / 2 for k in range(N))
    assert w.item() == pytest.approx(-N * lr - 2 * cosine, rel=1e-12)

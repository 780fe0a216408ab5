"""Lecture 1 labs against the course's numbers, closed forms, autograd and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlsm.algorithms.activations import ACTIVATIONS
from dlsm.errors import ConfigError
from dlsm.i18n import has, t
from dlsm.labs import activations, gd1d, gd2d, quadfit
from dlsm.problems.functions import FUNCTIONS_1D


# ----- gd1d -------------------------------------------------------------------------------------------
def test_gd1d_reproduces_the_course_exercise():
    res = gd1d.run(gd1d.Config())
    table = res.tables["iterations"]
    s = np.array(table.column("s_k"))
    np.testing.assert_allclose(s[:4], [2, 1.2, 0.72, 0.432])      # the course's numbers
    np.testing.assert_allclose(s, 2 * 0.6 ** np.arange(len(s)))    # closed form s_k = s0 (1-2a)^k
    np.testing.assert_allclose(table.column("f'(s_k)"), 2 * s)
    assert res.metrics["converged"] and not res.metrics["diverged"]


@pytest.mark.parametrize("name", list(FUNCTIONS_1D))
def test_function_derivatives_match_autograd(name):
    fn = FUNCTIONS_1D[name]
    x = torch.linspace(-3, 3, 41, dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(fn.f(x).sum(), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    torch.testing.assert_close(fn.df(x).detach(), d1.detach())
    torch.testing.assert_close(fn.d2f(x).detach(), d2)
    for m in fn.minimisers:  # stationary, and lower than its neighbours (brute force)
        t = torch.tensor(m, dtype=torch.float64)
        assert abs(float(fn.df(t))) < 1e-9
        near = t + torch.linspace(-1e-2, 1e-2, 21, dtype=torch.float64)
        assert float(fn.f(t)) <= float(fn.f(near).min())


def test_gd1d_divergence_is_reported_with_the_theory():
    # f = x⁴ from s0 = 2 with a = 0.2: s0² = 4 > 1/(2a) = 2.5, so every step overshoots further.
    res = gd1d.run(gd1d.Config(function="x4"))
    assert res.metrics["diverged"] and not res.metrics["converged"]
    assert t("gd1d.note.diverged", steps=res.metrics["steps_run"]) in res.notes          # what was measured
    assert t("gd1d.note.theory_x4_diverges", bound=(1 / 0.4) ** 0.5, s0=2.0) in res.explanations  # and why
    # below the bound it converges (slowly)
    assert not gd1d.run(gd1d.Config(function="x4", s0=1.0, lr=0.2, steps=50)).metrics["diverged"]


@pytest.mark.parametrize(("lr", "diverges"), [(0.9, False), (1.1, True)])
def test_gd1d_quadratic_threshold_is_one(lr, diverges):
    res = gd1d.run(gd1d.Config(lr=lr, steps=400))
    assert res.metrics["diverged"] == diverges


# ----- gd2d ------------------------------------------------------------------------------------------
def test_gd2d_course_iterates_and_closed_form():
    res = gd2d.run(gd2d.Config())
    t = res.tables["trajectory"]
    x1, x2 = np.array(t.column("x1")), np.array(t.column("x2"))
    np.testing.assert_allclose(x1[1:4], [3.28, 2.6896, 2.205472])    # the course's numbers
    np.testing.assert_allclose(x2[1:4], [-0.8, 0.64, -0.512])
    k = np.arange(21)
    np.testing.assert_allclose(x1, 4 * 0.82**k)                      # x_t = (I - αQ)^t x0, Q = diag(1, 10)
    np.testing.assert_allclose(x2, (-0.8) ** k)
    assert res.metrics["lr_max"] == pytest.approx(0.2)
    assert res.metrics["lr_opt"] == pytest.approx(2 / 11)
    assert res.metrics["behaviour"] == "converged" and "converged" not in res.metrics  # one verdict
    assert set(res.figures) >= {"surface", "contour", "error"}


def test_gd2d_alpha_0_2_oscillates_and_larger_diverges_with_explanations():
    osc = gd2d.run(gd2d.Config(lr=0.2, steps=200))
    assert osc.metrics["behaviour"].startswith("oscillates")
    assert not osc.metrics["diverged"]
    assert abs(osc.metrics["x2_final"]) == pytest.approx(1.0)         # (1 - 0.2·10)^t = ±1 for ever
    assert osc.metrics["theory_regime_gd"] == "oscillates"
    assert t("gd2d.note.theory_oscillates", lr=0.2) in osc.explanations   # the why, apart from the measurement
    assert not any(n in osc.notes for n in osc.explanations)
    div = gd2d.run(gd2d.Config(lr=0.25, steps=2000))
    assert div.metrics["diverged"] and div.metrics["behaviour"] == "diverges"
    assert all(np.isfinite(v) for v in div.tables["trajectory"].column("x2"))
    assert t("gd2d.note.diverged", steps=div.metrics["steps_run"]) in div.notes
    assert div.metrics["theory_regime_gd"] == "diverges"
    assert t("gd2d.note.theory_diverges", lr=0.25, rate=div.metrics["rate_theory_gd"]) in div.explanations


def test_gd2d_custom_q_and_symmetry_check():
    res = gd2d.run(gd2d.Config(function="custom", Q=(2.0, 0.0, 0.0, 2.0), compare=False))
    sphere = gd2d.run(gd2d.Config(function="sphere", compare=False))
    assert res.metrics["x1_final"] == sphere.metrics["x1_final"]
    with pytest.raises(ConfigError, match="symmetric"):
        gd2d.Config(function="custom", Q=(1.0, 2.0, 3.0, 4.0))


def test_gd2d_optimizer_comparison_table():
    res = gd2d.run(gd2d.Config(lr=0.05, steps=100))
    rows = {r[0]: r for r in res.tables["optimizers"].rows}
    assert set(rows) == {"gd", "momentum", "nesterov", "adam"}
    # at a small step, momentum reaches the tolerance before plain gradient descent does
    assert 0 <= rows["momentum"][2] < rows["gd"][2]
    assert rows["gd"][3] == "converged"
    assert t("gd2d.note.optimizers_table", steps=100, tol=1e-2) in res.notes


def test_gd2d_one_verdict_for_a_slow_run():
    # α = 0.05: the error shrinks every step but is not within tol after 20: one verdict says both
    m = gd2d.run(gd2d.Config(lr=0.05, compare=False)).metrics
    assert m["behaviour"] == "converging (not within tol yet)" and m["error_final"] > 1e-2
    assert "converged" not in m and m["diverged"] is False
    assert gd2d.verdict("converges", 0.5, 1.0) == "converged"
    assert gd2d.verdict("diverges", 0.5, 1.0) == "diverges"


def test_gd2d_figures_are_not_squeezed_and_sweeps_can_overlay_trajectories():
    from dlsm.plotting.descent import box_around, plot_trajectories_on_contour

    res = gd2d.run(gd2d.Config())
    for name in ("contour", "optimizers_contour"):
        ax = res.figures[name].axes[0]
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert min(x1 - x0, y1 - y0) >= 0.399 * max(x1 - x0, y1 - y0)  # not a thin strip
        legend = ax.get_legend()
        assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1  # right of the axes, off the ticks
    # a path that diverges does not set the box: the others stay visible
    box = box_around([np.array([[4.0, 1.0], [0.0, 0.0]]), np.array([[4.0, 1.0], [0.0, 40.0]])],
                     diverged=[False, True])
    assert box[3] < 5
    traj = res.curves["trajectory"]
    np.testing.assert_allclose(traj.x, res.tables["trajectory"].column("x1"))
    np.testing.assert_allclose(traj.y, res.tables["trajectory"].column("x2"))
    runs = {lr: gd2d.run(gd2d.Config(lr=lr, compare=False)).artifacts for lr in (0.05, 0.2)}
    fig = plot_trajectories_on_contour(runs[0.05]["Q"].numpy(), {f"α={k}": v["trajectory"].numpy()
                                                                 for k, v in runs.items()})
    assert len(fig.axes[0].get_lines()) >= 2


def test_gd2d_unknown_optimizer_is_refused_not_replaced_by_adam():
    cfg = gd2d.Config()
    assert type(gd2d.make_rule("adam", cfg)).__name__ == "Adam"
    with pytest.raises(ConfigError, match="optimizer"):
        gd2d.make_rule("sgd", cfg)
    with pytest.raises(ConfigError, match="optimizer"):
        gd2d.Config(optimizer="sgd")


def test_gd2d_outcome_is_typed_and_figures_are_optional():
    res = gd2d.LAB.run(gd2d.Config(compare=False), figures=False)
    assert res.figures == {}
    assert res.outcome.error_final == res.metrics["error_final"] == res.error_final
    assert gd2d.LAB.headline == ("error_final", "behaviour", "diverged", "rate_measured", "rate_theory", "lr_max")
    assert list(res.metrics) == [s.name for s in gd2d.Outcome.metric_specs()]
    for spec in gd2d.Outcome.metric_specs():  # every metric has a meaning in the glossary
        assert has(f"gd2d.metric.{spec.name}") or has(f"common.metric.{spec.name}"), spec.name


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adam"])
def test_gd2d_notes_say_the_verdict_in_words_of_the_glossary(optimizer):
    from dlsm.labs._gd2d_verdict import optimizer_label, verdict_text

    res = gd2d.run(gd2d.Config(optimizer=optimizer, compare=False), figures=False)
    m = res.metrics
    assert res.notes[0] == t("gd2d.note.verdict", optimizer=optimizer_label(optimizer), lr=0.18,
                             verdict=verdict_text(m["behaviour"]), steps=m["steps_run"], error=m["error_final"],
                             rate=m["rate_measured"])
    explained = "".join(res.explanations)
    assert (t("gd2d.note.theory_for_gd", optimizer=optimizer) in explained) == (optimizer != "gd")


# ----- activations -----------------------------------------------------------------------------------
def test_activation_formulas_and_derivatives():
    u = torch.linspace(-4, 4, 81, dtype=torch.float64)
    un = u.numpy()
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].f(u).numpy(), 1 / (1 + np.exp(-un)))
    np.testing.assert_allclose(ACTIVATIONS["tanh"].f(u).numpy(), np.tanh(un))
    np.testing.assert_allclose(ACTIVATIONS["relu"].f(u).numpy(), np.maximum(0, un))
    for act in ACTIVATIONS.values():
        x = u.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(act.f(x).sum(), x)
        torch.testing.assert_close(act.df(u), g)
    res = activations.run(activations.Config())
    assert res.metrics["sigmoid_max_slope"] == pytest.approx(0.25)
    assert res.metrics["tanh_max_slope"] == pytest.approx(1.0)
    assert all(res.metrics[f"{n}_max_abs_diff_vs_autograd"] < 1e-12 for n in ("sigmoid", "tanh", "relu", "softplus"))
    assert res.metrics["diverged"] is False
    assert res.explanations == [t("activations.note.saturation")]
    with pytest.raises(ConfigError, match="u_max"):
        activations.Config(u_min=1.0, u_max=0.0)


# ----- quadfit -----------------------------------------------------------------------------------------
def test_quadfit_reaches_the_least_squares_solution():
    from sklearn.linear_model import LinearRegression

    cfg = quadfit.Config()
    res = quadfit.run(cfg)
    gen = torch.Generator().manual_seed(cfg.seed)
    from dlsm.problems.polynomial import sample_quadratic

    x, y = sample_quadratic(cfg.n, cfg.true_theta, cfg.noise_std, cfg.x_min, cfg.x_max, gen)
    x = x.numpy()
    ref = LinearRegression().fit(np.column_stack([x**2, x]), y.numpy())   # independent oracle
    got = [res.metrics["a"], res.metrics["b"], res.metrics["c"]]
    np.testing.assert_allclose(got, [*ref.coef_, ref.intercept_], atol=1e-8)
    assert not res.metrics["diverged"]


def test_quadfit_step_above_two_over_lambda_max_diverges():
    lr_max = quadfit.run(quadfit.Config(steps=1)).metrics["lr_max"]
    big = quadfit.run(quadfit.Config(lr=1.05 * lr_max, steps=2000))
    assert big.metrics["diverged"]
    assert t("quadfit.note.diverged_why", lr=1.05 * lr_max, lr_max=lr_max) in big.explanations
    assert not any(n in big.explanations for n in big.notes)
    assert not quadfit.run(quadfit.Config(lr=0.95 * lr_max, steps=2000)).metrics["diverged"]


def test_same_seed_same_numbers_other_seed_other_numbers():
    a = quadfit.run(quadfit.Config.make("quick", seed=3)).metrics
    b = quadfit.run(quadfit.Config.make("quick", seed=3)).metrics
    c = quadfit.run(quadfit.Config.make("quick", seed=4)).metrics
    assert a == b
    assert a["a_ls"] != c["a_ls"]


def test_quadfit_interrupted_keeps_what_was_done():
    from dlsm.status import Status

    def stop_at_ten(done, total, scalars):
        if done == 10:
            raise KeyboardInterrupt

    res = quadfit.run(quadfit.Config(steps=50), progress=stop_at_ten, figures=False)
    assert res.status == Status.INTERRUPTED and res.metrics["steps_run"] == 10
    assert t("quadfit.note.interrupted", steps=10, total=50) in res.notes
    assert len(res.outcome.data["thetas"]) == 11  # Θ_0 .. Θ_10

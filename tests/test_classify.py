"""The classify lab: course settings, models against closed forms, augmentation against SciPy,
evaluation over the true test size, determinism, Ctrl-C and divergence, and the CUDA path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage
from sklearn.metrics import accuracy_score

from dlsm.errors import ConfigError
from dlsm.labs import classify, get_lab
from dlsm.metrics import accuracy
from dlsm.models.classifiers import CNN, MLP, Dropout, build_classifier

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

# A fast configuration that learns: small ReLU MLP, Adam, 3 epochs on 500 images.
LEARNS = {"activation": "relu", "optimizer": "adam", "lr": 0.003, "width": 128, "batch_size": 50,
          "epochs": 3, "n_train": 500, "n_test": 200}


@pytest.fixture(scope="module")
def quick_result():
    return classify.run(classify.Config.make("quick", **LEARNS))


# ----- config ---------------------------------------------------------------------------------------
def test_course_preset_is_the_course_notebook():
    # COURSE.md, lecture 3: batch 200, SGD lr 0.1, 3 epochs, MLP 784-784-784-10 with sigmoid.
    c = classify.Config.make("course")
    assert (c.model, c.activation, c.width, c.depth) == ("mlp", "sigmoid", 784, 2)
    assert (c.optimizer, c.lr, c.batch_size, c.epochs, c.schedule, c.shift) == ("sgd", 0.1, 200, 3, "none", 0)
    assert c.data == "mnist-5k" and c.dropout == 0.0
    assert classify.MEAN == 0.5 and classify.STD == 1.0  # (pixel/255 - 0.5) / 1.0
    assert get_lab("classify").config is classify.Config


@pytest.mark.parametrize(("key", "value"), [("model", "rnn"), ("lr", 0.0), ("batch_size", 0),
                                            ("data", "cifar"), ("data", "folder:"), ("device", "tpu"),
                                            ("dropout", 1.0), ("shift", -1), ("activation", "gelu")])
def test_bad_values_name_the_key(key, value):
    with pytest.raises(ConfigError, match=key) as info:
        classify.Config.make("quick", **{key: value})
    assert info.value.key == key


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_cuda_request_without_cuda_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="no CUDA"):
        classify.run(classify.Config.make("quick", device="cuda"))
    assert classify.resolve_device("auto").type == "cpu"


def test_full_preset_differs_per_model():
    mlp, cnn = classify.Config.make("full"), classify.Config.make("full", model="cnn")
    assert mlp.optimizer == cnn.optimizer == "adam" and mlp.schedule == "onecycle"
    assert cnn.epochs < mlp.epochs and cnn.batch_size < mlp.batch_size
    assert classify.Config.make("full", model="cnn", epochs=2).epochs == 2  # overrides win


# ----- models ----------------------------------------------------------------------------------------
def test_course_mlp_has_the_course_layer_sizes():
    m = MLP((1, 28, 28), 10)
    sizes = [(lin.in_features, lin.out_features) for lin in m.modules() if isinstance(lin, torch.nn.Linear)]
    assert sizes == [(784, 784), (784, 784), (784, 10)]
    assert sum(p.numel() for p in m.parameters()) == 2 * (784 * 784 + 784) + 784 * 10 + 10
    assert isinstance(m.net[2], torch.nn.Sigmoid)


def test_course_cnn_has_9216_features_and_adapts_to_other_images():
    m = CNN((1, 28, 28), 10)
    assert m.head[1].in_features == 9216  # 64 · 12 · 12, the course's fc 9216 -> 128
    colour = CNN((3, 32, 20), 2)
    assert colour.head[1].in_features == 64 * 14 * 8
    x = torch.rand(5, 3, 32, 20)
    log_p = colour(x)
    assert log_p.shape == (5, 2)
    torch.testing.assert_close(log_p.exp().sum(dim=1), torch.ones(5))
    with pytest.raises(ValueError, match="6×6"):
        CNN((1, 5, 5), 10)


def test_init_follows_pytorch_default_bounds_and_the_generator():
    m1 = MLP((1, 8, 8), 3, widths=(50,), generator=torch.Generator().manual_seed(1))
    m2 = MLP((1, 8, 8), 3, widths=(50,), generator=torch.Generator().manual_seed(1))
    m3 = MLP((1, 8, 8), 3, widths=(50,), generator=torch.Generator().manual_seed(2))
    for (name, a), b, c in zip(m1.state_dict().items(), m2.state_dict().values(), m3.state_dict().values(),
                               strict=True):
        torch.testing.assert_close(a, b)
        assert not torch.equal(a, c)
        fan_in = 64 if name.startswith("net.1.") else 50
        assert a.abs().max() <= 1 / math.sqrt(fan_in)
    # U(-b, b) has standard deviation b/√3
    w = MLP((1, 100, 100), 10, widths=(400,), generator=torch.Generator().manual_seed(0)).net[1].weight
    assert float(w.detach().std()) == pytest.approx(1 / math.sqrt(3 * 10_000), rel=0.01)


def test_dropout_keeps_the_mean_and_draws_from_its_generator():
    x = torch.ones(200_000)
    d = Dropout(0.25, torch.Generator().manual_seed(0)).train()
    y = d(x)
    assert float((y == 0).float().mean()) == pytest.approx(0.25, abs=0.005)
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)
    torch.testing.assert_close(Dropout(0.25, torch.Generator().manual_seed(0)).train()(x), y)
    assert torch.equal(d.eval()(x), x)


def test_build_classifier_rebuilds_an_equal_model():
    m = CNN((1, 12, 12), 4, dropout=0.5)
    clone = build_classifier("cnn", m.hparams)
    clone.load_state_dict(m.state_dict())
    x = torch.rand(3, 1, 12, 12)
    torch.testing.assert_close(clone.eval()(x), m.eval()(x))


# ----- augmentation and evaluation -----------------------------------------------------------------
def test_shift_images_matches_scipy_ndimage_shift():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 2, 9, 7, generator=g)
    dy = torch.tensor([0, 1, -2, 3, -1, 2])
    dx = torch.tensor([0, -3, 2, 0, 1, -2])
    out = classify.shift_images(x, dy, dx)
    for i in range(6):
        expected = ndimage.shift(x[i].numpy(), (0, int(dy[i]), int(dx[i])), order=0, mode="constant", cval=0)
        np.testing.assert_array_equal(out[i].numpy(), expected)


def test_rotate_images_matches_rot90_and_is_identity_at_zero():
    x = torch.rand(4, 2, 7, 7, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(classify.rotate_images(x, torch.zeros(4)), x, atol=1e-6, rtol=0)
    quarter = classify.rotate_images(x, torch.full((4,), math.pi / 2))
    torch.testing.assert_close(quarter, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5, rtol=0)
    half = classify.rotate_images(x, torch.full((4,), math.pi))
    torch.testing.assert_close(half, torch.flip(x, dims=(2, 3)), atol=1e-5, rtol=0)


def test_random_shift_stays_within_the_bound():
    x = torch.zeros(400, 1, 9, 9)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre
    out = classify.random_shift(x, 2, torch.Generator().manual_seed(0))
    rows, cols = torch.nonzero(out[:, 0] == 1.0)[:, 1:].T - 4
    assert len(rows) == 400 and rows.abs().max() == 2 and cols.abs().max() == 2
    assert set(rows.tolist()) == {-2, -1, 0, 1, 2}


def test_evaluate_counts_every_test_image_once():
    # 1,234 images: one full evaluation batch of 1,000 and a short one of 234.
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(1234, 1, 8, 8, generator=g), torch.randint(0, 3, (1234,), generator=g)
    model = MLP((1, 8, 8), 3, widths=(16,), generator=g)
    loss, pred = classify.evaluate(model, X, y)
    with torch.no_grad():
        log_p = model(classify.normalize(X))  # one batch, the oracle
    assert len(pred) == 1234
    assert accuracy(pred, y) == pytest.approx(accuracy_score(y.numpy(), log_p.argmax(1).numpy()))
    assert loss == pytest.approx(float(F.nll_loss(log_p, y)), rel=1e-5)


# ----- runs ------------------------------------------------------------------------------------------
def test_quick_run_learns_and_reports_everything(quick_result):
    res = quick_result
    m = res.metrics
    assert res.status == "completed" and not m["diverged"]
    assert (m["n_train"], m["n_test"], m["n_classes"], m["epochs_done"]) == (500, 200, 10, 3)
    assert m["updates"] == 3 * 10  # 500 / 50 batches per epoch
    assert m["test_accuracy"] > 0.5  # far above chance (0.1) after 30 Adam steps
    assert m["test_errors"] == round((1 - m["test_accuracy"]) * 200)
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        np.testing.assert_array_equal(res.curves[name].x, [1, 2, 3])
    assert res.curves["test_accuracy"].y[-1] == pytest.approx(m["test_accuracy"])
    confusion = np.array([row[1:] for row in res.tables["confusion"].rows])
    assert confusion.sum() == 200 and np.trace(confusion) == 200 - m["test_errors"]
    assert set(res.figures) == {"curves", "confusion", "misclassified", "samples"}
    assert set(res.artifacts) == {"state_dict", "checkpoint"}


def test_same_config_same_numbers_and_seed_matters():
    config = classify.Config.make("quick", n_train=200, n_test=100, width=32, dropout=0.2, shift=1, rotate=5,
                                  schedule="onecycle", optimizer="adam", lr=0.01, batch_size=40, epochs=2)
    a, b = classify.run(config), classify.run(config)
    assert a.metrics == b.metrics
    other = classify.run(config.replace(seed=1))
    assert other.metrics["test_loss"] != a.metrics["test_loss"]


def test_course_settings_stay_near_chance_and_the_note_says_why():
    # The course's sigmoid MLP with SGD lr 0.1 gets 1 update from 200 images: chance level (lecture 3).
    res = classify.run(classify.Config.make("course", n_train=200, n_test=100, epochs=1))
    assert res.metrics["test_accuracy"] < 0.15
    assert any("near chance" in n for n in res.notes)
    learned = classify.run(classify.Config.make("quick"))
    assert learned.metrics["test_accuracy"] > 0.5
    assert not any("near chance" in n for n in learned.notes)


def test_ctrl_c_keeps_the_epochs_done():
    def progress(done, total, info):
        if done == 5:  # in the second epoch of 4 updates each
            raise KeyboardInterrupt

    res = classify.run(classify.Config.make("quick", **{**LEARNS, "batch_size": 125}), progress=progress)
    assert res.status == "interrupted"
    assert res.metrics["epochs_done"] == 1 and res.metrics["updates"] == 5
    assert len(res.curves["test_accuracy"].x) == 1
    assert any("Interrupted" in n for n in res.notes)


def test_divergence_is_reported():
    res = classify.run(classify.Config.make("quick", activation="relu", lr=100.0, width=64))
    assert res.metrics["diverged"]
    assert any("Diverged" in n and "lr" in n for n in res.notes)


def test_cnn_quick_runs():
    res = classify.run(classify.Config.make("quick", model="cnn", n_train=100, n_test=50, dropout=0.25,
                                            shift=2))
    assert res.metrics["n_parameters"] == 320 + 18_496 + 9216 * 128 + 128 + 1290
    assert 0.0 <= res.metrics["test_accuracy"] <= 1.0


@pytest.mark.gpu
@needs_cuda
def test_cuda_run_matches_the_cpu_run_closely():
    config = classify.Config.make("quick", **LEARNS)
    cpu = classify.run(config.replace(device="cpu"))
    gpu = classify.run(config.replace(device="auto"))  # auto picks CUDA here
    assert gpu.metrics["device"] == "cuda" and cpu.metrics["device"] == "cpu"
    assert gpu.metrics["test_accuracy"] == pytest.approx(cpu.metrics["test_accuracy"], abs=0.05)
    assert all(t.device.type == "cpu" for t in gpu.artifacts["state_dict"].values())


@pytest.mark.gpu
@needs_cuda
def test_cuda_cnn_with_dropout_is_deterministic_enough():
    config = classify.Config.make("quick", model="cnn", device="cuda", dropout=0.25, shift=2,
                                  optimizer="adam", lr=0.003, batch_size=50)
    a, b = classify.run(config), classify.run(config)
    assert a.metrics["test_accuracy"] == pytest.approx(b.metrics["test_accuracy"], abs=0.02)
    assert a.metrics["test_accuracy"] > 0.5

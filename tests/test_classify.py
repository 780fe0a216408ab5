"""The classify lab: course settings, models against closed forms, augmentation against SciPy and NumPy,
evaluation over the true test size, the lab's training against a bare PyTorch loop written here, old
checkpoints, advice that matches what ran, determinism, Ctrl-C and divergence, and the CUDA path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage
from sklearn.metrics import accuracy_score

from dlsm.device import resolve_device
from dlsm.errors import ConfigError
from dlsm.i18n import language, t
from dlsm.labs import _classify_advice, _classify_train, classify, get_lab
from dlsm.metrics import accuracy
from dlsm.models.classifiers import CNN, MLP, Dropout, SmallCNN, build_classifier
from dlsm.outcome import Notes
from dlsm.problems import augment
from dlsm.problems.images import load_embedded_mnist
from dlsm.status import Status

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
    assert (c.optimizer, c.lr, c.batch_size, c.epochs, c.schedule, c.shift) == ("sgd", 0.1, 200, 3, "constant", 0)
    assert (c.steps, c.val_fraction, c.patience, c.flip, c.crop, c.jitter) == (None, 0.0, None, False, 0, 0.0)
    assert c.data == "mnist-5k" and c.dropout == 0.0
    assert classify.MEAN == 0.5 and classify.STD == 1.0  # (pixel/255 - 0.5) / 1.0
    assert get_lab("classify").config is classify.Config


@pytest.mark.parametrize(("key", "value"), [("model", "rnn"), ("lr", 0.0), ("batch_size", 0),
                                            ("data", "cifar"), ("data", "folder:"), ("device", "tpu"),
                                            ("dropout", 1.0), ("shift", -1), ("activation", "gelu"),
                                            ("optimizer", "rmsprop"), ("steps", 0), ("jitter", 2.0)])
def test_bad_values_name_the_key(key, value):
    with pytest.raises(ConfigError, match=key) as info:
        classify.Config.make("quick", **{key: value})
    assert info.value.key == key


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
def test_cuda_request_without_cuda_is_a_clear_config_error():
    with pytest.raises(ConfigError, match="no CUDA"):
        classify.run(classify.Config.make("quick", device="cuda"))
    assert resolve_device("auto").type == "cpu"
    assert _classify_train.resolve_device is resolve_device  # the shared one; no optimizer factory of its own
    assert not hasattr(_classify_train, "make_optimizer") or _classify_train.make_optimizer.__module__ == \
        "dlsm.training.optim"
    assert not hasattr(classify, "make_optimizer") or classify.make_optimizer.__module__ == "dlsm.training.optim"


def test_the_activation_recorded_is_the_one_used():
    assert classify.Config.make("course", model="cnn").activation == "relu"  # the course CNN uses ReLU
    assert classify.Config.make("full", model="small_cnn").activation == "relu"
    with pytest.raises(ConfigError, match="uses relu") as info:
        classify.Config.make("course", model="cnn", activation="sigmoid")
    assert info.value.key == "activation"
    with pytest.raises(ConfigError, match="val_fraction") as info:
        classify.Config.make("course", patience=3)
    assert info.value.key == "patience"


def test_folder_data_gets_the_folder_recipe_under_the_users_overrides():
    c = classify.Config.make("course", data="folder:/some/where")
    assert (c.model, c.activation, c.optimizer, c.flip, c.val_fraction) == ("small_cnn", "relu", "adam", True, 0.15)
    assert c.steps == classify.FOLDER["steps"] and c.patience == classify.FOLDER["patience"]
    c = classify.Config.make("course", data="folder:/x", model="cnn", lr=0.01)
    assert (c.model, c.activation, c.lr, c.optimizer) == ("cnn", "relu", 0.01, "adam")
    assert classify.Config.make("course", data="folder:/x", model="mlp").activation == "relu"
    assert classify.Config.make("course", data="folder:/x", model="mlp", activation="tanh").activation == "tanh"


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
    assert isinstance(m.mlp.net[1], torch.nn.Sigmoid)  # the shared dlsm.models.mlp.MLP, its activation


def test_mlp_is_the_formula_and_loads_checkpoints_of_the_earlier_layout():
    # Earlier checkpoints named the layers net.1, net.3, net.5 (net.0 was Flatten); with dropout net.1, net.4, ...
    g = torch.Generator().manual_seed(3)
    W1, b1, W2, b2, W3, b3 = (torch.randn(*s, generator=g) for s in ((7, 16), (7,), (5, 7), (5,), (3, 5), (3,)))
    x = torch.rand(4, 1, 4, 4, generator=g)
    h = x.reshape(4, 16)
    expected = torch.log_softmax(torch.relu(torch.relu(h @ W1.T + b1) @ W2.T + b2) @ W3.T + b3, dim=1)  # by hand
    for dropout, idx in ((0.0, (1, 3, 5)), (0.5, (1, 4, 7))):
        old = {f"net.{i}.{n}": t for i, pair in zip(idx, ((W1, b1), (W2, b2), (W3, b3)), strict=True)
               for n, t in zip(("weight", "bias"), pair, strict=True)}
        m = build_classifier("mlp", {"in_shape": [1, 4, 4], "n_classes": 3, "widths": [7, 5], "activation": "relu",
                                     "dropout": dropout})
        m.load_state_dict(old)
        torch.testing.assert_close(m.eval()(x), expected)
        m.load_state_dict(m.state_dict())  # the new names load too


def test_small_cnn_is_small_pools_globally_and_uses_batch_norm():
    m = SmallCNN((3, 32, 32), 2, generator=torch.Generator().manual_seed(0))
    n = sum(p.numel() for p in m.parameters())
    assert n == (27 * 16 + 144 * 32 + 288 * 64) + 2 * (16 + 32 + 64) + 64 * 2 + 2 == 23_826
    assert sum(isinstance(layer, torch.nn.BatchNorm2d) for layer in m.modules()) == 3
    x = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    log_p = m.eval()(x)
    torch.testing.assert_close(log_p.exp().sum(1), torch.ones(6))
    # the oracle: features by hand, then the mean over positions and the linear layer
    feats = m.features(x)  # (6, 64, 4, 4)
    fc = m.head[-1]
    torch.testing.assert_close(log_p, torch.log_softmax(feats.mean(dim=(2, 3)) @ fc.weight.T + fc.bias, dim=1))
    assert SmallCNN((1, 3, 3), 4)(torch.rand(2, 1, 3, 3)).shape == (2, 4)  # tiny images: pools only while >= 2


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
        fan_in = 64 if name.startswith("mlp.net.0.") else 50
        assert a.abs().max() <= 1 / math.sqrt(fan_in)
    # U(-b, b) has standard deviation b/√3
    w = MLP((1, 100, 100), 10, widths=(400,), generator=torch.Generator().manual_seed(0)).mlp.net[0].weight
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
    out = augment.shift_images(x, dy, dx)
    for i in range(6):
        expected = ndimage.shift(x[i].numpy(), (0, int(dy[i]), int(dx[i])), order=0, mode="constant", cval=0)
        np.testing.assert_array_equal(out[i].numpy(), expected)


def test_rotate_images_matches_rot90_and_is_identity_at_zero():
    x = torch.rand(4, 2, 7, 7, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(augment.rotate_images(x, torch.zeros(4)), x, atol=1e-6, rtol=0)
    quarter = augment.rotate_images(x, torch.full((4,), math.pi / 2))
    torch.testing.assert_close(quarter, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5, rtol=0)
    half = augment.rotate_images(x, torch.full((4,), math.pi))
    torch.testing.assert_close(half, torch.flip(x, dims=(2, 3)), atol=1e-5, rtol=0)


def test_random_shift_stays_within_the_bound():
    x = torch.zeros(400, 1, 9, 9)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre
    out = augment.random_shift(x, 2, torch.Generator().manual_seed(0))
    rows, cols = torch.nonzero(out[:, 0] == 1.0)[:, 1:].T - 4
    assert len(rows) == 400 and rows.abs().max() == 2 and cols.abs().max() == 2
    assert set(rows.tolist()) == {-2, -1, 0, 1, 2}


def test_flip_and_crop_match_numpy_and_draw_per_image():
    x = torch.rand(64, 2, 6, 5, generator=torch.Generator().manual_seed(0))
    flipped = augment.random_flip(x, torch.Generator().manual_seed(1))
    mirrored = [torch.equal(flipped[i], x[i].flip(-1)) for i in range(64)]
    assert all(mirrored[i] or torch.equal(flipped[i], x[i]) for i in range(64))
    assert 16 < sum(mirrored) < 48
    crop = augment.random_crop(x, 2, torch.Generator().manual_seed(2))
    offsets = torch.randint(0, 5, (2, 64), generator=torch.Generator().manual_seed(2))  # the same draws
    for i in range(64):
        padded = np.pad(x[i].numpy(), ((0, 0), (2, 2), (2, 2)), mode="reflect")
        r, c = int(offsets[0, i]), int(offsets[1, i])
        np.testing.assert_array_equal(crop[i].numpy(), padded[:, r:r + 6, c:c + 5])


def test_colour_jitter_follows_the_brightness_contrast_saturation_formulas():
    x = torch.rand(5, 3, 4, 4, generator=torch.Generator().manual_seed(0)) * 0.8
    out = augment.colour_jitter(x, 0.3, torch.Generator().manual_seed(1))
    b, c, s = 1 + 0.3 * (2 * torch.rand(3, 5, generator=torch.Generator().manual_seed(1)) - 1)
    for i in range(5):
        xi = np.clip(x[i].numpy() * float(b[i]), 0, 1)
        lum = 0.299 * xi[0] + 0.587 * xi[1] + 0.114 * xi[2]
        xi = np.clip(float(c[i]) * xi + (1 - float(c[i])) * lum.mean(), 0, 1)
        lum = 0.299 * xi[0] + 0.587 * xi[1] + 0.114 * xi[2]
        xi = np.clip(float(s[i]) * xi + (1 - float(s[i])) * lum, 0, 1)
        np.testing.assert_allclose(out[i].numpy(), xi, atol=1e-6)
    assert torch.equal(augment.colour_jitter(x, 0.0, torch.Generator()), x)
    assert augment.Augment().describe() == "none" and not augment.Augment().active


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
    assert res.status == Status.COMPLETED and m["diverged"] is False
    assert res.outcome.test_accuracy == m["test_accuracy"] and res.outcome.steps == m["steps"]  # typed attributes
    assert list(m) == [s.name for s in classify.Outcome.metric_specs() if s.name in m]  # declaration order
    assert "val_loss" not in m and "skipped_steps" not in m  # no validation split, no skipped update
    assert get_lab("classify").headline == ("test_accuracy", "test_loss", "train_accuracy", "steps")
    assert (m["n_train"], m["n_test"], m["n_classes"], m["epochs"], m["steps"]) == (500, 200, 10, 3, 30)
    assert m["n_params"] == 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert (m["model"], m["activation"], m["augmentation"]) == ("mlp", "relu", "none")
    assert m["test_errors"] == round((1 - m["test_accuracy"]) * 200)
    for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
        np.testing.assert_array_equal(res.curves[name].x, [1, 2, 3])
    assert res.curves["test_accuracy"].y[-1] == pytest.approx(m["test_accuracy"])
    confusion = np.array([row[1:] for row in res.tables["confusion"].rows])
    assert confusion.sum() == 200 and np.trace(confusion) == 200 - m["test_errors"]
    assert set(res.figures) == {"curves", "confusion", "misclassified", "samples"}
    assert set(res.artifacts) == {"state_dict", "checkpoint"}
    assert res.notes == [t("classify.note.checkpoint")] and res.explanations == []  # it learned: nothing to advise


def _bare_pytorch_training(n_train: int, n_test: int, width: int, lr: float, batch: int, epochs: int, seed: int):
    """The oracle: the same MLP trained by a plain PyTorch loop written here, from the same seed."""
    train, test = load_embedded_mnist(n_train, n_test)
    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, width), torch.nn.ReLU(),
                              torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Linear(width, 10))
    with torch.no_grad():  # PyTorch's default bounds, drawn in layer order, weight then bias
        for layer in (net[1], net[3], net[5]):
            bound = 1 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=g)
            layer.bias.uniform_(-bound, bound, generator=g)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(n_train, generator=g)
        for start in range(0, n_train, batch):
            idx = order[start:start + batch]
            loss = F.nll_loss(F.log_softmax(net(train.X[idx] - 0.5), dim=1), train.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        log_p = F.log_softmax(net(test.X - 0.5), dim=1)
    return accuracy_score(test.y.numpy(), log_p.argmax(1).numpy()), float(F.nll_loss(log_p, test.y))


def test_the_lab_trains_exactly_like_a_bare_pytorch_loop(quick_result):
    acc, loss = _bare_pytorch_training(500, 200, width=128, lr=0.003, batch=50, epochs=3, seed=0)
    assert quick_result.metrics["test_accuracy"] == acc
    assert quick_result.metrics["test_loss"] == pytest.approx(loss, rel=1e-6)
    assert acc > 0.5  # and it learned: far above chance (0.1) after 30 Adam steps


def test_same_config_same_numbers_and_seed_matters():
    config = classify.Config.make("quick", n_train=200, n_test=100, width=32, dropout=0.2, shift=1, rotate=5,
                                  flip=True, crop=1, jitter=0.1, schedule="onecycle", optimizer="adam", lr=0.01,
                                  batch_size=40, epochs=2)
    state = torch.get_rng_state()
    a, b = classify.run(config), classify.run(config)
    assert torch.equal(torch.get_rng_state(), state)  # the global generator is never drawn from
    assert a.metrics == b.metrics
    other = classify.run(config.replace(seed=1))
    assert other.metrics["test_loss"] != a.metrics["test_loss"]


def test_course_settings_stay_near_chance_and_the_note_says_why():
    # The course's sigmoid MLP with SGD lr 0.1 gets 1 update from 200 images: chance level (lecture 3).
    res = classify.run(classify.Config.make("course", n_train=200, n_test=100, epochs=1), figures=False)
    assert res.metrics["test_accuracy"] < 0.15
    diagnosis = res.outcome.data["diagnosis"]
    assert diagnosis.kind == "too_few_updates" and diagnosis.sigmoid
    assert "activation=relu" in diagnosis.settings and "optimizer=adam" in diagnosis.settings
    m = res.metrics
    assert t("classify.note.too_few_updates", accuracy=100 * m["test_accuracy"], K=10, chance=10.0, steps=1,
             epochs=1, per_epoch=1) in res.notes  # measured ...
    assert t("classify.note.sigmoid_why", lr=0.1) in res.explanations  # ... apart from why
    learned = classify.run(classify.Config.make("quick"), figures=False)
    assert learned.metrics["test_accuracy"] > 0.5
    assert learned.outcome.data["diagnosis"].kind == ""


def _metrics(**over):
    base = {"n_classes": 2, "steps": 3000, "test_accuracy": 0.5, "train_accuracy": 0.52, "epochs": 10,
            "n_params": 1_625_410, "n_train": 240}
    return {**base, **over}


def test_advice_never_suggests_what_was_already_used():
    cnn = classify.Config.make("full", model="cnn", data="folder:/x", optimizer="adam")
    done = Status.COMPLETED
    # over-fitting (train 100 %, test 50 %): not "too few updates", not relu (the CNN uses it), not adam
    d = classify.diagnose(cnn, _metrics(train_accuracy=1.0), done, 8)
    assert d.kind == "overfitting" and "model=small_cnn" in d.settings
    assert not any("relu" in s or "adam" in s or s == "flip=true" for s in d.settings)  # the recipe already flips
    # too few updates with Adam and ReLU already set
    d = classify.diagnose(cnn, _metrics(steps=40), done, 8)
    assert d.kind == "too_few_updates" and not any("adam" in s or "activation" in s for s in d.settings)
    assert d.settings[0] == "steps=500" and d.tries[0].fields == {"epochs": 63}  # ⌈500 / 8⌉
    # many updates and the training images not fitted either: chance-level data
    assert classify.diagnose(cnn, _metrics(), done, 8).kind == "chance_level"
    # --full already used: not suggested again
    full = classify.Config.make("full", n_train=100)
    d = classify.diagnose(full, _metrics(n_classes=10, test_accuracy=0.1, train_accuracy=0.1, steps=40), done, 1)
    assert d.kind == "too_few_updates" and "full" not in d.kinds and "optimizer=adam" not in d.settings
    assert "full" in classify.diagnose(classify.Config.make("course"), _metrics(steps=40), done, 1).kinds
    d = classify.diagnose(full, _metrics(), Status.DIVERGED, 1)
    assert d.kind == "diverged" and "lr=0.0002" in d.settings and "optimizer=adam" not in d.settings
    assert classify.diagnose(full, _metrics(), Status.INTERRUPTED, 1).kind == ""  # nothing to diagnose


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_diagnosis_and_suggestion_has_its_text(lang):
    """Every key the advice builds from a name exists, in both languages, and the Japanese is Japanese."""
    from japanese_text import english_runs

    fields = {"epochs": 3, "n_params": 1_625_410, "lr": 0.1}
    course, folder = classify.Config.make("course"), classify.Config.make("full", model="cnn", data="folder:/x")
    with language(lang):
        for kind in _classify_advice.SUGGESTIONS:
            text = classify.Suggestion(kind, "x=1", fields).text()
            assert text and not (lang == "ja" and english_runs(text)), (kind, text)
        for kind in _classify_advice.DIAGNOSES:
            for config in (course, folder):
                for train_accuracy in (None, 0.5) if kind != "overfitting" else (1.0,):
                    found = Notes()
                    d = classify.Diagnosis(kind, (classify.Suggestion("more_images"),), sigmoid=True)
                    _classify_advice.advice_notes(found, config, _metrics(train_accuracy=train_accuracy), d, 8,
                                                  {"loss": 1e9, "first": 2.3})
                    assert (kind == "") == (found.measured == []), kind
                    if lang == "ja":
                        assert not [r for n in found.all() for r in english_runs(n)], (kind, found)
    with pytest.raises(ValueError, match="suggestion"):
        classify.Suggestion("bigger_lr")
    with pytest.raises(ValueError, match="diagnosis"):
        classify.Diagnosis("bored")


def test_ctrl_c_keeps_what_was_done():
    def progress(done, total, info):
        if done == 5:  # in the second epoch of 4 updates each
            raise KeyboardInterrupt

    res = classify.run(classify.Config.make("quick", **{**LEARNS, "batch_size": 125}), progress=progress)
    assert res.status == Status.INTERRUPTED
    assert res.metrics["epochs"] == 1.25 and res.metrics["steps"] == 5
    assert len(res.curves["test_accuracy"].x) == 1
    assert res.notes[0] == t("classify.note.interrupted", steps=5, planned=12, epochs=1.25)  # 3 epochs of 4


def test_divergence_is_reported():
    res = classify.run(classify.Config.make("quick", activation="relu", lr=100.0, width=64))
    assert res.metrics["diverged"] is True and res.status == Status.DIVERGED
    where = res.outcome.data["divergence"]
    assert where["loss"] > 1e8 * where["first"] or not math.isfinite(where["loss"])  # the engine's test
    assert t("classify.note.diverged", steps=res.metrics["steps"], lr=100.0, optimizer="adam", **where) in res.notes
    assert t("classify.note.diverged_why") in res.explanations
    assert "lr=10" in res.outcome.data["diagnosis"].settings


def test_early_stopping_keeps_the_model_with_the_lowest_validation_loss():
    config = classify.Config.make("quick", n_train=300, n_test=100, width=64, lr=0.01, batch_size=30, steps=200,
                                  val_fraction=0.2, patience=2, eval_every=10)
    res = classify.run(config)
    m = res.metrics
    assert (m["n_train"], m["n_val"]) == (240, 60)
    val = res.curves["val_loss"].y
    assert m["val_loss"] == pytest.approx(float(val.min()))
    best = int(np.argmin(val))
    assert m["best_step"] == res.tables["epochs"].rows[best][1]
    if res.outcome.data["restored"]:
        assert t("classify.note.restored", step=m["best_step"], loss=m["val_loss"], n_val=60) in res.notes
    if m["stopped_early"]:
        assert m["steps"] < 200 and len(val) - 1 - best == 2  # stopped after 2 evaluations without improvement


def test_cnn_quick_runs():
    res = classify.run(classify.Config.make("quick", model="cnn", n_train=100, n_test=50, dropout=0.25,
                                            shift=2))
    assert res.metrics["n_params"] == 320 + 18_496 + 9216 * 128 + 128 + 1290
    assert res.metrics["activation"] == "relu"
    assert res.metrics["steps"] == 6 and res.metrics["test_loss"] > 0


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


def _shapes_folder(root, per_class: int, seed: int):
    """Circles vs squares of random place, size and colour on a noisy background (the issue's folder), 32x32."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    for label in ("circles", "squares"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            back = rng.integers(0, 256, 3)
            img = Image.fromarray(np.clip(back + rng.normal(0, 20, (32, 32, 3)), 0, 255).astype(np.uint8), "RGB")
            r = int(rng.integers(5, 11))
            cx, cy = (int(rng.integers(r + 1, 31 - r)) for _ in range(2))
            fill = tuple(int(v) for v in (255 - back + rng.integers(-40, 41, 3)).clip(0, 255))
            draw = ImageDraw.Draw(img)
            (draw.ellipse if label == "circles" else draw.rectangle)((cx - r, cy - r, cx + r, cy + r), fill=fill)
            img.save(root / label / f"{i}.png")
    return root


def test_the_folder_recipe_learns_the_shapes_folder_of_issue_13(tmp_path):
    # the course CNN stayed at chance on such a folder (1.6 M parameters memorised 240 images)
    folder = _shapes_folder(tmp_path / "shapes", 40, seed=0)
    res = classify.run(classify.Config.make("course", data=f"folder:{folder}", image_size=24, steps=150))
    m = res.metrics
    assert (m["model"], m["n_classes"], m["n_test"]) == ("small_cnn", 2, 16)
    assert m["n_params"] < 30_000 and m["test_accuracy"] >= 0.8
    assert res.outcome.data["diagnosis"].kind not in ("too_few_updates", "chance_level")

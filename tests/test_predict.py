"""Checkpoints and ``dlsm predict``: a saved run classifies image files exactly like the model in memory (its
probabilities equal a softmax computed by hand from the saved weights), photos of digits are prepared like
MNIST, unreadable files are reported without stopping the others, and damaged or hostile files give clear
errors without running any code."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

from dlsm import runner
from dlsm.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from dlsm.cli import main
from dlsm.errors import DataError
from dlsm.labs import classify, get_lab
from dlsm.predict import predict_files, predict_images
from dlsm.problems.image_folder import load_image_files, mnist_style
from dlsm.problems.images import load_embedded_mnist

SETTINGS = {"n_train": 1000, "n_test": 100, "width": 256}  # the quick preset: ReLU, Adam, 3 epochs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A classify run folder written by the runner, as `dlsm run classify` does."""
    root = tmp_path_factory.mktemp("runs")
    outcome = runner.run_one(get_lab("classify"), classify.Config.make("quick", **SETTINGS), root, "quick")
    assert (outcome.path / "artifacts.pt").is_file()
    return outcome.path


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Eight test digits as 28x28 grey PNG files, and the same images as a tensor."""
    _, test = load_embedded_mnist(n_train=10, n_test=8)
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i, x in enumerate(test.X):
        path = folder / f"digit{i}_{test.classes[int(test.y[i])]}.png"
        Image.fromarray(np.round(x[0].numpy() * 255).astype(np.uint8), mode="L").save(path)
        paths.append(path)
    return paths, test.X


def _predicted(stdout: str) -> dict[str, tuple[str, float]]:
    """{file name: (class, p)} from the lines ``PATH: CLASS  (p = 0.1234)``."""
    found = {}
    for line in stdout.splitlines():
        m = re.match(r"^(.+): (\S+)  \(p = ([0-9.]+)\)", line)
        if m and not line.startswith("checkpoint"):
            found[m.group(1).rsplit("/", 1)[-1]] = (m.group(2), float(m.group(3)))
    return found


def test_checkpoint_round_trip_gives_the_same_model(run_dir, digits):
    ckpt = load_checkpoint(run_dir)  # the folder: its artifacts.pt
    assert ckpt.model == "mlp" and ckpt.classes == tuple(str(d) for d in range(10))
    assert (ckpt.channels, ckpt.image_size, ckpt.mean, ckpt.std) == (1, (28, 28), 0.5, 1.0)
    assert ckpt.config["width"] == 256 and ckpt.metrics["n_test"] == 100
    artifacts = torch.load(run_dir / "artifacts.pt", weights_only=True)
    for name, t in artifacts["state_dict"].items():  # the trained weights, not a fresh model
        torch.testing.assert_close(ckpt.state_dict[name], t)
    _, X = digits
    copy = save_checkpoint(ckpt, run_dir.parent / "copy.pt")
    again = load_checkpoint(copy)
    torch.testing.assert_close(again.build_model()(again.normalize(X)), ckpt.build_model()(ckpt.normalize(X)))


def test_predict_prints_the_models_classes_and_probabilities(run_dir, digits, capsys):
    paths, X = digits
    assert main(["predict", str(run_dir / "artifacts.pt"), *map(str, paths), "--top", "10"]) == 0
    out = capsys.readouterr().out
    # the oracle: the checkpoint's model applied to the in-memory tensors (no file reading)
    ckpt = load_checkpoint(run_dir)
    with torch.no_grad():
        p = ckpt.build_model()(ckpt.normalize(X)).exp()  # (8, 10)
    found = _predicted(out)
    assert len(found) == len(paths)
    for i, path in enumerate(paths):
        cls, prob = found[path.name]
        assert cls == str(int(p[i].argmax()))
        assert prob == pytest.approx(float(p[i].max()), abs=1e-4)
    # with --top 10 every class is listed once per image, and the probabilities sum to 1
    block = out.split(f"{paths[0]}:")[1].split(str(paths[1]))[0].splitlines()[1:]
    probs = [float(line.split()[1]) for line in block if line.strip()]
    assert len(probs) == 10 and sum(probs) == pytest.approx(1.0, abs=1e-3)
    assert "test accuracy" in out.splitlines()[0]


def test_dark_digits_on_white_paper_are_inverted(run_dir, digits, tmp_path, capsys):
    paths, X = digits
    inverted = tmp_path / "paper.png"
    Image.fromarray(255 - np.round(X[0, 0].numpy() * 255).astype(np.uint8), mode="L").save(inverted)
    assert main(["predict", str(run_dir), str(paths[0]), str(inverted)]) == 0
    out = capsys.readouterr().out
    found = _predicted(out)
    assert found["paper.png"][0] == found[paths[0].name][0]
    # the oracle: the model applied to MNIST's preparation of the inverted photo, computed here
    ckpt = load_checkpoint(run_dir)
    expected = predict_images(ckpt, torch.from_numpy(mnist_style(1.0 - X[0, 0].numpy()))[None, None])[0]
    assert found["paper.png"][1] == pytest.approx(float(expected.max()), abs=1e-4)
    assert "inverted" in out


def test_missing_and_corrupt_checkpoints_are_clear_errors(run_dir, digits, tmp_path, capsys):
    image = str(digits[0][0])
    assert main(["predict", str(tmp_path / "nope.pt"), image]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), image]) == 2
    assert "without artifacts.pt" in capsys.readouterr().err

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((run_dir / "artifacts.pt").read_bytes()[:3000])
    for bad in (garbage, truncated):
        assert main(["predict", str(bad), image]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and "cannot read" in err and "Traceback" not in err


class _Planted:
    """Unpickling this would create a file: the test checks that loading never does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_never_executes_code_from_the_file(tmp_path):
    marker = tmp_path / "was_executed"
    hostile = tmp_path / "hostile.pt"
    torch.save({"checkpoint": _Planted(marker)}, hostile)
    with pytest.raises(DataError, match="never execute code"):
        load_checkpoint(hostile)
    assert not marker.exists()
    # the plant is real: an unrestricted unpickler runs it
    pickle.loads(pickle.dumps(_Planted(tmp_path / "plain_marker"))).close()
    assert (tmp_path / "plain_marker").exists()


def test_artifacts_without_a_checkpoint_and_foreign_files(tmp_path):
    no_ckpt = tmp_path / "artifacts.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, no_ckpt)
    with pytest.raises(DataError, match="no classifier checkpoint; dlsm predict needs a run of the classify lab"):
        load_checkpoint(tmp_path)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(DataError, match="not a dlsm classifier checkpoint"):
        load_checkpoint(foreign)
    payload = Checkpoint("mlp", {"in_shape": [1, 4, 4], "n_classes": 2, "widths": [3]},
                         {"net.1.weight": torch.zeros(5, 5)}, ("a", "b"), 1, (4, 4), 0.5, 1.0).to_payload()
    bad_weights = tmp_path / "bad_weights.pt"
    torch.save(payload, bad_weights)
    with pytest.raises(DataError, match="do not fit"):
        load_checkpoint(bad_weights).build_model()


def test_predict_rejects_bad_arguments(run_dir, tmp_path, capsys):
    assert main(["predict", str(run_dir), str(tmp_path / "missing.png")]) == 1
    assert "no such image file" in capsys.readouterr().err
    assert main(["predict", str(run_dir), str(tmp_path / "missing.png"), "--top", "0"]) == 2
    assert "--top" in capsys.readouterr().err


def test_own_image_folder_trains_a_colour_cnn_and_predicts(tmp_path, capsys):
    # Lecture 1's example: two classes of colour photos, here reddish and bluish noise (separable by colour).
    rng = np.random.default_rng(0)
    for name, channel in (("cats", 0), ("dogs", 2)):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(12):
            rgb = rng.integers(0, 100, (20, 20, 3))
            rgb[..., channel] += 155
            Image.fromarray(rgb.astype(np.uint8), mode="RGB").save(tmp_path / "pets" / name / f"{i}.png")
    config = classify.Config.make("quick", data=f"folder:{tmp_path / 'pets'}", image_size=12, batch_size=4,
                                  steps=40, test_fraction=0.25)  # the folder recipe: the small CNN
    outcome = runner.run_one(get_lab("classify"), config, tmp_path / "runs", "quick")
    m = outcome.result.metrics
    assert (m["n_classes"], m["n_train"], m["n_val"], m["n_test"]) == (2, 16, 2, 6)
    assert (m["model"], m["activation"]) == ("small_cnn", "relu")
    ckpt = load_checkpoint(outcome.path)
    assert ckpt.model == "small_cnn" and ckpt.classes == ("cats", "dogs") and ckpt.channels == 3
    assert ckpt.image_size == (12, 12)
    assert ckpt.state_dict["features.0.weight"].shape == (16, 3, 3, 3)  # 3 input channels
    probe = tmp_path / "probe.png"
    red = np.zeros((40, 30, 3), dtype=np.uint8)
    red[..., 0] = 230  # a larger, non-square red image: resized and cropped like the training images
    Image.fromarray(red, mode="RGB").save(probe)
    assert main(["predict", str(outcome.path), str(probe), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 classes, 12x12 colour images" in out
    assert m["test_accuracy"] == 1.0  # the classes differ in colour: trivially separable
    assert _predicted(out)["probe.png"][0] == "cats"


# ----- the oracle: a softmax computed by hand from the saved weights -------------------------------------
def test_probabilities_are_the_softmax_of_the_saved_weights_by_hand(run_dir, digits):
    ckpt = load_checkpoint(run_dir)
    _, X = digits
    sd = ckpt.state_dict
    h = (X.reshape(len(X), -1) - 0.5) / 1.0  # the course's normalisation
    h = torch.relu(h @ sd["mlp.net.0.weight"].T + sd["mlp.net.0.bias"])
    h = torch.relu(h @ sd["mlp.net.2.weight"].T + sd["mlp.net.2.bias"])
    z = h @ sd["mlp.net.4.weight"].T + sd["mlp.net.4.bias"]  # (8, 10) logits
    expected = torch.exp(z - z.max(1, keepdim=True).values)
    expected /= expected.sum(1, keepdim=True)
    torch.testing.assert_close(predict_images(ckpt, X), expected, rtol=1e-5, atol=1e-6)


# ----- digit photos: MNIST's own preparation --------------------------------------------------------------
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def _render_digit(d: int, rng: np.random.Generator, path: Path) -> None:
    """A dark digit from a font on light, noisy paper, at a random size and place in a larger image."""
    W, H = int(rng.integers(50, 90)), int(rng.integers(50, 90))
    img = Image.new("L", (W, H), int(rng.integers(200, 245)))
    font = ImageFont.truetype(str(FONT), int(rng.integers(28, 44)))
    draw = ImageDraw.Draw(img)
    left, top, right, bottom = draw.textbbox((0, 0), str(d), font=font)
    x = int(rng.integers(0, max(1, W - (right - left)))) - left
    y = int(rng.integers(0, max(1, H - (bottom - top)))) - top
    draw.text((x, y), str(d), fill=int(rng.integers(10, 60)), font=font)
    noisy = np.asarray(img, dtype=float) + rng.normal(0, 12, (H, W))
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), mode="L").save(path)


@pytest.fixture(scope="module")
def font_digits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("font_digits")
    rng = np.random.default_rng(0)
    paths = [folder / f"font{i}_{i % 10}.png" for i in range(30)]
    for i, path in enumerate(paths):
        _render_digit(i % 10, rng, path)
    return paths


def test_mnist_style_fits_the_ink_in_20x20_and_centres_its_mass():
    canvas = np.full((60, 90), 0.9, dtype=np.float32)  # light paper
    canvas[10:50, 30:40] = 0.1  # a dark bar, 40 tall and 10 wide, off centre
    out = mnist_style(canvas)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0, abs=0.02)  # inverted: white ink
    rows, cols = np.flatnonzero((out > 0.5).any(1)), np.flatnonzero((out > 0.5).any(0))
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 == 5  # 40x10 -> 20x5, aspect kept
    r = (out.sum(1) @ np.arange(28)) / out.sum()
    c = (out.sum(0) @ np.arange(28)) / out.sum()
    assert abs(r - 13.5) <= 0.5 and abs(c - 13.5) <= 0.5  # centre of mass at the centre
    assert not mnist_style(np.full((9, 9), 0.8, dtype=np.float32)).any()  # a blank page stays blank


def test_photos_of_digits_are_read_like_mnist_and_classified(run_dir, font_digits):
    ckpt = load_checkpoint(run_dir)
    predictions, bad = predict_files(ckpt, font_digits)
    assert not bad and all(p.inverted for p in predictions)
    right = sum(p.top(1)[0][0] == i % 10 for i, p in enumerate(predictions))
    # the old reading: centre-crop and resize the whole photo, inverted
    naive = predict_images(ckpt, 1 - load_image_files(font_digits, (28, 28), 1)).argmax(1)
    naive_right = int((naive == torch.arange(30) % 10).sum())
    assert right >= 15 and right >= naive_right + 8  # measured: 20 and 5 of 30


def test_one_unreadable_file_is_reported_and_the_others_classified(run_dir, font_digits, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    files = [str(font_digits[0]), str(broken), str(font_digits[1]), str(tmp_path / "missing.png")]
    assert main(["predict", str(run_dir), *files]) == 1
    captured = capsys.readouterr()
    found = _predicted(captured.out)
    assert set(found) == {font_digits[0].name, font_digits[1].name}
    assert "broken.png: cannot read it" in captured.err and "missing.png: no such image file" in captured.err
    assert "2 of 4 image files could not be classified" in captured.err


def test_a_run_folder_of_a_lab_without_a_classifier_names_what_works(tmp_path, capsys):
    outcome = runner.run_one(get_lab("gates"), get_lab("gates").config.make("quick"), tmp_path, "quick")
    assert main(["predict", str(outcome.path), str(tmp_path / "any.png")]) == 2
    err = capsys.readouterr().err
    assert "run of the gates lab" in err and "dlsm run classify" in err and "save_checkpoint" not in err
    for name in ("artifacts.pt", "checkpoint.pt"):
        if (outcome.path / name).is_file():
            assert main(["predict", str(outcome.path / name), str(tmp_path / "any.png")]) == 2
            err = capsys.readouterr().err
            assert "dlsm run classify" in err and "save_checkpoint" not in err

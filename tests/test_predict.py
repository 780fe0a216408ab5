"""Checkpoints and ``dlsm predict``: a saved run classifies image files exactly like the model in memory,
and damaged or hostile files give clear errors without running any code."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
import torch
from PIL import Image

from dlsm import runner
from dlsm.checkpoints import Checkpoint, load_checkpoint, save_checkpoint
from dlsm.cli import main
from dlsm.errors import DataError
from dlsm.labs import classify, get_lab
from dlsm.problems.images import load_embedded_mnist

SETTINGS = {"activation": "relu", "optimizer": "adam", "lr": 0.003, "width": 64, "batch_size": 50,
            "epochs": 2, "n_train": 300, "n_test": 100}


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
    assert ckpt.config["width"] == 64 and 0.0 <= ckpt.metrics["test_accuracy"] <= 1.0
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
    assert found["paper.png"][1] == pytest.approx(found[paths[0].name][1], abs=1e-4)
    assert "inverted" in out


def test_missing_and_corrupt_checkpoints_are_clear_errors(run_dir, digits, tmp_path, capsys):
    image = str(digits[0][0])
    assert main(["predict", str(tmp_path / "nope.pt"), image]) == 1
    assert "checkpoint not found" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), image]) == 1
    assert "without artifacts.pt" in capsys.readouterr().err

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes((run_dir / "artifacts.pt").read_bytes()[:3000])
    for bad in (garbage, truncated):
        assert main(["predict", str(bad), image]) == 1
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
    with pytest.raises(DataError, match="save_checkpoint=true"):
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
    config = classify.Config.make("quick", data=f"folder:{tmp_path / 'pets'}", image_size=12, model="cnn",
                                  optimizer="adam", lr=0.003, batch_size=4, epochs=3, test_fraction=0.25)
    outcome = runner.run_one(get_lab("classify"), config, tmp_path / "runs", "quick")
    m = outcome.result.metrics
    assert (m["n_classes"], m["n_train"], m["n_test"]) == (2, 18, 6)
    ckpt = load_checkpoint(outcome.path)
    assert ckpt.classes == ("cats", "dogs") and ckpt.channels == 3 and ckpt.image_size == (12, 12)
    assert ckpt.state_dict["features.0.weight"].shape == (32, 3, 3, 3)  # 3 input channels
    probe = tmp_path / "probe.png"
    red = np.zeros((40, 30, 3), dtype=np.uint8)
    red[..., 0] = 230  # a larger, non-square red image: resized and cropped like the training images
    Image.fromarray(red, mode="RGB").save(probe)
    assert main(["predict", str(outcome.path), str(probe), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 classes, 12x12 colour images" in out
    assert m["test_accuracy"] == 1.0  # the classes differ in colour: trivially separable
    assert _predicted(out)["probe.png"][0] == "cats"

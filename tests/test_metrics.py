"""Metrics against scikit-learn, and the course's accuracy defect on a short last batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from dlsm.metrics import accuracy, confusion_matrix


@pytest.mark.parametrize("n, k", [(1, 2), (37, 3), (1050, 10)])
def test_accuracy_matches_scikit_learn(n, k):
    rng = np.random.default_rng(n)
    y = rng.integers(0, k, n)
    y_hat = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    assert accuracy(y_hat, y) == pytest.approx(accuracy_score(y, y_hat), abs=1e-15)
    assert accuracy(torch.from_numpy(y_hat), torch.from_numpy(y)) == pytest.approx(accuracy_score(y, y_hat))


def test_classify_lab_divides_by_the_number_of_test_images_not_batches_times_batch_size(tmp_path):
    """The lab's test accuracy against an independent oracle: its saved model predicts every test image
    again (dlsm.predict) and scikit-learn counts. 250 test images in batches of 100 leave a short last
    batch, where the course's formula (correct / (batches x 100)) would divide by 300."""
    from dlsm.checkpoints import load_checkpoint
    from dlsm.labs import classify
    from dlsm.predict import predict_images
    from dlsm.problems.images import load_embedded_mnist
    from dlsm.runner import run_one

    config = classify.Config.make("quick", n_train=500, n_test=250, batch_size=100, epochs=3, lr=0.005, width=32,
                                  depth=1, device="cpu")
    run = run_one(classify.LAB, config, tmp_path, size="quick")
    result = run.result
    _, test = load_embedded_mnist()
    y_true = test.y[:250].numpy()
    y_hat = predict_images(load_checkpoint(run.path), test.X[:250]).argmax(dim=1).numpy()
    oracle = accuracy_score(y_true, y_hat)
    assert 0.2 < oracle < 1.0  # it learned something, and it is not a trivial all-correct case
    assert result.metrics["test_accuracy"] == pytest.approx(oracle, abs=1 / 250 + 1e-12)
    assert result.metrics["test_accuracy"] != pytest.approx(oracle * 250 / 300, abs=1 / 250)


def test_confusion_matrix_matches_scikit_learn_with_absent_classes():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 200)  # classes 4 and 5 never occur
    y_hat = rng.integers(0, 5, 200)
    C = confusion_matrix(y, y_hat, 6)
    np.testing.assert_array_equal(C, sk_confusion_matrix(y, y_hat, labels=range(6)))
    assert C.shape == (6, 6) and C.sum() == 200
    assert np.trace(C) / C.sum() == pytest.approx(accuracy_score(y, y_hat))


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="differ in length"):
        accuracy(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError, match="empty"):
        accuracy(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(ValueError, match="integer class labels"):
        accuracy(np.array([0.5]), np.array([0]))
    with pytest.raises(ValueError, match="outside 0..2"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 3)

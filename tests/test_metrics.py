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


def test_accuracy_divides_by_the_true_number_of_samples_not_batches_times_batch_size():
    # 1,050 test images in batches of 200: 6 batches, the last holds 50. All predictions right.
    y = torch.arange(1050) % 10
    batches = torch.split(y, 200)
    correct = sum(int((b == b).sum()) for b in batches)
    course_formula = correct / (len(batches) * 200)  # what the course notebook computed
    assert course_formula == pytest.approx(1050 / 1200)  # 87.5 % for a perfect classifier
    assert accuracy(torch.cat(batches), y) == 1.0


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

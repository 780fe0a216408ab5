"""The errors of the labs, the detectors, least squares and the MLP speak the reader's language.

Each error is triggered for real (through ``<lab>.Config.make``, the public function or the CLI), once in
English and once in Japanese; the English must be what these messages always said (other tests match on it),
the Japanese must carry the same value (the bad setting, the path) in a Japanese sentence.
"""

from __future__ import annotations

import pytest
import torch

from dlsm.cli import main
from dlsm.errors import ConfigError, DataError
from dlsm.i18n import language


def raised(fn, exc_type: type[Exception], lang: str) -> str:
    """The message of the ``exc_type`` that ``fn()`` raises in ``lang``."""
    with language(lang), pytest.raises(exc_type) as info:
        fn()
    return str(info.value)


def both(fn, exc_type: type[Exception] = ConfigError) -> tuple[str, str]:
    """(English, Japanese) messages of the error that ``fn()`` raises."""
    return raised(fn, exc_type, "en"), raised(fn, exc_type, "ja")


# ----- labs, through Config.make --------------------------------------------------------------------------
def test_mimo_snr_grid_and_repeated_detector():
    from dlsm.labs import mimo

    en, ja = both(lambda: mimo.Config.make("quick", snr_grid=(0.0, 200.0)))
    assert en == "snr_grid: got (0.0, 200.0); allowed: finite SNRs in dB within ±100"
    assert "(0.0, 200.0) は使えません" in ja and "±100 dB" in ja
    en, ja = both(lambda: mimo.Config.make("quick", detectors=("zf", "zf")))
    assert "each detector at most once" in en and "('zf', 'zf')" in en
    assert "('zf', 'zf')" in ja and "1 回まで" in ja


def test_unfold_setting_and_tista_size():
    from dlsm.labs import unfold

    en, ja = both(lambda: unfold.Config.make("quick", setting="nope"))
    assert en.startswith("setting: got 'nope'; allowed: one of: ")
    assert "'nope' は使えません" in ja and "次のいずれか" in ja
    en, ja = both(lambda: unfold.Config.make("quick", m=80, n=60, tista=True))
    assert "m: got m = 80 > n = 60; TISTA's W" in en and "tista=false" in en
    assert "m = 80 > n = 60" in ja and "正則" in ja and "tista=false" in ja


def test_classify_data_and_patience():
    from dlsm.labs import classify

    en, ja = both(lambda: classify.Config.make("quick", data="cifar"))
    assert en == "data: got 'cifar'; allowed: mnist-5k, mnist, idx:<folder>, folder:<path>"
    assert "'cifar' は使えません" in ja and "idx:<folder>" in ja
    en, ja = both(lambda: classify.Config.make("quick", patience=3, val_fraction=0.0))
    assert en.startswith("patience: got 3 but val_fraction is 0; early stopping")
    assert "patience: 3" in ja and "早期終了" in ja and "patience=none" in ja


def test_gd2d_symmetry_and_optimizer():
    from dlsm.labs import gd2d

    en, ja = both(lambda: gd2d.Config.make("quick", Q=(2.0, 1.0, 0.0, 3.0)))
    assert en == "Q: got (2.0, 1.0, 0.0, 3.0); Q must be symmetric (q12 = q21)"
    assert "(2.0, 1.0, 0.0, 3.0) は使えません" in ja and "対称" in ja
    config = gd2d.Config.make("quick")
    en, ja = both(lambda: gd2d.make_rule("lbfgs", config))
    assert en.startswith("optimizer: got 'lbfgs'; allowed: one of: gd")
    assert "'lbfgs' は使えません" in ja


def test_tgd_random_quadratic_needs_rq_m_at_least_rq_n():
    from dlsm.labs import tgd

    en, ja = both(lambda: tgd.Config.make("quick", random_quadratic=True, rq_m=3, rq_n=5))
    assert en.startswith("rq_m: got 3 < rq_n = 5; Q = AᵀA is singular then")
    assert "3 < rq_n = 5" in ja and "固有値" in ja and "rq_m >= rq_n" in ja


def test_sparse_noise_given_twice():
    from dlsm.labs import sparse

    en, ja = both(lambda: sparse.Config.make("quick", snr_db=20.0, noise_std=0.1))
    assert en == "give snr_db or noise_std, not both (got snr_db=20.0, noise_std=0.1)"
    assert "どちらか一方" in ja and "snr_db=20.0, noise_std=0.1" in ja


def test_quadfit_and_activations_ranges():
    from dlsm.labs import activations, quadfit

    en, ja = both(lambda: quadfit.Config.make("quick", x_min=1.0, x_max=0.5))
    assert en == "x_max: got 0.5; must be greater than x_min = 1"
    assert "x_max: 0.5 は使えません" in ja and "x_min = 1 より大きく" in ja
    en, ja = both(lambda: activations.Config.make("quick", u_min=2.0, u_max=-2.0))
    assert en == "u_max: got -2; must be greater than u_min = 2"
    assert "u_max: -2 は使えません" in ja and "u_min = 2 より大きく" in ja


# ----- the labs' training helpers -------------------------------------------------------------------------
def test_unfold_load_of_a_missing_folder(tmp_path):
    from dlsm.labs._unfold_train import load_saved

    missing = str(tmp_path / "nowhere")
    en, ja = both(lambda: load_saved(missing))
    assert en == f"load: got {missing!r}; no such run folder or artifacts.pt of the unfold lab"
    assert repr(missing) in ja and "見つかりません" in ja


def test_unfold_load_without_the_method(tmp_path):
    from dlsm.labs import unfold

    torch.save({"config": {}, "lista/0": {}}, tmp_path / "artifacts.pt")
    config = unfold.Config.make("quick", m=10, n=20, T=2, n_test=20, n_matrices=1, du_ista=True, lista=False,
                                lista_tied=False, tista=False, load=str(tmp_path))
    en, ja = both(lambda: unfold.run(config))
    assert en.startswith(f"load: {tmp_path} has no trained DU-ISTA for draw 0; it holds lista")
    assert str(tmp_path) in ja and "学習済みの DU-ISTA がありません" in ja and "du_ista を外して" in ja


def test_classify_validation_split_without_two_images_per_class():
    from dlsm.labs._classify_train import split_validation
    from dlsm.problems.images import ImageDataset

    data = ImageDataset(X=torch.zeros(2, 1, 4, 4), y=torch.tensor([0, 1]), classes=("a", "b"), name="tiny")
    en, ja = both(lambda: split_validation(data, 0.5, seed=0), DataError)
    assert en == "val_fraction=0.5: no class has two training images to split"
    assert "val_fraction=0.5" in ja and "クラスがありません" in ja


def test_gates_loss_and_diffusion_network():
    from dlsm.labs._diffusion_training import build_network
    from dlsm.labs._gates_train import loss_function

    en, ja = both(lambda: loss_function("l1"))
    assert en == "loss: got 'l1'; allowed: one of: mse, bce"
    assert "loss: 'l1' は使えません" in ja and "mse, bce" in ja
    en, ja = both(lambda: build_network({"network": "vit"}, 1, torch.Generator()))
    assert en == "network='vit': unknown; allowed: course, sinusoidal, unet, latent"
    assert "network='vit'" in ja and "取りうる値" in ja


# ----- algorithms and models ------------------------------------------------------------------------------
def test_least_squares_rank_and_constant_column():
    from dlsm.algorithms.least_squares import Standardizer, least_squares

    X = torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # the second column is twice the first: rank 1
    en, ja = both(lambda: least_squares(X, torch.zeros(3)), DataError)
    assert en == ("least squares needs 2 linearly independent centred input columns and more than 2 samples; "
                  "got 3 samples of rank 1")
    assert "最小二乗法" in ja and "サンプルは 3 個、ランクは 1" in ja
    en, ja = both(lambda: Standardizer.fit(torch.ones(4, 2)), DataError)
    assert en == "cannot standardise a constant input column (its standard deviation is 0)"
    assert "標準化できません" in ja and "標準偏差が 0" in ja


def test_detectors_exhaustive_limit_and_kbest_k():
    from dlsm.algorithms.detectors import KBest, check_exhaustive
    from dlsm.problems.mimo import constellation

    pam4 = constellation("pam4")
    en, ja = both(lambda: check_exhaustive(pam4, 12, "ml"))  # 4^12 = 2^24 > 2^20
    assert en.startswith("detectors: ml searches all 4^12 = 1.68e+07 candidate vectors, above the limit 2^20")
    assert "n <= 10" in en and "4^12 = 1.68e+07" in ja and "n <= 10" in ja and "ml を外して" in ja
    en, ja = both(lambda: KBest(pam4, k=0))
    assert en == "kbest_k: got 0; allowed: an integer >= 1"
    assert "kbest_k: 0 は使えません" in ja and "1 以上の整数" in ja


def test_mlp_widths_and_activation():
    from dlsm.models.mlp import MLP, make_activation

    en, ja = both(lambda: MLP((3,)))
    assert en == "widths: got (3,); allowed: at least two widths, each >= 1"
    assert "widths: (3,) は使えません" in ja
    en, ja = both(lambda: make_activation("swish"))
    assert en.startswith("activation: got 'swish'; allowed: one of: ") and en.endswith("(or an nn.Module)")
    assert "'swish' は使えません" in ja and "nn.Module" in ja


# ----- through the command line ---------------------------------------------------------------------------
def test_cli_prints_the_lab_error_in_japanese(capsys):
    with language("en"):
        assert main(["run", "quadfit", "--quick", "x_min=1", "x_max=0.5"]) == 2
    assert "x_max: got 0.5; must be greater than x_min = 1" in capsys.readouterr().err
    with language("ja"):
        assert main(["run", "quadfit", "--quick", "x_min=1", "x_max=0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("エラー: ") and "x_max: 0.5 は使えません" in err

"""The data layer's errors (image folders, IDX files, full MNIST, data sources) come from the glossary: the same
English as before, and Japanese under language("ja"), with the path or value of the fault in both."""

from __future__ import annotations

import numpy as np
import pytest

from dlsm.errors import DataError
from dlsm.i18n import language
from dlsm.problems.idx import read_idx, write_idx
from dlsm.problems.image_folder import scan_image_folder
from dlsm.problems.images import load_dataset, load_idx_folder
from dlsm.problems.mnist_download import require_mnist


def _both(fn) -> tuple[str, str]:
    with pytest.raises(DataError) as en:
        fn()
    with language("ja"), pytest.raises(DataError) as ja:
        fn()
    return str(en.value), str(ja.value)


def test_image_folder_layout_faults(tmp_path):
    en, ja = _both(lambda: scan_image_folder(tmp_path / "nope"))
    assert en == f"image folder {tmp_path / 'nope'} does not exist" and "がありません" in ja and "nope" in ja
    (tmp_path / "a.png").write_bytes(b"")
    en, ja = _both(lambda: scan_image_folder(tmp_path))
    assert "has 1 image files but no sub-folders" in en and "サブフォルダがありません" in ja and "cats" in ja
    (tmp_path / "train").mkdir()
    en, ja = _both(lambda: scan_image_folder(tmp_path))
    assert "that looks like a split" in en and "データの分割" in ja and "train/" in ja


def test_a_class_folder_without_images_names_what_was_ignored(tmp_path):
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
    (tmp_path / "cats" / "notes.txt").write_text("x")
    en, ja = _both(lambda: scan_image_folder(tmp_path))
    assert "(ignored, not an image format Pillow reads: notes.txt)" in en
    assert "無視したファイル: notes.txt" in ja and "画像ファイルがありません" in ja


def test_idx_file_faults(tmp_path):
    short = tmp_path / "short.idx"
    short.write_bytes(b"\x00\x00")
    en, ja = _both(lambda: read_idx(short))
    assert en.endswith("not an IDX file (only 2 bytes; the header alone has 4)") and "2 バイトしか" in ja
    cut = write_idx(tmp_path / "cut.idx", np.zeros((3, 4), dtype="uint8"))
    cut.write_bytes(cut.read_bytes()[:-5])
    en, ja = _both(lambda: read_idx(cut))
    assert "truncated IDX file" in en and "途中で切れています" in ja and "(3, 4)" in ja
    en, ja = _both(lambda: load_idx_folder(tmp_path / "none"))
    assert "does not exist (or is not a folder)" in en and "IDX のフォルダ" in ja


def test_full_mnist_missing_from_the_cache_says_how_to_get_it(tmp_path):
    en, ja = _both(lambda: require_mnist(tmp_path))
    assert "full MNIST is not in the cache folder" in en and "dlsm data download" in en
    assert "キャッシュのフォルダ" in ja and "dlsm data download" in ja and str(tmp_path) in ja


def test_unknown_data_source():
    en, ja = _both(lambda: load_dataset("cifar"))
    assert en.startswith("unknown data source 'cifar'") and "'cifar' は使えません" in ja


def test_bad_problem_values_use_the_configs_wording():
    """The problems' own value checks read like the config's (cli.err.bad_value): English unchanged."""
    from dlsm.errors import ConfigError
    from dlsm.problems.gates import truth_table
    from dlsm.problems.mimo import constellation

    for fn, en_text, ja_text in ((lambda: constellation("qam"), "modulation: got 'qam'; allowed: one of: bpsk, pam4",
                                  "modulation: 'qam' は使えません。取りうる値: 次のいずれか: bpsk, pam4"),
                                 (lambda: truth_table("NOR3"), "gate: got 'NOR3'; allowed: one of:",
                                  "gate: 'NOR3' は使えません")):
        with pytest.raises(ConfigError) as en:
            fn()
        with language("ja"), pytest.raises(ConfigError) as ja:
            fn()
        assert str(en.value).startswith(en_text) and str(ja.value).startswith(ja_text)


def test_sparse_setting_and_embedded_subset_refusals():
    from dlsm.errors import ConfigError
    from dlsm.problems.images import load_embedded_mnist
    from dlsm.problems.sparse import SparseSetting

    cases = ((lambda: SparseSetting(n=10, m=5, p=0.1, snr_db=None, noise_std=None),
              "give exactly one of snr_db / noise_std", "どちらか一方だけ"),
             (lambda: load_embedded_mnist(n_train=10**6), "the embedded MNIST subset has 1 to", "埋め込みの MNIST"))
    for fn, en_text, ja_text in cases:
        with pytest.raises(ConfigError) as en:
            fn()
        with language("ja"), pytest.raises(ConfigError) as ja:
            fn()
        assert en_text in str(en.value) and ja_text in str(ja.value)

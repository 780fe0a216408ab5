"""The errors of runs, sweeps, reports, checkpoints and the training settings speak the reader's language.

Each error is triggered for real (through the CLI or the public function), once in English and once in
Japanese; the English must be what these messages always said (other tests match on it), the Japanese must
carry the same value (the path, the bad setting) in a Japanese sentence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlsm.cli import main
from dlsm.errors import ConfigError, DataError
from dlsm.i18n import language


def cli_error(capsys, argv: list[str], lang: str) -> tuple[int, str]:
    """Exit status and stderr of ``dlsm argv`` in ``lang``."""
    with language(lang):
        status = main(argv)
    return status, capsys.readouterr().err


def raised(fn, exc_type: type[Exception], lang: str) -> str:
    """The message of the ``exc_type`` that ``fn()`` raises in ``lang``."""
    with language(lang), pytest.raises(exc_type) as info:
        fn()
    return str(info.value)


# ----- through the command line ---------------------------------------------------------------------------
def test_resume_of_a_file(capsys, tmp_path):  # dlsm.runner
    file = tmp_path / "metrics.json"
    file.write_text("{}")
    status, en = cli_error(capsys, ["run", "gd1d", "--resume", str(file)], "en")
    assert status == 2
    assert f"--resume {file}: this is a file; give the run folder that holds config.json" in en
    status, ja = cli_error(capsys, ["run", "gd1d", "--resume", str(file)], "ja")
    assert status == 2
    assert ja.startswith("エラー: ") and str(file) in ja and "これはファイルです" in ja and "config.json" in ja


def test_resume_of_a_folder_without_config(capsys, tmp_path):  # dlsm.runner
    _, en = cli_error(capsys, ["run", "gd1d", "--resume", str(tmp_path)], "en")
    assert f"{tmp_path}: not a dlsm run folder (no config.json)" in en
    _, ja = cli_error(capsys, ["run", "gd1d", "--resume", str(tmp_path)], "ja")
    assert str(tmp_path) in ja and "実行フォルダではありません" in ja


def test_report_of_a_missing_folder(capsys, tmp_path):  # dlsm.report
    missing = tmp_path / "no_such_runs"
    status, en = cli_error(capsys, ["report", str(missing), "--out", str(tmp_path / "r")], "en")
    assert status == 2 and f"{missing}: no such folder" in en
    status, ja = cli_error(capsys, ["report", str(missing), "--out", str(tmp_path / "r")], "ja")
    assert status == 2 and f"{missing}: そのようなフォルダはありません" in ja


def test_predict_without_a_checkpoint(capsys, tmp_path):  # dlsm.checkpoints
    missing = tmp_path / "model.pt"
    image = tmp_path / "digit.png"
    status, en = cli_error(capsys, ["predict", str(missing), str(image)], "en")
    assert status == 2 and f"checkpoint not found: {missing}" in en
    _, ja = cli_error(capsys, ["predict", str(missing), str(image)], "ja")
    assert f"チェックポイントが見つかりません: {missing}" in ja


def test_predict_of_a_corrupt_file(capsys, tmp_path):  # dlsm.checkpoints (load_plain)
    broken = tmp_path / "artifacts.pt"
    broken.write_bytes(b"not a pytorch file at all")
    _, en = cli_error(capsys, ["predict", str(broken), str(tmp_path / "x.png")], "en")
    assert f"cannot read {broken}: the file is truncated, corrupt or not a PyTorch file" in en
    _, ja = cli_error(capsys, ["predict", str(broken), str(tmp_path / "x.png")], "ja")
    assert str(broken) in ja and "壊れている" in ja and "保存し直してください" in ja


def test_predict_of_a_run_of_another_lab(capsys, tmp_path):  # dlsm.checkpoints, the advice composed of two keys
    (tmp_path / "config.json").write_text('{"lab": "gd1d", "config": {}}')
    _, en = cli_error(capsys, ["predict", str(tmp_path), str(tmp_path / "x.png")], "en")
    assert f"{tmp_path} is a run of the gd1d lab, which trains no image classifier; dlsm predict needs" in en
    _, ja = cli_error(capsys, ["predict", str(tmp_path), str(tmp_path / "x.png")], "ja")
    assert "gd1d ラボの実行" in ja and "classify ラボの実行が必要です" in ja and "dlsm run classify --quick" in ja


def test_predict_top_must_be_positive(capsys, tmp_path):  # dlsm.predict
    argv = ["predict", str(tmp_path / "m.pt"), str(tmp_path / "x.png"), "--top", "0"]
    status, en = cli_error(capsys, argv, "en")
    assert status == 2 and "--top: got 0; allowed: an integer >= 1" in en
    _, ja = cli_error(capsys, argv, "ja")
    assert "--top: 0 は使えません" in ja and "1 以上の整数" in ja


# ----- through the public functions -----------------------------------------------------------------------
def test_load_run_of_a_plain_folder(tmp_path):  # dlsm.runs
    from dlsm.runs import load_run

    assert raised(lambda: load_run(tmp_path), DataError, "en") == \
        f"{tmp_path} is not a dlsm run folder (config.json is missing)"
    ja = raised(lambda: load_run(tmp_path), DataError, "ja")
    assert ja.startswith(str(tmp_path)) and "実行フォルダではありません" in ja


def test_sweep_range_and_seeds():  # dlsm.sweeps
    from dlsm.labs import get_lab
    from dlsm.sweeps import expand, expand_range

    config_cls = get_lab("gd1d").config
    spec = config_cls.spec("lr")
    en = raised(lambda: expand_range(spec, "0.1:0.5:0"), ConfigError, "en")
    assert en == ("lr: the range '0.1:0.5:0' never reaches its stop; the step must be non-zero and point from start "
                  "to stop")
    ja = raised(lambda: expand_range(spec, "0.1:0.5:0"), ConfigError, "ja")
    assert ja.startswith("lr: 範囲 '0.1:0.5:0'") and "stop に届きません" in ja
    assert raised(lambda: expand(config_cls, {}, {}, seeds=0), ConfigError, "en") == "--seeds: got 0; allowed: int >= 1"
    assert "--seeds: 0 は使えません" in raised(lambda: expand(config_cls, {}, {}, seeds=0), ConfigError, "ja")


def test_two_swept_keys():  # dlsm.cli
    from dlsm.cli import parse_assignments
    from dlsm.labs import get_lab

    config_cls = get_lab("gd1d").config
    items = ["lr=0.1,0.2", "steps=5,10"]
    en = raised(lambda: parse_assignments(config_cls, items), ConfigError, "en")
    assert en == "this call sweeps one key at a time; got several: lr, steps"
    ja = raised(lambda: parse_assignments(config_cls, items), ConfigError, "ja")
    assert "キーは 1 つだけ" in ja and ja.endswith(": lr, steps")


def test_training_checkpoint_missing(tmp_path):  # dlsm.training.session
    from dlsm.training import load_training_checkpoint

    en = raised(lambda: load_training_checkpoint(tmp_path), DataError, "en")
    assert en.startswith(f"{tmp_path} has no training checkpoint (checkpoint.pt); only runs of labs")
    ja = raised(lambda: load_training_checkpoint(tmp_path), DataError, "ja")
    assert str(tmp_path) in ja and "checkpoint.pt" in ja and "ありません" in ja


def test_optimizer_schedule_device_language():  # dlsm.training.optim, dlsm.device, dlsm.i18n
    import torch

    from dlsm.device import resolve_device
    from dlsm.i18n import set_language
    from dlsm.training import make_optimizer, make_schedule

    params = [torch.zeros(2, requires_grad=True)]
    assert raised(lambda: make_optimizer("lbfgs", params, 0.1), ConfigError, "en").startswith(
        "optimizer: got 'lbfgs'; allowed: one of: ")
    assert "optimizer: 'lbfgs' は使えません" in raised(lambda: make_optimizer("lbfgs", params, 0.1), ConfigError, "ja")
    opt = torch.optim.SGD(params, lr=0.1)
    assert "schedule: 'linear' は使えません" in raised(lambda: make_schedule("linear", opt, 10), ConfigError, "ja")
    assert raised(lambda: resolve_device("tpu"), ConfigError, "en") == \
        "device: got 'tpu'; allowed: one of: auto, cpu, cuda"
    assert "device: 'tpu' は使えません" in raised(lambda: resolve_device("tpu"), ConfigError, "ja")
    assert raised(lambda: set_language("fr"), ConfigError, "en") == "lang: got 'fr'; allowed: one of: en, ja"
    ja = raised(lambda: set_language("fr"), ConfigError, "ja")
    assert ja.startswith("lang: 'fr' は使えません") and ja.endswith("en, ja")


def test_report_pdf_without_font(monkeypatch, tmp_path):  # dlsm.report_pdf
    import matplotlib_fontja

    from dlsm.report_pdf import japanese_font

    monkeypatch.setattr(matplotlib_fontja, "__file__", str(Path(tmp_path) / "matplotlib_fontja" / "__init__.py"))
    assert "reinstall it (pip install matplotlib-fontja)" in raised(japanese_font, DataError, "en")
    ja = raised(japanese_font, DataError, "ja")
    assert ".ttf フォントがありません" in ja and "pip install matplotlib-fontja" in ja

"""Non-finite numbers in the JSON files of a run: written as "nan", "inf", "-inf", read back as floats."""

from __future__ import annotations

import json
import math

import numpy as np

from dlsm.runs import load_run, read_json, write_json


def test_non_finite_numbers_round_trip_through_strict_json(tmp_path):
    data = {"status": "diverged", "elapsed_s": 1.5,
            "metrics": {"loss": math.nan, "rate": math.inf, "low": -math.inf, "ok": 2.0, "n": 3,
                        "curve": [1.0, math.nan, [math.inf, {"deep": -math.inf}]], "flag": True, "none": None,
                        "np": np.float64("nan")}}
    path = tmp_path / "metrics.json"
    write_json(path, data)
    text = path.read_text()
    json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))  # strict: no NaN tokens
    back = read_json(path)["metrics"]
    assert math.isnan(back["loss"]) and back["rate"] == math.inf and back["low"] == -math.inf
    assert math.isnan(back["curve"][1]) and back["curve"][2][0] == math.inf
    assert back["curve"][2][1]["deep"] == -math.inf
    assert math.isnan(back["np"])
    assert (back["ok"], back["n"], back["flag"], back["none"], back["curve"][0]) == (2.0, 3, True, None, 1.0)
    assert all(isinstance(v, float) for v in (back["loss"], back["rate"], back["low"]))


def test_text_fields_that_read_nan_stay_text(tmp_path):
    data = {"status": "failed", "error": "nan", "notes": ["inf", "-inf"], "metrics": {"label": "nan?"}}
    write_json(tmp_path / "metrics.json", data)
    back = read_json(tmp_path / "metrics.json")
    assert back["error"] == "nan" and back["notes"] == ["inf", "-inf"]
    assert back["metrics"]["label"] == "nan?"  # only the three exact strings are numbers


def test_run_records_read_back_floats(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_json(run_dir / "config.json", {"lab": "gd1d", "config": {"lr": 0.1}})
    write_json(run_dir / "metrics.json", {"status": "diverged", "elapsed_s": 0.1,
                                          "metrics": {"final_loss": math.inf, "x": [math.nan]}, "notes": []})
    record = load_run(run_dir)
    assert record.metrics["final_loss"] == math.inf and math.isnan(record.metrics["x"][0])

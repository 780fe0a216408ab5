"""The lab index shipped in the package: equal to the one built by importing every lab, and used (without
importing torch) by the first ``dlsm list`` after an install, when no cache exists yet."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dlsm import lab_index
from dlsm.i18n import LANGUAGES

REGENERATE = "the shipped index is stale: regenerate it with `python -m dlsm.lab_index`"


def test_the_shipped_index_was_made_from_these_sources():
    data = json.loads(lab_index.SHIPPED.read_text(encoding="utf-8"))
    assert data["key"] == lab_index.content_key(), REGENERATE


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shipped_index_equals_the_one_built_by_importing_every_lab(lang):
    data = json.loads(lab_index.SHIPPED.read_text(encoding="utf-8"))
    built = lab_index.build_in(lang)
    assert data["labs"][lang] == built, REGENERATE
    assert json.dumps(data["labs"][lang]) == json.dumps(built), "same entries, in the same order (list, show)"


def test_the_first_list_after_install_imports_no_torch(tmp_path):
    code = ("import sys, time\nt0 = time.perf_counter()\nimport dlsm.cli\nstatus = dlsm.cli.main(['list'])\n"
            "print(status, 'torch' in sys.modules, round(time.perf_counter() - t0, 3))")
    env = {**os.environ, "DLSM_CACHE": str(tmp_path / "empty-cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    status, torch_imported, _seconds = done.stdout.split()[-3:]
    assert (status, torch_imported) == ("0", "False"), done.stdout + done.stderr
    assert "gd2d" in done.stdout
    assert (tmp_path / "empty-cache" / "lab-index-en.json").is_file()  # later commands use the cache


def test_a_stale_shipped_index_is_not_used(tmp_path, monkeypatch):
    stale = tmp_path / "lab_index.json"
    stale.write_text(json.dumps({"key": "not-these-sources", "labs": {"en": {"ghost": {}}}}))
    monkeypatch.setattr(lab_index, "SHIPPED", stale)
    monkeypatch.setenv("DLSM_CACHE", str(tmp_path / "cache"))
    assert lab_index.shipped("en") is None
    assert "ghost" not in lab_index.load() and "gd2d" in lab_index.load()

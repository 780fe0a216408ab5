"""dlsm.notebook: a run kept from a notebook is the run folder the CLI writes; the lecture report is built from
the kept runs and leaves the explanations out unless asked."""

from __future__ import annotations

import json

import pytest

from dlsm import notebook
from dlsm.labs import gd2d
from dlsm.runner import run_one
from dlsm.runs import load_run


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(notebook, "_kept", [])
    monkeypatch.delenv(notebook.EXPLAIN_VAR, raising=False)
    monkeypatch.setenv("DLSM_QUICK", "1")
    return tmp_path


def test_keep_writes_the_folder_a_cli_run_writes(in_tmp):
    config = gd2d.Config.make("quick", lr=0.2)
    result = gd2d.run(config)
    folder = notebook.keep(result)
    cli = run_one(gd2d.LAB, config, in_tmp / "cli", size="quick")
    kept, reference = load_run(folder), load_run(cli.path)
    assert kept.lab == reference.lab == "gd2d"
    assert kept.config == reference.config == config.to_dict()
    assert kept.metrics == reference.metrics
    assert kept.notes == reference.notes and kept.explanations == reference.explanations
    assert sorted(kept.tables) == sorted(reference.tables) and sorted(kept.figures) == sorted(reference.figures)
    assert json.loads((folder / "config.json").read_text())["size"] == "quick"
    assert notebook.keep(folder) == folder and notebook.kept() == [folder]  # kept once
    with pytest.raises(FileNotFoundError):
        notebook.keep(in_tmp / "nothing-here")


def test_setup_turns_explanations_off_unless_asked(in_tmp, monkeypatch, capsys):
    notebook.setup("en")
    assert not notebook.explaining()
    result = gd2d.run(gd2d.Config.make("quick", lr=0.2))
    assert result.explanations, "gd2d explains why α = 0.2 oscillates"
    notebook.show_notes(result)
    shown = capsys.readouterr().out
    assert all(e not in shown for e in result.explanations) and all(n in shown for n in result.notes)
    notebook.setup("en", explain=True)
    notebook.show_notes(result)
    shown = capsys.readouterr().out
    assert all(e in shown for e in result.explanations)


def test_report_is_built_from_the_kept_runs_without_explanations(in_tmp):
    from pypdf import PdfReader

    notebook.setup("en")
    with pytest.raises(ValueError, match="keep"):
        notebook.report("lecture1")
    result = gd2d.run(gd2d.Config.make("quick", lr=0.2))
    notebook.keep(result)
    pdf = notebook.report("lecture1", title="Lecture 1", name="Ada", student_id="42")
    assert pdf == notebook.RUNS / "report-lecture1.pdf" and pdf.with_suffix(".html").is_file()
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Ada" in text and "gd2d" in text
    html = pdf.with_suffix(".html").read_text()
    for explanation in result.explanations:
        assert explanation not in html

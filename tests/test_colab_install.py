"""The notebooks' Colab install cell installs dlsm from REPO_URL: shown against a local clone of this
repository used as the remote (pip install --no-deps from git+file://, into a --target folder, offline)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("lecture*.py"))
PLACEHOLDER = 'REPO_URL = "https://github.com/your-course/dlsm"'


def install_cell(source: Path) -> str:
    cells = [c.source for c in jupytext.read(source).cells if c.cell_type == "code" and "REPO_URL" in c.source]
    assert len(cells) == 1, f"{source.name}: expected one install cell with REPO_URL"
    return cells[0]


def test_every_notebook_has_the_same_install_cell_with_one_line_to_set():
    cells = {p.name: install_cell(p) for p in NOTEBOOKS}
    first = cells[NOTEBOOKS[0].name]
    assert all(cell == first for cell in cells.values()), "the install cells differ between notebooks"
    assert first.count(PLACEHOLDER) == 1, "the teacher sets this one line"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_install_cell_installs_dlsm_from_a_git_url(tmp_path, monkeypatch):
    clone = tmp_path / "dlsm-remote"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=60)  # committed HEAD
    target = tmp_path / "site"
    # file://localhost/...: older pips reject the PEP 508 form "dlsm @ git+file:///path" (empty host)
    cell = install_cell(NOTEBOOKS[0]).replace(PLACEHOLDER, f'REPO_URL = "file://localhost{clone}"')

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "dlsm" else real_find_spec(name, *a))
    # Offline and fast: pip builds with the setuptools already installed here and installs into a folder.
    monkeypatch.setenv("PIP_TARGET", str(target))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")  # pip's spelling of --no-build-isolation
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    real_run = subprocess.run
    skipped = []

    def run(cmd, *args, **kwargs):
        if "--no-deps" in cmd:  # the dlsm install itself: really run it
            return real_run(cmd, *args, timeout=300, **kwargs)
        skipped.append(cmd)  # the few extra dependencies come from PyPI on Colab; not in this offline test
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(subprocess, "run", run)
    exec(compile(cell, "install-cell", "exec"), {"__name__": "__main__"})

    assert (target / "dlsm" / "__init__.py").is_file()
    assert (target / "dlsm" / "labs" / "gd2d.py").is_file()
    assert len(skipped) == 1 and "matplotlib-fontja" in skipped[0]  # the extra dependencies, one pip call
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = real_run([sys.executable, "-c", "import dlsm, dlsm.labs; print(dlsm.__file__)"], env=env,
                    capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(target)

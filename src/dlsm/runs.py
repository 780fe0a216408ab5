"""Run folders on disk: one folder per run, never overwritten.

Layout of a run folder::

    config.json     lab, full effective config, seed, versions (dlsm, torch, numpy, python), torch's thread
                    count, command, creation time (reports order runs by it), resume times
    metrics.json    metrics, status (running / completed / interrupted / diverged / failed), notes, elapsed
                    seconds; written while training goes on (status running, the metrics so far)
    checkpoint.pt   the training state of a lab that trains (``dlsm run LAB --resume RUN_DIR`` continues it),
                    while it trains and after Ctrl-C or a kill; removed when the run has finished
    run.lock        while a process writes the run (:mod:`dlsm.run_lock`)
    tables/*.csv    one file per table
    curves/*.csv    one file per curve (x, y)
    figures/*.png   one PNG (for reports) and one PDF (vector, for LaTeX) per figure
    artifacts.pt    trained objects (state dicts, tensors), when the lab returned any
    summary.md      a short human summary
    traceback.txt   only in a run that an unexpected exception (a bug) stopped: its traceback

A sweep folder holds one run folder per value plus ``sweep.json``, ``comparison.csv`` and overlay
figures.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dlsm import __version__
from dlsm.config import LabConfig
from dlsm.errors import DataError, WriteFailed
from dlsm.i18n import has, t
from dlsm.result import Result, Table, format_scalar
from dlsm.status import Status

DEFAULT_ROOT = Path("runs")


def timestamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


class OutputError(DataError):
    """An output location that cannot be written (a file where a folder is needed, no permission)."""

    exit_status = 2


def write_failure(path: Path, exc: BaseException) -> WriteFailed:
    """The plain message for a write of ``path`` that failed with ``exc``: torch's "[enforce fail ...]" text and
    the traceback stay out; a full disk (ENOSPC, or torch's "file write failed") is named as such."""
    full = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "write failed" in str(exc)
    if full:
        return WriteFailed(t("cli.err.disk_full", path=path))
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    reason = getattr(exc, "strerror", None) or text
    return WriteFailed(t("cli.err.write_failed", path=path, reason=reason))


def check_writable_root(root: Path, what: str = "--out") -> Path:
    """Make sure run folders can be created under ``root``; a DataError with a clear message otherwise.

    Raised as exit status 2 by the CLI: ``--out`` naming a file, or a folder the user may not write to.
    """
    root = Path(root)
    for parent in [root, *root.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{what} {root}: {parent} is a file, not a folder; choose a folder")
            break
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{what} {root}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {root}: the folder is not writable by this user; choose another folder")
    return root


def new_folder(parent: Path, name: str) -> Path:
    """Create ``parent/name`` (or ``name-2``, ``name-3``, ... if taken) and return it; never reuses one."""
    parent.mkdir(parents=True, exist_ok=True)
    for i in range(1, 10_000):
        candidate = parent / (name if i == 1 else f"{name}-{i}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise DataError(t("runs.err.no_new_folder", parent=parent))


def environment() -> dict[str, str]:
    import torch

    return {
        "dlsm": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


#: Keys whose values are text, never numbers: below them "nan", "inf" and "-inf" stay strings when read back.
TEXT_KEYS = frozenset({"status", "error", "notes", "explanations", "command", "created", "lab", "size",
                       "versions", "resumed", "message"})
#: The strings that stand for the non-finite floats in the JSON files of a run (strict JSON has no NaN).
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as strict JSON, atomically (a ``.part`` file, then a rename).

    Convention for non-finite floats (a diverged loss, an infinite rate): they are written as the strings
    ``"nan"``, ``"inf"`` and ``"-inf"``, and :func:`read_json` turns exactly these three strings back into
    floats, wherever they stand except below the text keys of :data:`TEXT_KEYS` (status, error, notes, ...),
    so a message that reads "nan" stays a string. A write that fails (a full disk) leaves no ``.part``
    file and the previous file, if any, whole; it raises :class:`WriteFailed` with a plain message.
    """
    text = json.dumps(_finite(data), indent=2, ensure_ascii=False, default=_json_default, allow_nan=False) + "\n"
    _write_atomically(Path(path), lambda tmp: tmp.write_text(text))


def _write_atomically(path: Path, write: Callable[[Path], Any], errors: tuple[type[BaseException], ...] = (OSError,)
                      ) -> None:
    """``write(tmp)`` to ``path``.part, then rename it to ``path``; on one of ``errors`` (a full disk) remove the
    ``.part`` file, leave ``path`` as it was and raise :class:`WriteFailed` with a plain message."""
    tmp = path.with_name(path.name + ".part")
    try:
        write(tmp)
        os.replace(tmp, path)
    except errors as exc:
        tmp.unlink(missing_ok=True)
        raise write_failure(path, exc) from None


def write_text(path: Path, text: str) -> None:
    """``path.write_text(text)``; a failed write raises :class:`WriteFailed` with a plain message."""
    try:
        Path(path).write_text(text)
    except OSError as exc:
        raise write_failure(path, exc) from None


def _finite(obj: Any) -> Any:
    if isinstance(obj, (float, np.floating)) and not np.isfinite(obj):
        return str(float(obj))
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _numbers(obj: Any) -> Any:
    """The inverse of :func:`_finite`: "nan", "inf", "-inf" back to floats, text keys left alone."""
    if isinstance(obj, str):
        return NON_FINITE.get(obj, obj)
    if isinstance(obj, dict):
        return {k: v if k in TEXT_KEYS else _numbers(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_numbers(v) for v in obj]
    return obj


def save_torch(obj: Any, path: Path) -> None:
    """``torch.save`` atomically (a ``.part`` file, then a rename); a failed write (a full disk) leaves no
    ``.part`` file behind and raises :class:`WriteFailed` with a plain message."""
    import torch

    # torch reports a full disk as RuntimeError "[enforce fail ...]"
    _write_atomically(Path(path), lambda tmp: torch.save(obj, tmp), (OSError, RuntimeError))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def write_config(run_dir: Path, lab_name: str, config: LabConfig, size: str, **extra: Any) -> None:
    """Record what was asked, before the run starts (``extra``: e.g. ``checkpoint_every``)."""
    import torch

    write_json(
        run_dir / "config.json",
        {
            "lab": lab_name,
            "size": size,
            "seed": config.seed,
            "config": config.to_dict(),
            "versions": environment(),
            "threads": torch.get_num_threads(),  # results may differ in the last digits with the thread count
            "command": " ".join(sys.argv),
            "created": _dt.datetime.now().isoformat(timespec="microseconds"),
            **extra,
        },
    )


def read_json(path: Path) -> Any:
    """Read a JSON file of a run or sweep folder; "nan", "inf", "-inf" become floats (see :func:`write_json`).

    Every reader of ``metrics.json``, ``config.json`` and ``sweep.json`` goes through here; DataError when the
    file cannot be read or is not JSON."""
    try:
        return _numbers(json.loads(Path(path).read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(t("runs.err.cannot_read_json", path=path, error=exc)) from None


def mark_resumed(run_dir: Path) -> None:
    """Append the time of a resume to ``config.json``."""
    record = read_json(run_dir / "config.json")
    record.setdefault("resumed", []).append(_dt.datetime.now().isoformat(timespec="seconds"))
    write_json(run_dir / "config.json", record)


#: Figures in run folders: PNG at this resolution (a 6.4 x 4.8 in figure is about 30-80 KB) and a PDF.
PNG_DPI = 100


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """``stem``.png and .pdf; a figure with ``gif_frames`` (an animation, such as diffusion's reverse process)
    also ``stem``.gif."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    fig.savefig(png, dpi=PNG_DPI)
    fig.savefig(pdf)
    if getattr(fig, "gif_frames", None):
        from dlsm.plotting.generative import write_gif

        write_gif(fig, stem.with_suffix(".gif"))
        return [png, pdf, stem.with_suffix(".gif")]
    return [png, pdf]


def save_result(run_dir: Path, lab_name: str, description: str, config: LabConfig, result: Result,
                elapsed_s: float, meaning: Callable[[str], str] | None = None) -> None:
    """Write metrics, tables, curves, figures, artifacts and the summary of one run.

    ``metrics.json`` keeps the notes (what was measured) and the explanations (why) apart, so that a
    report can leave the explanations out; ``meaning(name)`` gives a metric's meaning for the summary.
    """
    write_json(
        run_dir / "metrics.json",
        {"status": Status(result.status).value, "elapsed_s": round(elapsed_s, 3), "metrics": result.metrics,
         "notes": result.notes, "explanations": result.explanations},
    )
    for name, table in result.tables.items():
        (run_dir / "tables").mkdir(exist_ok=True)
        write_text(run_dir / "tables" / f"{name}.csv", table.to_csv())
    for name, curve in result.curves.items():
        (run_dir / "curves").mkdir(exist_ok=True)
        header = f"{curve.xlabel},{curve.ylabel}"
        np.savetxt(run_dir / "curves" / f"{name}.csv", np.column_stack([curve.x, curve.y]),
                   delimiter=",", header=header, comments="")
    for name, fig in result.figures.items():
        save_figure(fig, run_dir / "figures" / name)
    if result.artifacts:
        save_torch(result.artifacts, run_dir / "artifacts.pt")
    summary = summary_markdown(lab_name, description, config.to_dict(), result.metrics, result.all_notes,
                               Status(result.status).value, elapsed_s, result.tables, sorted(result.figures),
                               meaning=meaning)
    write_text(run_dir / "summary.md", summary)


def write_running(run_dir: Path, metrics: dict[str, Any], elapsed_s: float) -> None:
    """The metrics so far of a run that is still training (written at each checkpoint, atomically)."""
    write_json(run_dir / "metrics.json", {"status": Status.RUNNING.value, "elapsed_s": round(elapsed_s, 3),
                                          "metrics": metrics, "notes": [t("report.note.running")]})


def write_interrupted(run_dir: Path, elapsed_s: float, metrics: dict[str, Any] | None = None,
                      note: str = "") -> None:
    """Record a run that Ctrl-C stopped before its lab returned: what was done so far (``metrics``)."""
    note = note or t("report.note.interrupted_progress" if metrics else "report.note.interrupted_nothing")
    write_json(run_dir / "metrics.json",
               {"status": Status.INTERRUPTED.value, "elapsed_s": round(elapsed_s, 3), "metrics": metrics or {},
                "notes": [note]})
    write_text(run_dir / "summary.md", f"# {t('report.interrupted_title')}\n\n{note}\n")


def write_failed(run_dir: Path, elapsed_s: float, message: str, metrics: dict[str, Any] | None = None) -> None:
    """Record a run that an error stopped (bad data, a bug): status failed and the message."""
    write_json(run_dir / "metrics.json",
               {"status": Status.FAILED.value, "elapsed_s": round(elapsed_s, 3), "metrics": metrics or {},
                "notes": [t("report.note.failed", message=message)], "error": message})
    write_text(run_dir / "summary.md", f"# {t('report.failed_title')}\n\n{t('report.failed_body', message=message)}\n")


def summary_markdown(lab_name: str, description: str, config: dict[str, Any], metrics: dict[str, Any],
                     notes: list[str], status: str, elapsed_s: float, tables: dict[str, Table],
                     figure_names: list[str], figure_dir: str = "figures",
                     meaning: Callable[[str], str] | None = None) -> str:
    """The run's summary.md, in the current language; ``meaning(name)`` gives a metric's meaning."""
    lines = [f"# {lab_name}", "", description, "",
             t("report.summary_status", status=status_text(status), seconds=elapsed_s), "",
             f"## {t('report.heading.settings')}", "",
             f"| {t('report.column.key')} | {t('report.column.value')} |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in config.items()]
    lines += ["", f"## {t('report.heading.metrics')}", "",
              f"| {t('report.column.metric')} | {t('report.column.value')} | {t('report.column.meaning')} |",
              "|---|---|---|"]
    lines += [f"| {k} | {format_scalar(v)} | {meaning(k) if meaning else ''} |" for k, v in metrics.items()]
    if notes:
        lines += ["", f"## {t('report.heading.notes')}", ""] + [f"- {n}" for n in notes]
    for name, table in tables.items():
        lines += ["", f"## {t('report.heading.table', name=name)}", "", table.to_markdown(max_rows=25)]
    if figure_names:
        lines += ["", f"## {t('report.heading.figures')}", ""] + [f"![{n}]({figure_dir}/{n}.png)" for n in figure_names]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(format_scalar(v) for v in value) + ")"
    return format_scalar(value)


# ----- reading runs back (reports, sweeps) ----------------------------------------------------------
@dataclass
class RunRecord:
    """A run folder read back from disk."""

    path: Path
    lab: str
    config: dict[str, Any]
    status: str
    metrics: dict[str, Any]
    notes: list[str]
    elapsed_s: float
    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    created: str = ""
    explanations: list[str] = field(default_factory=list)  # why (theory); older run folders have none


#: Status of a run folder that holds only config.json: the process died before it wrote any metrics.
INCOMPLETE = "incomplete"


def status_text(status: str) -> str:
    """A run status in words of the current language (``completed`` -> 完了)."""
    key = f"report.status.{status}"
    return t(key) if has(key) else status


def is_run_dir(path: Path) -> bool:
    """A run folder: config.json with a lab name (metrics.json is missing when the run was killed early)."""
    return (path / "config.json").is_file() and not (path / "sweep.json").is_file()


def load_run(path: Path) -> RunRecord:
    path = Path(path)
    if not is_run_dir(path):
        raise DataError(t("runs.err.not_run_folder", path=path))
    try:
        cfg = read_json(path / "config.json")
        met = (read_json(path / "metrics.json") if (path / "metrics.json").is_file() else
               {"status": INCOMPLETE, "notes": [t("report.note.no_metrics")]})
    except DataError as exc:
        raise DataError(t("runs.err.run_json_unreadable", path=path, error=exc)) from None
    return RunRecord(
        path=path,
        lab=cfg.get("lab", "?"),
        config=cfg.get("config", {}),
        status=met.get("status", "?"),
        metrics=met.get("metrics", {}),
        notes=met.get("notes", []),
        explanations=met.get("explanations", []),
        elapsed_s=float(met.get("elapsed_s", 0.0)),
        created=str(cfg.get("created", "")),
        tables={p.stem: p for p in sorted((path / "tables").glob("*.csv"))},
        figures={p.stem: p for p in sorted((path / "figures").glob("*.png"))},
    )


def read_table(path: Path) -> Table:
    import csv

    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return Table(columns=[], rows=[])
    return Table(columns=rows[0], rows=[[_parse_cell(c) for c in r] for r in rows[1:]])


def _parse_cell(text: str) -> Any:
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text

"""Reports from run folders: one self-contained HTML file (figures embedded) and a Markdown twin.

``build_report`` accepts run folders, sweep folders (their comparison table and overlays come first)
and any folder that contains run folders (a tour, a whole ``runs/`` tree).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from dlsm.errors import DataError
from dlsm.result import Table, format_scalar
from dlsm.runs import RunRecord, is_run_dir, load_run, read_table

MAX_TABLE_ROWS = 30


@dataclass
class Section:
    """One block of the report: a run, or a sweep's comparison with its overlays."""

    title: str
    path: Path
    intro: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)


def collect_sections(paths: list[Path]) -> list[Section]:
    """Expand the given folders into report sections, in order; raise DataError if none is a run."""
    sections: list[Section] = []
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            raise DataError(f"{path}: no such folder")
        found = _sections_under(path)
        if not found:
            raise DataError(f"{path}: contains no dlsm run folder (no config.json + metrics.json)")
        sections += found
    return sections


def _sections_under(path: Path) -> list[Section]:
    if is_run_dir(path):
        return [_run_section(load_run(path))]
    out = []
    if (path / "sweep.json").is_file():
        out.append(_sweep_section(path))
    for child in sorted((p for p in path.iterdir() if p.is_dir()), key=_creation_order):
        out += _sections_under(child)
    return out


def _creation_order(folder: Path) -> tuple[float, str]:
    """Runs in the order they were made (a tour's lecture order, a sweep's order of values)."""
    record = folder / "config.json"
    return (record.stat().st_mtime if record.is_file() else folder.stat().st_mtime, folder.name)


def _run_section(run: RunRecord) -> Section:
    return Section(
        title=run.lab if run.path.name == run.lab else f"{run.lab} — {run.path.name}",
        path=run.path,
        intro=[f"Status: {run.status}; {run.elapsed_s:.2f} s; folder {run.path}"],
        config=run.config,
        metrics=run.metrics,
        notes=run.notes,
        tables={name: read_table(p) for name, p in run.tables.items()},
        figures=dict(run.figures),
    )


def _sweep_section(path: Path) -> Section:
    meta = json.loads((path / "sweep.json").read_text())
    tables = {}
    if (path / "comparison.csv").is_file():
        tables["comparison"] = read_table(path / "comparison.csv")
    return Section(
        title=f"{meta.get('lab', '?')} — sweep over {meta.get('key', '?')}",
        path=path,
        intro=[f"Values: {', '.join(meta.get('values', []))}; fixed: {meta.get('base', {})}; "
               f"completed: {meta.get('completed')}"],
        tables=tables,
        figures={p.stem: p for p in sorted((path / "figures").glob("*.png"))},
    )


def build_report(paths: list[Path], out: Path, title: str = "dlsm report") -> tuple[Path, Path]:
    """Write ``out`` (.html) and its Markdown twin (.md) for the runs under ``paths``; return both."""
    sections = collect_sections(paths)
    out = Path(out)
    html_path = out if out.suffix == ".html" else out.with_suffix(".html")
    md_path = html_path.with_suffix(".md")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(sections, title))
    md_path.write_text(render_markdown(sections, title, md_path.parent))
    return html_path, md_path


def _kv_rows(d: dict) -> list[list]:
    return [[k, _value_text(v)] for k, v in d.items()]


def _value_text(v) -> str:
    if isinstance(v, list):
        return "(" + ", ".join(format_scalar(x) for x in v) + ")"
    return format_scalar(v)


def render_markdown(sections: list[Section], title: str, base: Path) -> str:
    lines = [f"# {title}", "", f"Generated {_dt.datetime.now():%Y-%m-%d %H:%M} by dlsm.", ""]
    for s in sections:
        lines += [f"## {s.title}", ""] + s.intro + [""]
        if s.config:
            lines += ["**Config**", "", Table(["key", "value"], _kv_rows(s.config)).to_markdown(), ""]
        if s.metrics:
            lines += ["**Metrics**", "", Table(["metric", "value"], _kv_rows(s.metrics)).to_markdown(), ""]
        if s.notes:
            lines += [f"- {n}" for n in s.notes] + [""]
        for name, t in s.tables.items():
            lines += [f"**Table: {name}**", "", t.to_markdown(max_rows=MAX_TABLE_ROWS), ""]
        for name, p in s.figures.items():
            rel = os.path.relpath(p, base)
            lines += [f"![{name}]({rel})", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 8px;
font-size:.9em;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}figure{margin:0}figcaption{color:#666;font-size:.85em}
.wide{overflow-x:auto}.note{background:#fff7e0;border-left:4px solid #e0a000;padding:.3em .8em;margin:.3em 0}
"""


def _html_table(t: Table, max_rows: int | None = MAX_TABLE_ROWS) -> str:
    rows = t.rows if max_rows is None else t.rows[:max_rows]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_value_text(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    more = ""
    if max_rows is not None and len(t.rows) > max_rows:
        more = f"<p>({len(t.rows) - max_rows} more rows in the CSV file)</p>"
    return f"<div class='wide'><table><tr>{head}</tr>{body}</table></div>{more}"


def render_html(sections: list[Section], title: str) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p>Generated {_dt.datetime.now():%Y-%m-%d %H:%M} by dlsm.</p>"]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(i)}</p>" for i in s.intro]
        if s.config:
            parts.append("<h3>Config</h3>" + _html_table(Table(["key", "value"], _kv_rows(s.config)), None))
        if s.metrics:
            parts.append("<h3>Metrics</h3>"
                         + _html_table(Table(["metric", "value"], _kv_rows(s.metrics)), None))
        parts += [f"<div class='note'>{html.escape(n)}</div>" for n in s.notes]
        for name, t in s.tables.items():
            parts.append(f"<h3>Table: {html.escape(name)}</h3>" + _html_table(t))
        for name, p in s.figures.items():
            data = base64.b64encode(p.read_bytes()).decode("ascii")
            parts.append(f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{html.escape(name)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)

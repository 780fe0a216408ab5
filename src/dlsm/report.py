"""Reports from run folders: one self-contained HTML file (figures embedded) and a Markdown twin.

``build_report`` accepts run folders, sweep folders (their comparison table and overlays come first)
and any folder that contains run folders (a tour, a whole ``runs/`` tree).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlsm.errors import DataError
from dlsm.i18n import get_language, t
from dlsm.result import Table, format_scalar
from dlsm.runs import OutputError, RunRecord, check_writable_root, is_run_dir, load_run, read_table, status_text
from dlsm.status import Status

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
    explanations: list[str] = field(default_factory=list)  # why (theory): left out with explanations=False
    tables: dict[str, Table] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    status: str = ""  # a run's status; "" for a sweep's section
    lab: str = ""
    elapsed_s: float = 0.0


def collect_sections(paths: list[Path]) -> list[Section]:
    """Expand the given folders into report sections, in order; raise DataError if none is a run."""
    sections: list[Section] = []
    for path in paths:
        path = Path(path)
        if path.is_file():
            raise DataError(f"{path}: is a file; give a run folder, a sweep folder or a folder of runs "
                            "(for example runs/)")
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
    children = [p for p in path.iterdir() if p.is_dir()]
    if (path / "sweep.json").is_file():
        out.append(_sweep_section(path))
        order = {name: i for i, name in enumerate(_read_json(path / "sweep.json").get("runs", []))}
        children.sort(key=lambda p: (order.get(p.name, len(order)), _created(p), p.name))  # the grid's order
    else:
        children.sort(key=lambda p: (_created(p), p.name))
    for child in children:
        out += _sections_under(child)
    return out


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _created(folder: Path, depth: int = 3) -> str:
    """When the runs of a folder were made: config.json's "created" (ISO time; a folder of runs: its first
    run's), so reports follow the order the runs were made, not the folders' modification times."""
    for name in ("config.json", "sweep.json"):
        created = _read_json(folder / name).get("created") if (folder / name).is_file() else None
        if created:
            return str(created)
    if depth > 0:
        times = [_created(p, depth - 1) for p in folder.iterdir() if p.is_dir()]
        times = [t for t in times if t != "~"]
        if times:
            return min(times)
    return "~"  # after every ISO time


def _run_section(run: RunRecord) -> Section:
    return Section(
        title=run.lab if run.path.name == run.lab else f"{run.lab} — {run.path.name}",
        path=run.path,
        status=run.status,
        lab=run.lab,
        elapsed_s=run.elapsed_s,
        intro=[t("report.run_intro", status=status_text(run.status), seconds=run.elapsed_s, path=run.path)],
        config=run.config,
        metrics=run.metrics,
        notes=run.notes,
        explanations=run.explanations,
        tables={name: read_table(p) for name, p in run.tables.items()},
        figures=dict(run.figures),
    )


def _sweep_section(path: Path) -> Section:
    meta = _read_json(path / "sweep.json")
    tables = {}
    if (path / "comparison.csv").is_file():
        tables["comparison"] = read_table(path / "comparison.csv")
    keys = meta.get("keys") or [meta.get("key", "?")]
    grid = meta.get("grid") or {keys[0]: meta.get("values", [])}
    values = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in grid.items())
    seeds = meta.get("seeds") or []
    intro = [t("report.sweep.values", values=values, fixed=meta.get("base", {}), completed=meta.get("completed"))]
    if seeds:
        intro.append(t("report.sweep.seeds", seeds=", ".join(map(str, seeds))))
    if meta.get("failed"):
        intro.append(t("report.sweep.failed", runs=", ".join(meta["failed"])))
    swept = " × ".join(k for k in keys if k != "seed")
    return Section(
        title=t("report.sweep.title", lab=meta.get("lab", "?"), keys=swept)
              + (t("report.sweep.title_seeds", n=len(seeds)) if seeds else ""),
        path=path,
        intro=intro,
        tables=tables,
        figures={p.stem: p for p in sorted((path / "figures").glob("*.png"))},
    )


def build_report(paths: list[Path], out: Path, title: str = "", *, name: str = "", student_id: str = "",
                 explanations: bool = True) -> tuple[Path, Path]:
    """Write ``out`` (.html) and its Markdown twin (.md) for the runs under ``paths``; return both.

    The text follows the language setting; the title block names the student when ``name`` or
    ``student_id`` is given. ``explanations=False`` leaves out the labs' explanations (the theory behind a
    measurement), as a student's report does.
    """
    sections = collect_sections(paths)
    title = title or t("report.default_title")
    if not explanations:
        for s in sections:
            s.explanations = []
    out = Path(out)
    if out.is_dir():
        out = out / "report.html"
    html_path = out if out.suffix == ".html" else out.with_suffix(".html")
    md_path = html_path.with_suffix(".md")
    check_writable_root(html_path.parent, "-o")
    for p in (html_path, md_path):
        if p.exists() and not os.access(p, os.W_OK):
            raise OutputError(f"-o {p}: the file exists and is not writable by this user")
    block = title_block(name, student_id)
    html_path.write_text(render_html(sections, title, block))
    md_path.write_text(render_markdown(sections, title, md_path.parent, block))
    return html_path, md_path


def overview(sections: list[Section]) -> Table | None:
    """Every run of the report with its status and time (failed, interrupted and killed runs stand out)."""
    runs = [s for s in sections if s.status]
    if len(runs) < 2 and all(s.status == Status.COMPLETED for s in runs):
        return None
    return Table([t("report.column.run"), t("report.column.status"), "time_s"],
                 [[s.title, status_text(s.status), round(s.elapsed_s, 2)] for s in runs])


def title_block(name: str = "", student_id: str = "") -> list[tuple[str, str]]:
    """(label, value) lines under the title: the student's name and ID when given, and the date."""
    rows = [(t("report.heading.name"), name), (t("report.heading.student_id"), student_id)]
    return [r for r in rows if r[1]] + [(t("report.heading.date"), _dt.date.today().isoformat())]


def size_summary(html_path: Path, top: int = 5) -> str:
    """Where the size of a written HTML report goes: embedded figures vs text, and the largest sections."""
    text = Path(html_path).read_text()
    total = len(text.encode())
    images = sum(len(m) for m in re.findall(r"src='data:image/[a-z]+;base64,[^']*'", text))
    parts = re.split(r"(?=<h2>)", text)
    sized = sorted(((len(p.encode()), html.unescape(re.sub(r"<h2>(.*?)</h2>.*", r"\1", p[:300], flags=re.S)))
                    for p in parts if p.startswith("<h2>")), reverse=True)[:top]
    biggest = ", ".join(f"{title} {_mb(n)}" for n, title in sized)
    return (f"report size {_mb(total)}: embedded figures {_mb(images)}, text and tables {_mb(total - images)}"
            + (f"; largest sections: {biggest}" if biggest else ""))


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} KB"


#: PNG figures larger than this are embedded as JPEG when that is much smaller (photos, image grids).
JPEG_ABOVE_BYTES = 120_000


def embed_image(path: Path) -> tuple[str, str]:
    """(MIME type, base64) of a figure for the HTML report: the PNG, or a JPEG (quality 85) of a large
    photo-like PNG when it is less than half the size (plots stay PNG: sharp lines, small files)."""
    data = Path(path).read_bytes()
    mime = "image/png"
    if len(data) > JPEG_ABOVE_BYTES:
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as img:
                buf = io.BytesIO()
                img.convert("RGB").save(buf, format="JPEG", quality=85, optimize=True)
            if buf.tell() < len(data) / 2:
                data, mime = buf.getvalue(), "image/jpeg"
        except (OSError, ValueError):
            pass
    return mime, base64.b64encode(data).decode("ascii")


def _kv_rows(d: dict) -> list[list]:
    return [[k, _value_text(v)] for k, v in d.items()]


def _metrics_table(s: Section) -> Table:
    """Metric, value and its one-line meaning (declared by the lab, in the current language)."""
    from dlsm.lab_index import meaning

    return Table([t("report.column.metric"), t("report.column.value"), t("report.column.meaning")],
                 [[k, _value_text(v), meaning(s.lab, k)] for k, v in s.metrics.items()])


def _config_table(s: Section) -> Table:
    return Table([t("report.column.key"), t("report.column.value")], _kv_rows(s.config))


def _value_text(v) -> str:
    if isinstance(v, list):
        return "(" + ", ".join(format_scalar(x) for x in v) + ")"
    return format_scalar(v)


def render_markdown(sections: list[Section], title: str, base: Path,
                    block: list[tuple[str, str]] | None = None) -> str:
    lines = [f"# {title}", ""] + [f"{label}: {value}  " for label, value in block or []]
    lines += ["", t("report.generated", time=f"{_dt.datetime.now():%Y-%m-%d %H:%M}"), ""]
    table = overview(sections)
    if table is not None:
        lines += [f"**{t('report.heading.runs')}**", "", table.to_markdown(), ""]
    for s in sections:
        lines += [f"## {s.title}", ""] + s.intro + [""]
        if s.config:
            lines += [f"**{t('report.heading.settings')}**", "", _config_table(s).to_markdown(), ""]
        if s.metrics:
            lines += [f"**{t('report.heading.metrics')}**", "", _metrics_table(s).to_markdown(), ""]
        if s.notes:
            lines += [f"**{t('report.heading.notes')}**", ""] + [f"- {n}" for n in s.notes] + [""]
        if s.explanations:
            lines += [f"**{t('report.heading.explanations')}**", ""] + [f"- {n}" for n in s.explanations] + [""]
        for name, table in s.tables.items():
            lines += [f"**{t('report.heading.table', name=name)}**", "", _markdown_table(table), ""]
        for name, p in s.figures.items():
            rel = os.path.relpath(p, base)
            lines += [f"![{name}]({rel})", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,"Hiragino Sans","Yu Gothic","Noto Sans CJK JP","IPAexGothic",sans-serif;
max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 8px;
font-size:.9em;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}figure{margin:0}figcaption{color:#666;font-size:.85em}
.wide{overflow-x:auto}.meanings td:last-child{text-align:left}.meanings td:nth-child(2){white-space:nowrap}
.title th{text-align:left}
.note{background:#fff7e0;border-left:4px solid #e0a000;padding:.3em .8em;margin:.3em 0}
"""


def _markdown_table(table: Table) -> str:
    text = table.to_markdown(max_rows=MAX_TABLE_ROWS)
    hidden = len(table.rows) - MAX_TABLE_ROWS
    if hidden > 0:  # Table.to_markdown's own line is English
        text = text.rsplit("\n\n", 1)[0] + "\n\n" + t("report.more_rows", n=hidden)
    return text


def _html_table(table: Table, max_rows: int | None = MAX_TABLE_ROWS, cls: str = "") -> str:
    rows = table.rows if max_rows is None else table.rows[:max_rows]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_value_text(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    more = ""
    if max_rows is not None and len(table.rows) > max_rows:
        more = f"<p>{html.escape(t('report.more_rows', n=len(table.rows) - max_rows))}</p>"
    return f"<div class='wide {cls}'><table><tr>{head}</tr>{body}</table></div>{more}"


def render_html(sections: list[Section], title: str, block: list[tuple[str, str]] | None = None) -> str:
    lang = get_language()
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    if block:
        parts.append("<table class='title'>" + "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}"
                                                       "</td></tr>" for label, value in block) + "</table>")
    parts.append(f"<p>{html.escape(t('report.generated', time=f'{_dt.datetime.now():%Y-%m-%d %H:%M}'))}</p>")
    table = overview(sections)
    if table is not None:
        parts.append(f"<h3>{html.escape(t('report.heading.runs'))}</h3>" + _html_table(table, None))
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(i)}</p>" for i in s.intro]
        if s.config:
            parts.append(f"<h3>{html.escape(t('report.heading.settings'))}</h3>" + _html_table(_config_table(s), None))
        if s.metrics:
            parts.append(f"<h3>{html.escape(t('report.heading.metrics'))}</h3>"
                         + _html_table(_metrics_table(s), None, "meanings"))
        if s.notes:
            parts.append(f"<h3>{html.escape(t('report.heading.notes'))}</h3>")
            parts += [f"<div class='note'>{html.escape(n)}</div>" for n in s.notes]
        if s.explanations:
            parts.append(f"<h3>{html.escape(t('report.heading.explanations'))}</h3>")
            parts += [f"<div class='note'>{html.escape(n)}</div>" for n in s.explanations]
        for name, table in s.tables.items():
            parts.append(f"<h3>{html.escape(t('report.heading.table', name=name))}</h3>" + _html_table(table))
        for name, p in s.figures.items():
            mime, data = embed_image(p)
            parts.append(f"<figure><img alt='{html.escape(name)}' src='data:{mime};base64,{data}'>"
                         f"<figcaption>{html.escape(name)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)

"""Reports from run folders: one self-contained HTML file (figures embedded) and a Markdown twin.

``build_report`` accepts run folders, sweep folders (their comparison table and overlays come first)
and any folder that contains run folders (a tour, a whole ``runs/`` tree). It has the PDF report's title
block and 考察 (discussion) sections, filled from the same Markdown file (:mod:`dlsm.report_pdf`).

What both reports share lives here: the sections, the headline metrics with their units and meanings,
which rows of a long table are shown (a row left out is always named), and the discussion file, whose
``$...$`` math matplotlib's mathtext draws (no TeX install).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from dlsm.errors import DataError
from dlsm.i18n import get_language, t
from dlsm.result import Table, format_scalar
from dlsm.runs import (
    OutputError,
    RunRecord,
    check_writable_root,
    is_run_dir,
    load_run,
    read_json,
    read_table,
    status_text,
)
from dlsm.status import Status

#: The PDF prints a table of up to this many rows whole (continued on the next page under its header row); a
#: longer one is summarised: its first HEAD_ROWS and last TAIL_ROWS rows, and a line naming the rows left out.
MAX_TABLE_ROWS = 80
HEAD_ROWS, TAIL_ROWS = 50, 10
#: The HTML report and its Markdown twin show every row of a table up to this long (the same summary above).
MAX_HTML_ROWS = 1000


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
    discussion: str = ""  # the student's 考察 for this run (Markdown), from the discussion file
    sweep: bool = False  # a sweep's section (its comparison and overlays), not a run's

    @property
    def discussable(self) -> bool:
        """Whether the section gets a 考察 box: every run and every sweep (a sweep is one exercise)."""
        return bool(self.status) or self.sweep


def collect_sections(paths: list[Path], points: bool = False) -> list[Section]:
    """Expand the given folders into report sections, in order; raise DataError if none is a run.

    A sweep is one section (its comparison table, overlays and the errors of failed points); ``points=True``
    also gives each of its points a section of its own (a sweep of 30 points is then 30 more sections).
    """
    sections: list[Section] = []
    for path in paths:
        path = Path(path)
        if path.is_file():
            raise DataError(t("runs.err.report_is_file", path=path))
        if not path.is_dir():
            raise DataError(t("runs.err.report_no_folder", path=path))
        found = _sections_under(path, points)
        if not found:
            raise DataError(t("runs.err.report_no_runs", path=path))
        sections += found
    return sections


def _sections_under(path: Path, points: bool) -> list[Section]:
    if is_run_dir(path):
        return [_run_section(load_run(path))]
    out = []
    children = [p for p in path.iterdir() if p.is_dir()]
    if (path / "sweep.json").is_file():
        out.append(_sweep_section(path))
        if not points:
            return out
        order = {name: i for i, name in enumerate(_read_json(path / "sweep.json").get("runs", []))}
        children.sort(key=lambda p: (order.get(p.name, len(order)), _created(p), p.name))  # the grid's order
    else:
        children.sort(key=lambda p: (_created(p), p.name))
    for child in children:
        out += _sections_under(child, points)
    return out


def _read_json(path: Path) -> dict:
    """A JSON file of a run or sweep folder through :func:`dlsm.runs.read_json` ({} when it cannot be read)."""
    try:
        data = read_json(path)
    except DataError:
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


def inside(folder: Path, path: Path) -> bool:
    """Whether ``path`` is a regular file of ``folder`` itself: not a symbolic link (a report reads nothing a
    link points to, inside or outside the run folder) and not, through a linked folder, outside it."""
    try:
        return (path.is_file() and not path.is_symlink()
                and path.resolve().is_relative_to(folder.resolve()))
    except OSError:
        return False


def _files(folder: Path, files: dict[str, Path]) -> dict[str, Path]:
    return {name: p for name, p in files.items() if inside(folder, Path(p))}


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
        tables={name: read_table(p) for name, p in _files(run.path, run.tables).items()},
        figures=_files(run.path, dict(run.figures)),
    )


def _sweep_section(path: Path) -> Section:
    meta = _read_json(path / "sweep.json")
    tables = {}
    if inside(path, path / "comparison.csv"):
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
        for name in meta["failed"]:
            error = _read_json(path / name / "metrics.json").get("error")
            if error:
                intro.append(t("report.sweep.point_error", run=name, error=error))
    swept = " × ".join(k for k in keys if k != "seed")
    return Section(
        title=t("report.sweep.title", lab=meta.get("lab", "?"), keys=swept)
              + (t("report.sweep.title_seeds", n=len(seeds)) if seeds else ""),
        path=path,
        intro=intro,
        tables=tables,
        figures={p.stem: p for p in sorted((path / "figures").glob("*.png")) if inside(path, p)},
        lab=str(meta.get("lab", "")),
        sweep=True,
    )


def build_report(paths: list[Path], out: Path, title: str = "", *, name: str = "", student_id: str = "",
                 explanations: bool = True, discussion: Path | None = None,
                 with_discussion: bool = True, points: bool = False) -> tuple[Path, Path]:
    """Write ``out`` (.html) and its Markdown twin (.md) for the runs under ``paths``; return both.

    The text follows the language setting. The title block (title, name, student ID, date) and the 考察
    sections are the PDF report's: ``discussion`` is the same Markdown file (``## NAME`` sections go to the
    runs whose lab or folder is NAME, the rest to the overall discussion); without it each run has an empty
    box. ``with_discussion=False`` leaves the 考察 sections out (a tour's report). ``explanations=False``
    leaves out the labs' explanations (the theory behind a measurement), as a student's report does. A sweep
    is one section unless ``points`` (see :func:`collect_sections`).
    """
    sections = collect_sections(paths, points)
    title = title or t("report.default_title")
    if not explanations:
        for s in sections:
            s.explanations = []
    overall = attach_discussion(sections, discussion) if with_discussion else None
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
    html_path.write_text(render_html(sections, title, block, with_discussion, overall))
    md_path.write_text(render_markdown(sections, title, md_path.parent, block, with_discussion, overall))
    return html_path, md_path


def overview(sections: list[Section]) -> Table | None:
    """Every run of the report with its status and time (failed, interrupted and killed runs stand out)."""
    runs = [s for s in sections if s.status]
    if len(runs) < 2 and all(s.status == Status.COMPLETED for s in runs):
        return None
    return Table([t("report.column.run"), t("report.column.status"), "time_s"],
                 [[s.title, status_text(s.status), round(s.elapsed_s, 2)] for s in runs])


def title_block(name: str = "", student_id: str = "") -> list[tuple[str, str]]:
    """(label, value) lines under the title: name and student ID (blank when not given) and the date."""
    return [(t("report.heading.name"), name), (t("report.heading.student_id"), student_id),
            (t("report.heading.date"), _dt.date.today().isoformat())]


# ----- the discussion file ----------------------------------------------------------------------------
def split_discussion(text: str, sections: list[Section]) -> tuple[dict[int, str], str]:
    """Map ``## NAME`` blocks of a Markdown file to section indices; the rest is the overall discussion."""
    per_section: dict[int, str] = {}
    overall: list[str] = []
    blocks = re.split(r"(?m)^##\s+(.+?)\s*$", text)
    if blocks[0].strip():
        overall.append(blocks[0].strip())
    for heading, body in zip(blocks[1::2], blocks[2::2], strict=True):
        key = heading.strip().lower()
        match = next((i for i, s in enumerate(sections) if s.discussable and i not in per_section and (
            key in s.title.lower() or key == s.path.name.lower())), None)
        if match is None:
            overall.append(f"### {heading.strip()}\n\n{body.strip()}")  # kept as a heading of its own
        else:
            per_section[match] = body.strip()
    return per_section, "\n\n".join(overall)


def attach_discussion(sections: list[Section], discussion: Path | None) -> str | None:
    """Fill each run's ``discussion`` from the Markdown file; return the overall discussion: "" without a
    file (an empty box to write in, as each run's), None when a file was given and all of it went to runs."""
    if discussion is None:
        return ""
    try:
        text = Path(discussion).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(t("runs.err.discussion_unreadable", path=discussion, error=exc)) from None
    per_section, overall = split_discussion(text, sections)
    for i, body in per_section.items():
        sections[i].discussion = body
    return overall or None


class Style(Enum):
    """How a span of discussion text is printed."""

    PLAIN = "plain"
    BOLD = "bold"
    MATH = "math"  # mathtext source, without the $ signs


class Kind(Enum):
    """A block of the discussion file."""

    PARAGRAPH = "paragraph"  # its line breaks are kept
    ITEM = "item"  # a "- " or "* " list item
    HEADING = "heading"  # "### ..."
    MATH = "math"  # a block that is one $$...$$ formula


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = Style.PLAIN


@dataclass(frozen=True)
class Block:
    kind: Kind
    spans: list[Span]


_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")


def spans_of(text: str) -> list[Span]:
    """Inline Markdown: ``$math$``, ``**bold**`` and plain text (``\\$`` is a dollar sign)."""
    out: list[Span] = []
    for i, part in enumerate(_MATH.split(text)):
        if i % 2:
            out.append(Span(part, Style.MATH))
            continue
        for j, piece in enumerate(re.split(r"\*\*(.+?)\*\*", part)):
            if piece:
                out.append(Span(piece.replace("\\$", "$"), Style.BOLD if j % 2 else Style.PLAIN))
    return out


def parse_discussion(text: str) -> list[Block]:
    """The blocks of a discussion: paragraphs (blank-line separated), list items, headings, display math."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        chunk = chunk.strip()
        display = re.fullmatch(r"\$\$(.+?)\$\$", chunk, flags=re.S)
        if display:
            blocks.append(Block(Kind.MATH, [Span(" ".join(display.group(1).split()), Style.MATH)]))
            continue
        lines: list[str] = []
        for line in chunk.splitlines():
            line = line.rstrip()
            bare = line.lstrip()
            if bare.startswith("#"):
                blocks += _paragraph(lines) + [Block(Kind.HEADING, spans_of(bare.lstrip("#").strip()))]
                lines = []
            elif bare.startswith(("- ", "* ")):
                blocks += _paragraph(lines)
                lines = []
                blocks.append(Block(Kind.ITEM, spans_of(bare[2:].strip())))
            elif blocks and blocks[-1].kind is Kind.ITEM and not lines and line[:1].isspace():
                last = blocks.pop()  # an indented line continues the item above
                blocks.append(Block(Kind.ITEM, spans_of(_text_of(last.spans) + " " + bare)))
            elif bare:
                lines.append(bare)
        blocks += _paragraph(lines)
    return blocks


def _paragraph(lines: list[str]) -> list[Block]:
    return [Block(Kind.PARAGRAPH, spans_of("\n".join(lines)))] if lines else []


def _text_of(spans: list[Span]) -> str:
    marks = {Style.PLAIN: "{}", Style.BOLD: "**{}**", Style.MATH: "${}$"}
    return "".join(marks[s.style].format(s.text) for s in spans)


@dataclass(frozen=True)
class MathGlyphs:
    """``$tex$`` as matplotlib's mathtext draws it: outlines in points, y up, the baseline at y = 0.

    ``commands`` are ``("M", (x, y))``, ``("L", (x, y))``, ``("Q", (x1, y1, x, y))``,
    ``("C", (x1, y1, x2, y2, x, y))`` and ``("Z", ())``, as in SVG and PDF paths.
    """

    width: float
    ascent: float
    descent: float
    commands: list[tuple[str, tuple[float, ...]]]


def math_glyphs(tex: str, size_pt: float) -> MathGlyphs | None:
    """The outlines of formula ``tex`` at ``size_pt``; None when mathtext cannot parse it."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path as MplPath
    from matplotlib.textpath import TextPath, TextToPath

    source, prop = f"${tex}$", FontProperties(size=size_pt)
    try:
        width, height, descent = TextToPath().get_text_width_height_descent(source, prop, ismath=True)
        path = TextPath((0, 0), source, prop=prop)
    except (ValueError, RuntimeError):
        return None
    ops = {MplPath.MOVETO: "M", MplPath.LINETO: "L", MplPath.CURVE3: "Q", MplPath.CURVE4: "C",
           MplPath.CLOSEPOLY: "Z"}
    commands = [(ops[code], () if code == MplPath.CLOSEPOLY else tuple(float(v) for v in vertices))
                for vertices, code in path.iter_segments(curves=True, simplify=False) if code in ops]
    extents = path.get_extents()
    return MathGlyphs(max(float(width), float(extents.x1)), max(float(height - descent), float(extents.y1)),
                      max(float(descent), -float(extents.y0)), commands)


def math_svg(tex: str, size_pt: float = 12.0) -> str:
    """Inline SVG of formula ``tex`` (its outlines, so no math font is needed), or the source when it
    cannot be parsed."""
    g = math_glyphs(tex, size_pt)
    if g is None:
        return html.escape(f"${tex}$")
    h, pad = g.ascent + g.descent, 0.5

    def xy(c: tuple[float, ...]) -> str:
        return " ".join(f"{c[i]:.2f} {g.ascent - c[i + 1]:.2f}" for i in range(0, len(c), 2))

    d = " ".join(op if op == "Z" else f"{op}{xy(c)}" for op, c in g.commands)
    return (f"<svg class='math' xmlns='http://www.w3.org/2000/svg' width='{g.width + 2 * pad:.2f}pt' "
            f"height='{h:.2f}pt' viewBox='{-pad} 0 {g.width + 2 * pad:.2f} {h:.2f}' "
            f"style='vertical-align:{-g.descent:.2f}pt' role='img' aria-label='{html.escape(tex, quote=True)}'>"
            f"<path d='{d}'/></svg>")


# ----- metrics and tables ----------------------------------------------------------------------------
def headline_split(s: Section) -> tuple[list[str], list[str]]:
    """(the lab's declared headline metrics that the run has, the other metrics), in the run's order.

    A run of a lab that declares none (or none that the run recorded) has all its metrics as headline.
    """
    from dlsm.lab_index import load

    declared = set(load().get(s.lab, {}).get("headline", []))
    head = [k for k in s.metrics if k in declared]
    if not head:
        return list(s.metrics), []
    return head, [k for k in s.metrics if k not in declared]


def describe(lab: str, name: str) -> tuple[str, str]:
    """(meaning, unit in words) of metric ``name`` of ``lab``, in the current language (from the lab index)."""
    from dlsm.lab_index import load
    from dlsm.outcome import MetricSpec, describe_metric

    entry = load().get(lab, {})
    specs = [MetricSpec(n, unit, False, family=bool(family)) for n, unit, family in entry.get("metrics", [])]
    return describe_metric(lab, name, specs=specs)


def metrics_table(s: Section, names: list[str]) -> Table:
    """Metric, value, unit and its one-line meaning (declared by the lab, in the current language)."""
    rows = []
    for k in names:
        meaning, unit = describe(s.lab, k)
        rows.append([k, _value_text(s.metrics[k]), unit, meaning])
    return Table([t("report.column.metric"), t("report.column.value"), t("report.column.unit"),
                  t("report.column.meaning")], rows)


@dataclass(frozen=True)
class Excerpt:
    """The rows of a table that a report prints: ``head``, then (when rows are left out) ``tail``, and
    ``left_out``, the line that names the rows left out ("" when every row is printed)."""

    head: list[list]
    tail: list[list]
    left_out: str


def excerpt(table: Table, name: str, limit: int = MAX_TABLE_ROWS) -> Excerpt:
    """Every row of a table of up to ``limit`` rows; of a longer one, the first and last rows and a line
    that names the rows between them (their numbers and the first column's values)."""
    n = len(table.rows)
    if n <= limit:
        return Excerpt(list(table.rows), [], "")
    first, last = HEAD_ROWS, n - TAIL_ROWS  # 0-based: rows[first:last] are left out
    line = t("report.rows_left_out", first=first + 1, last=last, total=n, column=table.columns[0],
             a=_value_text(table.rows[first][0]), b=_value_text(table.rows[last - 1][0]), file=f"{name}.csv")
    return Excerpt(list(table.rows[:first]), list(table.rows[last:]), line)


def _config_table(s: Section) -> Table:
    return Table([t("report.column.key"), t("report.column.value")], [[k, _value_text(v)] for k, v in s.config.items()])


def _value_text(v) -> str:
    if isinstance(v, list):
        return "(" + ", ".join(format_scalar(x) for x in v) + ")"
    return format_scalar(v)


# ----- Markdown and HTML -----------------------------------------------------------------------------
def render_markdown(sections: list[Section], title: str, base: Path, block: list[tuple[str, str]] | None = None,
                    boxes: bool = False, overall: str | None = None) -> str:
    """The Markdown twin; ``boxes`` and ``overall`` as in :func:`render_html`."""
    lines = [f"# {title}", ""] + [f"{label}: {value}  " for label, value in block or []]
    lines += ["", t("report.generated", time=f"{_dt.datetime.now():%Y-%m-%d %H:%M}"), ""]
    table = overview(sections)
    if table is not None:
        lines += [f"**{t('report.heading.runs')}**", "", table.to_markdown(), ""]
    n_figures = 0
    for s in sections:
        lines += [f"## {s.title}", ""] + s.intro + [""]
        if s.config:
            lines += [f"**{t('report.heading.settings')}**", "", _config_table(s).to_markdown(), ""]
        head, others = headline_split(s)
        if head:
            lines += [f"**{t('report.heading.metrics')}**", "", metrics_table(s, head).to_markdown(), ""]
        if others:
            lines += [f"**{t('report.heading.other_metrics')}**", "", metrics_table(s, others).to_markdown(), ""]
        if s.notes:
            lines += [f"**{t('report.heading.notes')}**", ""] + [f"- {n}" for n in s.notes] + [""]
        if s.explanations:
            lines += [f"**{t('report.heading.explanations')}**", ""] + [f"- {n}" for n in s.explanations] + [""]
        for name, table in s.tables.items():
            lines += [f"**{t('report.heading.table', name=name)}**", "", _markdown_table(table, name), ""]
        for name, p in s.figures.items():
            n_figures += 1
            rel = os.path.relpath(p, base)
            lines += [f"![{name}]({rel})", "", f"*{t('report.heading.figure_caption', n=n_figures, name=name)}*", ""]
        if s.discussable and boxes:
            lines += [f"**{t('report.heading.discussion')}**", "", s.discussion or "> ", ""]
    if boxes and overall is not None:
        lines += [f"## {t('report.heading.overall')}", "", overall or "> ", ""]
    return "\n".join(lines)


def _markdown_table(table: Table, name: str) -> str:
    part = excerpt(table, name, MAX_HTML_ROWS)
    rows = part.head + ([["…"] * len(table.columns)] + part.tail if part.left_out else [])
    text = Table(table.columns, rows).to_markdown()
    return text + (f"\n\n{part.left_out}" if part.left_out else "")


_CSS = """
body{font-family:system-ui,"Hiragino Sans","Yu Gothic","Noto Sans CJK JP","IPAexGothic",sans-serif;
max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 8px;
font-size:.9em;text-align:right}th{background:#f3f3f3;white-space:nowrap}td:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}figure{margin:0}figcaption{color:#666;font-size:.85em}
.wide{overflow-x:auto}.meanings td:last-child,.meanings th:last-child{text-align:left}
.meanings td:nth-child(2){white-space:nowrap}
table.title{border:none}.title th{text-align:left;background:none;border:none;padding-right:1.5em}
.title td{text-align:left;border:none;border-bottom:1px solid #888;min-width:16em}
.note{background:#fff7e0;border-left:4px solid #e0a000;padding:.3em .8em;margin:.3em 0}
.left-out{color:#555;font-size:.9em}
.discussion{border:1px solid #aaa;padding:.2em 1em;margin:.5em 0 1em;line-height:1.7}
.discussion.empty{min-height:10em}svg.math{overflow:visible}.display{text-align:center}
details summary{cursor:pointer;color:#444;margin:.3em 0}
"""


def _html_table(table: Table, cls: str = "", name: str = "") -> str:
    part = excerpt(table, name, MAX_HTML_ROWS)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)

    def rows(rs: list[list]) -> str:
        return "".join("<tr>" + "".join(f"<td>{html.escape(_value_text(c))}</td>" for c in r) + "</tr>" for r in rs)

    gap = f"<tr><td colspan='{len(table.columns)}'>…</td></tr>" if part.left_out else ""
    more = f"<p class='left-out'>{html.escape(part.left_out)}</p>" if part.left_out else ""
    return f"<div class='wide {cls}'><table><tr>{head}</tr>{rows(part.head)}{gap}{rows(part.tail)}</table></div>{more}"


def _html_spans(spans: list[Span]) -> str:
    out = []
    for sp in spans:
        if sp.style is Style.MATH:
            out.append(math_svg(sp.text))
        else:
            text = html.escape(sp.text).replace("\n", "<br>")
            out.append(f"<strong>{text}</strong>" if sp.style is Style.BOLD else text)
    return "".join(out)


def discussion_html(text: str) -> str:
    """A 考察 box: the discussion rendered (math drawn as SVG), or an empty box to write in."""
    if not text.strip():
        return "<div class='discussion empty'></div>"
    parts, items = [], []
    for b in parse_discussion(text):
        if b.kind is Kind.ITEM:
            items.append(f"<li>{_html_spans(b.spans)}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if b.kind is Kind.MATH:
            parts.append(f"<p class='display'>{math_svg(b.spans[0].text, 14.0)}</p>")
        elif b.kind is Kind.HEADING:
            parts.append(f"<h4>{_html_spans(b.spans)}</h4>")
        else:
            parts.append(f"<p>{_html_spans(b.spans)}</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "<div class='discussion'>" + "".join(parts) + "</div>"


def render_html(sections: list[Section], title: str, block: list[tuple[str, str]] | None = None,
                boxes: bool = False, overall: str | None = None) -> str:
    """The HTML report; ``boxes``: a 考察 section per run (its ``discussion``, or an empty box), and one for
    the ``overall`` discussion unless that is None."""
    lang = get_language()
    parts = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    if block:
        parts.append("<table class='title'>" + "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}"
                                                       "</td></tr>" for label, value in block) + "</table>")
    parts.append(f"<p>{html.escape(t('report.generated', time=f'{_dt.datetime.now():%Y-%m-%d %H:%M}'))}</p>")
    table = overview(sections)
    if table is not None:
        parts.append(f"<h3>{html.escape(t('report.heading.runs'))}</h3>" + _html_table(table))
    n_figures = 0
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(i)}</p>" for i in s.intro]
        if s.config:
            parts.append(f"<h3>{html.escape(t('report.heading.settings'))}</h3>" + _html_table(_config_table(s)))
        head, others = headline_split(s)
        if head:
            parts.append(f"<h3>{html.escape(t('report.heading.metrics'))}</h3>"
                         + _html_table(metrics_table(s, head), "meanings"))
        if others:
            parts.append(f"<details><summary>{html.escape(t('report.heading.other_metrics'))} ({len(others)})"
                         f"</summary>{_html_table(metrics_table(s, others), 'meanings')}</details>")
        if s.notes:
            parts.append(f"<h3>{html.escape(t('report.heading.notes'))}</h3>")
            parts += [f"<div class='note'>{html.escape(n)}</div>" for n in s.notes]
        if s.explanations:
            parts.append(f"<h3>{html.escape(t('report.heading.explanations'))}</h3>")
            parts += [f"<div class='note'>{html.escape(n)}</div>" for n in s.explanations]
        for name, table in s.tables.items():
            parts.append(f"<h3>{html.escape(t('report.heading.table', name=name))}</h3>"
                         + _html_table(table, name=name))
        for name, p in s.figures.items():
            n_figures += 1
            mime, data = embed_image(p)
            caption = t("report.heading.figure_caption", n=n_figures, name=name)
            parts.append(f"<figure><img alt='{html.escape(name)}' src='data:{mime};base64,{data}'>"
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        if s.discussable and boxes:
            parts.append(f"<h3>{html.escape(t('report.heading.discussion'))}</h3>" + discussion_html(s.discussion))
    if boxes and overall is not None:
        parts.append(f"<h2>{html.escape(t('report.heading.overall'))}</h2>" + discussion_html(overall))
    parts.append("</body></html>")
    return "\n".join(parts)


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
    photo-like PNG when it is less than half the size (plots stay PNG: sharp lines, small files). A figure saved
    with an animation beside it (``NAME.gif``, a regular file) is embedded as that GIF: the HTML report moves."""
    gif = Path(path).with_suffix(".gif")
    if gif.is_file() and not gif.is_symlink():
        return "image/gif", base64.b64encode(gif.read_bytes()).decode("ascii")
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

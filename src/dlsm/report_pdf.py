"""A4 PDF report of run folders, for handing in: a title block, and per run its settings, headline metrics
(with units and meanings), tables, vector figures, notes and a 考察 (discussion) section, empty or filled
from Markdown.

    dlsm report runs/gd2d/<folder> ... --pdf -o report.pdf --name "山田 太郎" --student-id 12345678 \\
        --discussion discussion.md

Layout by fpdf2 (text, tables, a Japanese TTF embedded as a subset: IPAex Gothic, shipped by
matplotlib-fontja, with DejaVu Sans from matplotlib for symbols it lacks). Figures stay vector: the
run folders hold each figure as PDF too, so the layout reserves a box and pypdf then draws the
figure's PDF page into it (a form XObject, no rasterising). A figure without a PDF file is
embedded as its PNG.

The layout rules:

* Figure text stays at 8 pt or more on paper. A figure is printed at its own size (or the text width);
  it is never shrunk below the width at which its smallest text of 8 pt or more (read from its PDF)
  falls under 8 pt. A figure that needs more than the text width for that may use the side margins
  (FIG_MARGIN), and one too wide even for that gets a landscape page of its own, after the page on which
  it comes (text flows on that page).
* No half-empty pages: a figure that does not fit the rest of a page is shrunk to fit (within that
  limit, and to no less than SHRINK_LIMIT of its width); otherwise it waits for the next page while the
  text of its run (notes, 考察) flows on. It never leaves its run's section.
* Tables print every row, continued on the next page under their header row; a table longer than
  :data:`dlsm.report.MAX_TABLE_ROWS` is summarised and the rows left out are named.
* The discussion's ``$...$`` (and ``$$...$$`` blocks) are drawn by matplotlib's mathtext as outlines.

The discussion file: text under a heading ``## NAME`` goes to the run whose lab, folder name or
title contains NAME; text before the first heading, or under a heading that matches no run, goes to
a closing 全体の考察 section.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlsm.errors import DataError
from dlsm.i18n import t
from dlsm.report import (
    Kind,
    MathGlyphs,
    Section,
    Span,
    Style,
    attach_discussion,
    collect_sections,
    excerpt,
    headline_split,
    inside,
    math_glyphs,
    metrics_table,
    parse_discussion,
    split_discussion,
)
from dlsm.result import Table, format_scalar
from dlsm.runs import PNG_DPI, OutputError, check_writable_root

if TYPE_CHECKING:
    from pypdf.generic import IndirectObject, PdfObject

__all__ = ["HEADINGS", "build_pdf_report", "figure_text_sizes", "split_discussion"]

PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 15.0  # A4, mm
TEXT_W = PAGE_W - 2 * MARGIN
FIG_MARGIN = 8.0  # mm: the side margin left to a figure that needs more than TEXT_W to keep its text at 8 pt
FIG_MAX_H = 120.0  # mm: a taller figure is narrowed (down to its 8-pt width)
CAPTION_H = 9.0  # mm under a figure: its caption and the space after it
MIN_TEXT_PT = 8.0  # no figure text of 8 pt or more is printed smaller than this
SHRINK_LIMIT = 0.7  # a figure shrunk to fit the rest of a page keeps at least this share of its width
PNG_TEXT_PT = 10.0  # the text size assumed for a figure that has only its PNG (matplotlib's default)
TABLE_PT = 8.0
MM_TO_PT = 72 / 25.4
DISCUSSION_BOX_H = 45.0  # mm of empty space to write in
FONT = "jp"


class _Headings(Mapping[str, str]):
    """The report's headings in the current language (the glossary's ``report.heading.*``)."""

    NAMES = ("settings", "metrics", "tables", "figures", "notes", "explanations", "discussion", "overall", "name",
             "student_id", "date")

    def __getitem__(self, key: str) -> str:
        if key not in self.NAMES:
            raise KeyError(key)
        return t(f"report.heading.{key}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.NAMES)

    def __len__(self) -> int:
        return len(self.NAMES)


HEADINGS = _Headings()


@dataclass
class FigureSlot:
    """A reserved box (mm, from the top-left corner) on page ``page`` (0-based) for a vector figure, and the
    part of the figure's page (``crop``: left, bottom, right, top in pt) that fills it."""

    page: int
    x: float
    y: float
    w: float
    h: float
    pdf: Path
    page_h: float = PAGE_H  # the page's height (a landscape page: 210)
    crop: tuple[float, float, float, float] | None = None  # None: the whole figure


def figure_text_sizes(pdf: Path) -> list[float]:
    """The font sizes (pt, at the figure's own size) of the text in a figure's PDF page, smallest first."""
    from pypdf import PdfReader

    data = PdfReader(pdf).pages[0].get_contents()
    text = data.get_data() if data is not None else b""
    return sorted({float(m) for m in re.findall(rb"/[^\s/\[\]]+\s+(\d+(?:\.\d+)?)\s+Tf", text)})


def content_box(png: Path, pad_px: int = 4) -> tuple[float, float, float, float]:
    """The part of a figure that is not blank (white) margin: left, top, right, bottom as fractions of its
    width and height, from its PNG (the same figure as its PDF, at PNG_DPI)."""
    from PIL import Image, ImageChops

    with Image.open(png) as im:
        rgb = im.convert("RGB")
    ink = ImageChops.difference(rgb, Image.new("RGB", rgb.size, (255, 255, 255))).convert("L")
    bbox = ink.point(lambda v: 255 if v > 8 else 0).getbbox()
    if bbox is None:
        return 0.0, 0.0, 1.0, 1.0
    w, h = rgb.size
    left, top, right, bottom = bbox
    return (max(left - pad_px, 0) / w, max(top - pad_px, 0) / h, min(right + pad_px, w) / w,
            min(bottom + pad_px, h) / h)


@dataclass(frozen=True)
class FigureSpec:
    """A figure to place: the size (pt) of its drawn part (its blank margins cut off: ``crop``, in its PDF's
    coordinates) and the size of its smallest text of 8 pt or more."""

    name: str
    png: Path
    pdf: Path | None
    width_pt: float
    height_pt: float
    text_pt: float | None  # None: no text, any size will do
    crop: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # PDF: left, bottom, right, top (pt)

    @classmethod
    def read(cls, name: str, png: Path) -> FigureSpec:
        left, top, right, bottom = content_box(png)
        pdf = Path(png).with_suffix(".pdf")
        if inside(Path(png).parent, pdf):  # the vector twin, if it is a file of the run itself
            from pypdf import PdfReader

            box = PdfReader(pdf).pages[0].mediabox
            x0, y0, w, h = float(box.left), float(box.bottom), float(box.width), float(box.height)
            crop = (x0 + left * w, y0 + (1 - bottom) * h, x0 + right * w, y0 + (1 - top) * h)
            sizes = figure_text_sizes(pdf)
            readable = [s for s in sizes if s >= MIN_TEXT_PT]
            text_pt = min(readable) if readable else max(sizes) if sizes else None
            return cls(name, Path(png), pdf, crop[2] - crop[0], crop[3] - crop[1], text_pt, crop)
        from PIL import Image

        with Image.open(png) as im:
            w, h = im.size
        crop = (left * w, top * h, right * w, bottom * h)  # PNG: pixels, from the top-left corner
        return cls(name, Path(png), None, (crop[2] - crop[0]) / PNG_DPI * 72, (crop[3] - crop[1]) / PNG_DPI * 72,
                   PNG_TEXT_PT, crop)

    @property
    def aspect(self) -> float:
        return self.height_pt / self.width_pt

    @property
    def min_w(self) -> float:
        """The narrowest width (mm) at which its text of 8 pt or more stays at 8 pt or more."""
        natural = self.width_pt / MM_TO_PT
        return natural * MIN_TEXT_PT / self.text_pt if self.text_pt else 0.0

    @property
    def landscape(self) -> bool:
        return self.min_w > PAGE_W - 2 * FIG_MARGIN + 0.01

    def preferred_w(self, page_w: float, text_h: float) -> float:
        """Its own width, or narrower to fit the text width and FIG_MAX_H, but not below its 8-pt width
        (for which it may use the side margins), and never more than fits the page."""
        text_w = page_w - 2 * MARGIN
        w = min(self.width_pt / MM_TO_PT, text_w, FIG_MAX_H / self.aspect)
        return min(max(w, self.min_w), page_w - 2 * FIG_MARGIN, (text_h - CAPTION_H) / self.aspect)


def build_pdf_report(
    paths: list[Path],
    out: Path,
    title: str = "",
    name: str = "",
    student_id: str = "",
    discussion: Path | None = None,
    explanations: bool = True,
    points: bool = False,
) -> Path:
    """Write the A4 PDF report of the runs under ``paths`` to ``out``; return its path.

    Headings follow the language setting; ``explanations=False`` leaves out the labs' explanations (the
    theory behind what was measured), as in a student's report. A sweep is one section unless ``points``
    (:func:`dlsm.report.collect_sections`).
    """
    layout = layout_report(paths, title, name, student_id, discussion, explanations, points)
    out = Path(out)
    if out.is_dir():
        out = out / "report.pdf"
    if out.suffix.lower() != ".pdf":
        out = out.with_suffix(".pdf")
    check_writable_root(out.parent, "-o")
    try:
        with out.open("wb") as f:
            layout.write(f)
    except OSError as exc:
        raise OutputError(f"-o {out}: cannot write the PDF ({exc.strerror or exc})") from None
    return out


def layout_report(paths: list[Path], title: str = "", name: str = "", student_id: str = "",
                  discussion: Path | None = None, explanations: bool = True, points: bool = False) -> Layout:
    """The laid-out report (before it is written): its pages, figure boxes and what fell below 8 pt."""
    sections = collect_sections([Path(p) for p in paths], points)
    title = title or t("report.default_title")
    if not explanations:
        for s in sections:
            s.explanations = []
    overall = attach_discussion(sections, discussion)
    layout = Layout(title)
    layout.title_block(title, name, student_id)
    for section in sections:
        layout.section(section)
    if overall is not None:
        layout.heading(HEADINGS["overall"], level=1, keep=DISCUSSION_BOX_H + 8)
        layout.discussion(overall)
    return layout


@dataclass
class _Unit:
    """A piece of a line: text that may not be broken (a word, one CJK character) or a formula."""

    text: str
    style: Style
    w: float  # mm
    glyphs: MathGlyphs | None = None


_BREAK = _Unit("\n", Style.PLAIN, 0.0)
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}][、。，．）」』】！？]*|[^\s{_CJK}]+\s*|\s+")


class Layout:
    """fpdf2 document with the report's styles; collects the figure boxes to fill afterwards."""

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        class _Pages(FPDF):
            def footer(self) -> None:
                self.set_y(-10)
                self.set_font(FONT, size=8)
                self.set_text_color(120)
                self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="C")
                self.set_text_color(0)

        pdf = _Pages(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=MARGIN)
        pdf.add_font(FONT, "", str(japanese_font()))
        pdf.add_font("symbols", "", str(symbol_font()))
        pdf.set_fallback_fonts(["symbols"])
        pdf.set_title(title)
        pdf.set_creator("dlsm report --pdf")
        pdf.set_font(FONT, size=10)
        pdf.alias_nb_pages()
        self.pdf = pdf
        self.slots: list[FigureSlot] = []
        self.n_figures = 0
        self.pending: list[FigureSpec] = []  # figures waiting for the next page, in order
        self.small_text: dict[str, float] = {}  # figure -> the size its 8-pt text printed at, where below 8 pt
        pdf.add_page()

    # ----- pages and space ---------------------------------------------------------------------------
    @property
    def room(self) -> float:
        """mm left on the current page."""
        return self.pdf.h - MARGIN - self.pdf.get_y()

    def ensure(self, h: float) -> None:
        """Make sure ``h`` mm fit on the page: else start the next one (with the figures that wait)."""
        for _ in range(len(self.pending) + 1):  # a new page holds the figures that wait first
            if h <= self.room:
                return
            self.new_page()

    def new_page(self) -> None:
        """The next portrait page, after the landscape pages of the wide figures that wait, with the figures
        that wait placed at its top."""
        self._landscape_pages()
        self.pdf.add_page(orientation="portrait")
        while self.pending and not self.pending[0].landscape and self._try_place(self.pending[0]):
            self.pending.pop(0)

    def _landscape_pages(self) -> None:
        while self.pending and self.pending[0].landscape:
            spec = self.pending.pop(0)
            self.pdf.add_page(orientation="landscape")
            self._place(spec, spec.preferred_w(self.pdf.w, self.pdf.h - 2 * MARGIN))

    def end_section(self) -> None:
        """Place the portrait figures that still wait, on the next page(s): they do not leave their run's
        section. A landscape figure (a page of its own) may wait for the next page break."""
        while any(not spec.landscape for spec in self.pending):
            if self.pending[0].landscape or not self._try_place(self.pending[0]):
                self.new_page()
            else:
                self.pending.pop(0)

    def finish(self) -> None:
        self.end_section()
        self._landscape_pages()

    # ----- blocks ------------------------------------------------------------------------------------
    def heading(self, text: str, level: int, keep: float = 25.0) -> None:
        """A heading, on the next page unless ``keep`` mm of what follows fit under it."""
        size = {0: 18, 1: 14, 2: 11.5}[level]
        self.ensure(size * 0.5 + 6 + keep)
        self.pdf.ln(2 if level == 2 else 4)
        self.pdf.set_font(FONT, size=size)
        self.pdf.multi_cell(TEXT_W, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        if level == 1:
            y = self.pdf.get_y() + 0.5
            self.pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
            self.pdf.ln(1.5)
        self.pdf.set_font(FONT, size=9.5)

    def paragraph(self, text: str, size: float = 9.5, bullet: str = "") -> None:
        self.rich([Span(text)], size=size, bullet=bullet)

    def title_block(self, title: str, name: str, student_id: str) -> None:
        pdf = self.pdf
        self.heading(title, level=0)
        pdf.ln(3)
        pdf.set_font(FONT, size=11)
        for label, value in ((HEADINGS["name"], name), (HEADINGS["student_id"], student_id),
                             (HEADINGS["date"], _dt.date.today().isoformat())):
            pdf.cell(28, 8, label + ":")
            x, y = pdf.get_x(), pdf.get_y()
            pdf.cell(90, 8, value, new_x="LMARGIN", new_y="NEXT")
            pdf.line(x, y + 7, x + 90, y + 7)
        pdf.ln(4)

    def section(self, section: Section) -> None:
        self.heading(section.title, level=1)
        for line in section.intro:
            self.paragraph(line, size=8)
        if section.config:
            self.heading(HEADINGS["settings"], level=2, keep=8)
            self.paragraph(", ".join(f"{k} = {format_scalar(v)}" for k, v in section.config.items()), size=8)
        head, others = headline_split(section)
        if head:
            self.heading(HEADINGS["metrics"], level=2, keep=12)
            self.table(metrics_table(section, head), wrap_last=True)
            if others:
                self.paragraph(t("report.other_metrics", n=len(others)), size=8)
        if section.tables:
            self.heading(HEADINGS["tables"], level=2)
            for name, table in section.tables.items():
                self.ensure(20)
                self.paragraph(t("report.table_rows", name=name, n=len(table.rows)), size=8.5)
                self.table(table, name)
        for name, png in section.figures.items():
            self.figure(FigureSpec.read(name, png))
        if section.notes:
            self.heading(HEADINGS["notes"], level=2, keep=8)
            for note in section.notes:
                self.paragraph(note, size=8.5, bullet="・")
        if section.explanations:
            self.heading(HEADINGS["explanations"], level=2, keep=8)
            for note in section.explanations:
                self.paragraph(note, size=8.5, bullet="・")
        if section.discussable:
            self.heading(HEADINGS["discussion"], level=2,
                         keep=12 if section.discussion.strip() else DISCUSSION_BOX_H + 3)
            self.discussion(section.discussion)
        self.end_section()

    def table(self, table: Table, name: str = "", wrap_last: bool = False) -> None:
        """Every row (continued on the next page under the header row), or the summary of a long table
        with the rows left out named; columns that do not fit side by side are split into several tables,
        each repeating the first column. ``wrap_last``: the last column (a meaning) wraps in the width left."""
        from fpdf.fonts import FontFace

        part = excerpt(table, name)
        rows = part.head + ([["…"] * len(table.columns)] if part.left_out else []) + part.tail
        pdf = self.pdf
        pdf.set_font(FONT, size=TABLE_PT)
        data = [[str(c) for c in table.columns]] + [[format_scalar(c) for c in r] for r in rows]
        widths = [max(pdf.get_string_width(r[k]) for r in data) + 3 for k in range(len(table.columns))]
        if wrap_last and len(widths) > 1:
            widths[-1] = max(TEXT_W - sum(widths[:-1]), 50.0)
        for chunk in _column_chunks(widths):
            w = [widths[j] for j in chunk]
            w = [x * TEXT_W / sum(w) for x in w] if sum(w) > TEXT_W else w
            self.ensure(TABLE_PT * 0.5 * 4)
            pdf.set_font(FONT, size=TABLE_PT)
            with pdf.table(col_widths=w, width=sum(w), align="LEFT", line_height=TABLE_PT * 0.5,
                           first_row_as_headings=True, text_align="LEFT", repeat_headings=1,
                           headings_style=FontFace(emphasis="", fill_color=(232, 232, 232))) as grid:
                for record in data:
                    grid.row([record[j] for j in chunk])
            pdf.ln(1.5)
        if part.left_out:
            self.paragraph(part.left_out, size=8)
        pdf.set_font(FONT, size=9.5)

    def figure(self, spec: FigureSpec) -> None:
        """Place the figure here if it fits (shrunk within its limits), else let it wait (see module doc)."""
        if self.pending or spec.landscape or not self._try_place(spec):
            self.pending.append(spec)

    def _try_place(self, spec: FigureSpec) -> bool:
        w = spec.preferred_w(PAGE_W, self.pdf.h - 2 * MARGIN)
        room = self.room - CAPTION_H
        if w * spec.aspect > room:
            shrunk = room / spec.aspect
            if shrunk < max(spec.min_w, SHRINK_LIMIT * w):
                return False
            w = shrunk
        self._place(spec, w)
        return True

    def _place(self, spec: FigureSpec, w: float) -> None:
        pdf = self.pdf
        h = w * spec.aspect
        x, y = (pdf.w - w) / 2, pdf.get_y()
        if spec.text_pt:
            printed = spec.text_pt * w * MM_TO_PT / spec.width_pt
            if printed < MIN_TEXT_PT - 0.05 and spec.text_pt >= MIN_TEXT_PT:
                self.small_text[spec.name] = round(printed, 1)
        if spec.pdf is not None:
            self.slots.append(FigureSlot(pdf.page_no() - 1, x, y, w, h, spec.pdf, pdf.h, spec.crop))
        else:
            from PIL import Image

            with Image.open(spec.png) as im:
                pdf.image(im.convert("RGB").crop(tuple(round(v) for v in spec.crop)), x=x, y=y, w=w, h=h)
        pdf.set_y(y + h + 1)
        self.n_figures += 1
        pdf.set_font(FONT, size=8.5)
        pdf.cell(pdf.w - 2 * MARGIN, 5, t("report.heading.figure_caption", n=self.n_figures, name=spec.name),
                 align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(CAPTION_H - 6)

    # ----- text with math ----------------------------------------------------------------------------
    def discussion(self, text: str) -> None:
        """The student's discussion (Markdown, with mathtext formulas), or an empty box to write in."""
        if not text.strip():
            self.ensure(DISCUSSION_BOX_H + 3)
            y = self.pdf.get_y() + 1
            self.pdf.set_draw_color(170)
            self.pdf.rect(MARGIN, y, TEXT_W, DISCUSSION_BOX_H)
            self.pdf.set_draw_color(0)
            self.pdf.set_xy(MARGIN, y + DISCUSSION_BOX_H + 2)
            return
        for block in parse_discussion(text):
            if block.kind is Kind.ITEM:
                self.rich(block.spans, bullet="・")
            elif block.kind is Kind.HEADING:
                self.rich([Span(s.text, Style.BOLD if s.style is Style.PLAIN else s.style) for s in block.spans],
                          size=10.5)
            elif block.kind is Kind.MATH:
                self.rich(block.spans, size=11, center=True)
            else:
                self.rich(block.spans)
            self.pdf.ln(1.2)

    def rich(self, spans: list[Span], size: float = 9.5, bullet: str = "", center: bool = False) -> None:
        """Flowing text in which ``$...$`` formulas are drawn as outlines on the baseline; it breaks lines
        between words and between Japanese characters, and ``bullet`` hangs in front of it."""
        pdf = self.pdf
        pdf.set_font(FONT, size=size)
        margin, pdf.c_margin = pdf.c_margin, 0.0  # text exactly where measured (a cell pads its text)
        indent = pdf.get_string_width(bullet) if bullet else 0.0
        lines = _break_lines(self._units(spans, size), TEXT_W - indent)
        lh, font_mm = size * 0.5, size / MM_TO_PT
        base = 0.5 * lh + 0.3 * font_mm  # where fpdf puts the baseline in a cell of height lh
        for i, line in enumerate(lines):
            asc = max([u.glyphs.ascent / MM_TO_PT for u in line if u.glyphs] + [0.0])
            desc = max([u.glyphs.descent / MM_TO_PT for u in line if u.glyphs] + [0.0])
            top, bottom = max(0.0, asc + 0.4 - base), max(0.0, desc + 0.4 - (lh - base))
            self.ensure(lh + top + bottom)
            pdf.set_font(FONT, size=size)  # (a new page may have placed a figure and its caption)
            y = pdf.get_y() + top
            x = MARGIN + indent + ((TEXT_W - indent - sum(u.w for u in line)) / 2 if center else 0.0)
            if bullet and i == 0:
                pdf.set_xy(MARGIN, y)
                pdf.cell(indent, lh, bullet)
            for style, group in _runs(line):
                w = sum(u.w for u in group)
                if style is Style.MATH:
                    for u in group:
                        self._math(u.glyphs, x, y + base)
                        x += u.w
                    continue
                pdf.set_xy(x, y)
                if style is Style.BOLD:
                    with pdf.local_context(text_mode="FILL_STROKE", line_width=0.12):
                        pdf.cell(w, lh, "".join(u.text for u in group))
                else:
                    pdf.cell(w, lh, "".join(u.text for u in group))
                x += w
            pdf.set_xy(MARGIN, y + lh + bottom)
        pdf.c_margin = margin
        pdf.set_font(FONT, size=9.5)

    def _units(self, spans: list[Span], size: float) -> list[_Unit]:
        units: list[_Unit] = []
        for span in spans:
            if span.style is Style.MATH:
                glyphs = math_glyphs(span.text, size * 1.05)
                if glyphs is not None:
                    units.append(_Unit(span.text, Style.MATH, glyphs.width / MM_TO_PT, glyphs))
                    continue
                span = Span(f"${span.text}$")  # mathtext cannot parse it: printed as written
            for k, piece in enumerate(span.text.split("\n")):
                if k:
                    units.append(_BREAK)
                units += [_Unit(tok, span.style, self.pdf.get_string_width(tok)) for tok in _TOKEN.findall(piece)]
        return units

    def _math(self, glyphs: MathGlyphs, x: float, baseline: float) -> None:
        from fpdf.drawing import PathPaintRule

        k = 1 / MM_TO_PT
        with self.pdf.new_path(x, baseline, paint_rule=PathPaintRule.FILL_NONZERO) as path:
            for op, c in glyphs.commands:
                pts = [x + c[i] * k if i % 2 == 0 else baseline - c[i] * k for i in range(len(c))]
                if op == "M":
                    path.move_to(*pts)
                elif op == "L":
                    path.line_to(*pts)
                elif op == "Q":
                    path.quadratic_curve_to(*pts)
                elif op == "C":
                    path.curve_to(*pts)
                else:
                    path.close()

    # ----- output ------------------------------------------------------------------------------------
    def write(self, f) -> None:
        """Write the PDF to the binary file ``f``, each figure's vector page drawn into its box (as a form
        XObject clipped to the figure's drawn part: no content stream is parsed, so this stays fast)."""
        from io import BytesIO

        from pypdf import PdfReader, PdfWriter
        from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

        def stream(data: bytes, **entries: PdfObject) -> IndirectObject:
            obj = DecodedStreamObject()
            obj.set_data(data)
            obj.update({NameObject(f"/{k}"): v for k, v in entries.items()})
            return writer._add_object(obj)

        self.finish()
        writer = PdfWriter(clone_from=PdfReader(BytesIO(bytes(self.pdf.output()))))
        drawn: dict[int, list[str]] = {}
        for i, slot in enumerate(self.slots):
            figure = PdfReader(slot.pdf).pages[0]
            media = figure.mediabox
            box = slot.crop or (float(media.left), float(media.bottom), float(media.right), float(media.top))
            contents = figure.get_contents()
            form = stream(contents.get_data() if contents is not None else b"", Type=NameObject("/XObject"),
                          Subtype=NameObject("/Form"), BBox=ArrayObject(FloatObject(v) for v in box),
                          Resources=figure["/Resources"].get_object().clone(writer))
            page = writer.pages[slot.page]
            resources = page["/Resources"].get_object()
            if "/XObject" not in resources:
                resources[NameObject("/XObject")] = DictionaryObject()
            resources["/XObject"].get_object()[NameObject(f"/DlsmFigure{i}")] = form
            scale = slot.w * MM_TO_PT / (box[2] - box[0])
            x = slot.x * MM_TO_PT - box[0] * scale
            y = (slot.page_h - slot.y - slot.h) * MM_TO_PT - box[1] * scale
            drawn.setdefault(slot.page, []).append(f"q {scale:.6f} 0 0 {scale:.6f} {x:.4f} {y:.4f} cm "
                                                   f"/DlsmFigure{i} Do Q")
        for number, ops in drawn.items():
            page = writer.pages[number]
            old = page["/Contents"]
            old = list(old.get_object()) if isinstance(old.get_object(), ArrayObject) else [old]
            page[NameObject("/Contents")] = ArrayObject([stream(b"q"), *old, stream("\n".join(["Q", *ops]).encode())])
        writer.write(f)


def _column_chunks(widths: list[float]) -> list[list[int]]:
    """Column indices of the tables a wide table is split into: each starts with column 0 and holds as many
    of the next columns as fit the text width."""
    chunks: list[list[int]] = []
    current = [0]
    for j in range(1, len(widths)):
        if len(current) > 1 and sum(widths[k] for k in current) + widths[j] > TEXT_W:
            chunks.append(current)
            current = [0]
        current.append(j)
    return chunks + [current]


def _break_lines(units: list[_Unit], width: float) -> list[list[_Unit]]:
    lines: list[list[_Unit]] = [[]]
    x = 0.0
    for u in units:
        if u is _BREAK:
            lines.append([])
            x = 0.0
            continue
        if lines[-1] and x + u.w > width and u.text.strip():
            lines.append([])
            x = 0.0
        if not lines[-1] and not u.text.strip():
            continue  # no line starts with a space
        lines[-1].append(u)
        x += u.w
    return [line for line in lines if line] or [[]]


def _runs(line: list[_Unit]) -> Iterator[tuple[Style, list[_Unit]]]:
    group: list[_Unit] = []
    for u in line:
        if group and u.style is not group[0].style:
            yield group[0].style, group
            group = []
        group.append(u)
    if group:
        yield group[0].style, group


def japanese_font() -> Path:
    """The Japanese TTF that matplotlib-fontja ships (IPAex Gothic)."""
    import matplotlib_fontja

    fonts = sorted((Path(matplotlib_fontja.__file__).parent / "fonts").glob("*.ttf"))
    if not fonts:
        raise DataError(t("runs.err.no_japanese_font"))
    return fonts[0]


def symbol_font() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"

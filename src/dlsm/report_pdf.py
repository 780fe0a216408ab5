"""A4 PDF report of run folders, for handing in: a title block, each run's settings, metrics, tables,
vector figures and notes, and a 考察 (discussion) section per run, empty or filled from Markdown.

    dlsm report runs/gd2d/<folder> ... --pdf -o report.pdf --name "山田 太郎" --student-id 12345678 \\
        --discussion discussion.md

Layout by fpdf2 (text, tables, a Japanese TTF embedded as a subset: IPAex Gothic, shipped by
matplotlib-fontja, with DejaVu Sans from matplotlib for symbols it lacks). Figures stay vector: the
run folders hold each figure as PDF too, so the layout reserves a box and pypdf then draws the
figure's PDF page into it (a form XObject, no rasterising). A figure without a PDF file is
embedded as its PNG.

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

from dlsm.errors import DataError
from dlsm.i18n import t
from dlsm.report import MAX_TABLE_ROWS, Section, collect_sections
from dlsm.result import Table, format_scalar
from dlsm.runs import OutputError, check_writable_root

PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 15.0  # A4, mm
TEXT_W = PAGE_W - 2 * MARGIN
FIG_MAX_W, FIG_MAX_H = TEXT_W, 110.0  # mm
MAX_TABLE_COLUMNS = 9  # wider tables are split into several, each repeating the first column
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
    """A reserved box (mm, from the top-left corner) on page ``page`` (0-based) for a vector figure."""

    page: int
    x: float
    y: float
    w: float
    h: float
    pdf: Path


def japanese_font() -> Path:
    """The Japanese TTF that matplotlib-fontja ships (IPAex Gothic)."""
    import matplotlib_fontja

    fonts = sorted((Path(matplotlib_fontja.__file__).parent / "fonts").glob("*.ttf"))
    if not fonts:
        raise DataError("matplotlib-fontja has no .ttf font; reinstall it (pip install matplotlib-fontja)")
    return fonts[0]


def symbol_font() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def split_discussion(text: str, sections: list[Section]) -> tuple[dict[int, str], str]:
    """Map ``## NAME`` blocks of a Markdown file to section indices; the rest is the overall discussion."""
    per_section: dict[int, str] = {}
    overall: list[str] = []
    blocks = re.split(r"(?m)^##\s+(.+?)\s*$", text)
    if blocks[0].strip():
        overall.append(blocks[0].strip())
    for heading, body in zip(blocks[1::2], blocks[2::2], strict=True):
        key = heading.strip().lower()
        match = next((i for i, s in enumerate(sections) if s.status and i not in per_section and (
            key in s.title.lower() or key == s.path.name.lower())), None)
        if match is None:
            overall.append(f"{heading.strip()}\n\n{body.strip()}")
        else:
            per_section[match] = body.strip()
    return per_section, "\n\n".join(overall)


def build_pdf_report(
    paths: list[Path],
    out: Path,
    title: str = "",
    name: str = "",
    student_id: str = "",
    discussion: Path | None = None,
    explanations: bool = True,
) -> Path:
    """Write the A4 PDF report of the runs under ``paths`` to ``out``; return its path.

    Headings follow the language setting; ``explanations=False`` leaves out the labs' explanations (the
    theory behind what was measured), as in a student's report.
    """
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter, Transformation

    sections = collect_sections([Path(p) for p in paths])
    title = title or t("report.default_title")
    if not explanations:
        for s in sections:
            s.explanations = []
    out = Path(out)
    if out.is_dir():
        out = out / "report.pdf"
    if out.suffix.lower() != ".pdf":
        out = out.with_suffix(".pdf")
    check_writable_root(out.parent, "-o")
    per_section, overall = {}, ""
    if discussion is not None:
        try:
            text = Path(discussion).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"--discussion {discussion}: cannot read it as UTF-8 text ({exc})") from None
        per_section, overall = split_discussion(text, sections)

    layout = _Layout(title)
    layout.title_block(title, name, student_id)
    for i, section in enumerate(sections):
        layout.section(section, per_section.get(i), with_discussion=bool(section.status))
    if overall or discussion is None:
        layout.heading(HEADINGS["overall"], level=1)
        layout.discussion(overall)
    writer = PdfWriter(clone_from=PdfReader(BytesIO(bytes(layout.pdf.output()))))
    for slot in layout.slots:  # draw each figure's vector page into its box
        figure = PdfReader(slot.pdf).pages[0]
        scale = slot.w * MM_TO_PT / float(figure.mediabox.width)
        x = slot.x * MM_TO_PT - float(figure.mediabox.left) * scale
        y = (PAGE_H - slot.y - slot.h) * MM_TO_PT - float(figure.mediabox.bottom) * scale
        writer.pages[slot.page].merge_transformed_page(figure, Transformation().scale(scale).translate(x, y))
    try:
        with out.open("wb") as f:
            writer.write(f)
    except OSError as exc:
        raise OutputError(f"-o {out}: cannot write the PDF ({exc.strerror or exc})") from None
    return out


class _Layout:
    """fpdf2 document with the report's styles; collects the figure boxes to fill afterwards."""

    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
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
        pdf.add_page()

    def heading(self, text: str, level: int) -> None:
        size = {0: 18, 1: 14, 2: 11.5}[level]
        if self.pdf.get_y() > PAGE_H - MARGIN - 25:
            self.pdf.add_page()
        self.pdf.ln(2 if level == 2 else 4)
        self.pdf.set_font(FONT, size=size)
        self.pdf.multi_cell(TEXT_W, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        if level == 1:
            y = self.pdf.get_y() + 0.5
            self.pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
            self.pdf.ln(1.5)
        self.pdf.set_font(FONT, size=9.5)

    def paragraph(self, text: str, size: float = 9.5) -> None:
        self.pdf.set_font(FONT, size=size)
        self.pdf.multi_cell(TEXT_W, size * 0.48, text, new_x="LMARGIN", new_y="NEXT")

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

    def section(self, section: Section, discussion: str | None, with_discussion: bool) -> None:
        self.heading(section.title, level=1)
        for line in section.intro:
            self.paragraph(line, size=8)
        if section.config:
            self.heading(HEADINGS["settings"], level=2)
            self.paragraph(", ".join(f"{k} = {format_scalar(v)}" for k, v in section.config.items()), size=8)
        if section.metrics:
            self.heading(HEADINGS["metrics"], level=2)
            self.table(Table([t("report.column.metric"), t("report.column.value")],
                             [[k, v] for k, v in section.metrics.items()]))
        if section.tables:
            self.heading(HEADINGS["tables"], level=2)
            for name, table in section.tables.items():
                self.paragraph(f"{name} ({len(table.rows)} rows)", size=8.5)
                self.table(table)
        if section.figures:
            self.heading(HEADINGS["figures"], level=2)
            for name, png in section.figures.items():
                self.figure(name, png)
        if section.notes:
            self.heading(HEADINGS["notes"], level=2)
            for note in section.notes:
                self.paragraph(f"・{note}", size=8.5)
        if section.explanations:
            self.heading(HEADINGS["explanations"], level=2)
            for note in section.explanations:
                self.paragraph(f"・{note}", size=8.5)
        if with_discussion:
            self.heading(HEADINGS["discussion"], level=2)
            self.discussion(discussion or "")

    def table(self, table: Table) -> None:
        """The table at a font size that fits the page; more than MAX_TABLE_COLUMNS columns are split."""
        columns = list(table.columns)
        rows = table.rows[:MAX_TABLE_ROWS]
        chunks = [list(range(len(columns)))]
        if len(columns) > MAX_TABLE_COLUMNS:
            rest = list(range(1, len(columns)))
            step = MAX_TABLE_COLUMNS - 1
            chunks = [[0, *rest[i:i + step]] for i in range(0, len(rest), step)]
        for chunk in chunks:
            size = 8 if len(chunk) <= 5 else 7 if len(chunk) <= 7 else 6.5
            from fpdf.fonts import FontFace

            self.pdf.set_font(FONT, size=size)
            data = [[str(columns[j]) for j in chunk]]
            data += [[format_scalar(row[j]) if j < len(row) else "" for j in chunk] for row in rows]
            widths = [max(self.pdf.get_string_width(r[k]) for r in data) + 3 for k in range(len(chunk))]
            total = sum(widths)
            widths = [w * TEXT_W / total for w in widths] if total > TEXT_W else widths
            with self.pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=size * 0.5,
                                first_row_as_headings=True, text_align="LEFT",
                                headings_style=FontFace(emphasis="", fill_color=(232, 232, 232))) as grid:
                for record in data:
                    grid.row(record)
            self.pdf.ln(1.5)
        if len(table.rows) > MAX_TABLE_ROWS:
            self.paragraph(t("report.first_rows", shown=MAX_TABLE_ROWS, total=len(table.rows)), size=7.5)
        self.pdf.set_font(FONT, size=9.5)

    def figure(self, name: str, png: Path) -> None:
        from pypdf import PdfReader

        pdf_file = Path(png).with_suffix(".pdf")
        if pdf_file.is_file():
            box = PdfReader(pdf_file).pages[0].mediabox
            aspect = float(box.height) / float(box.width)
        else:
            from PIL import Image

            with Image.open(png) as im:
                aspect = im.height / im.width
        w = FIG_MAX_W
        h = w * aspect
        if h > FIG_MAX_H:
            h, w = FIG_MAX_H, FIG_MAX_H / aspect
        if self.pdf.get_y() + h + 8 > PAGE_H - MARGIN:
            self.pdf.add_page()
        x, y = MARGIN + (TEXT_W - w) / 2, self.pdf.get_y()
        if pdf_file.is_file():
            self.slots.append(FigureSlot(self.pdf.page_no() - 1, x, y, w, h, pdf_file))
        else:
            self.pdf.image(str(png), x=x, y=y, w=w, h=h)
        self.pdf.set_y(y + h + 1)
        self.n_figures += 1
        self.pdf.set_font(FONT, size=8.5)
        self.pdf.cell(TEXT_W, 5, t("report.heading.figure_caption", n=self.n_figures, name=name), align="C",
                      new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)

    def discussion(self, text: str) -> None:
        if text.strip():
            for block in re.split(r"\n\s*\n", text.strip()):
                lines = [re.sub(r"\*\*(.+?)\*\*", r"\1", line.rstrip()) for line in block.splitlines()]
                self.paragraph("\n".join("・" + ln.lstrip()[2:] if ln.lstrip().startswith(("- ", "* ")) else ln
                                         for ln in lines), size=9.5)
                self.pdf.ln(1)
            return
        if self.pdf.get_y() + DISCUSSION_BOX_H > PAGE_H - MARGIN:
            self.pdf.add_page()
        y = self.pdf.get_y() + 1
        self.pdf.set_draw_color(160)
        self.pdf.rect(MARGIN, y, TEXT_W, DISCUSSION_BOX_H)
        self.pdf.set_draw_color(0)
        self.pdf.set_xy(MARGIN + 2, y + 2)
        self.pdf.set_font(FONT, size=8)
        self.pdf.set_text_color(130)
        self.pdf.cell(TEXT_W - 4, 4, "ここに考察を書きます (または --discussion FILE.md で埋めます)")
        self.pdf.set_text_color(0)
        self.pdf.set_xy(MARGIN, y + DISCUSSION_BOX_H + 2)

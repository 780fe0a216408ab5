"""The PDF report: what a PDF reader (pypdf) and a renderer (pdftoppm) find in it. Japanese headings, the
headline metrics with their meanings, every row of a table (or the rows left out named), figures whose text
stays at 8 pt or more, no half-empty pages, mathtext in the 考察 and empty boxes without hints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("fpdf")

from dlsm.labs import get_lab  # noqa: E402
from dlsm.report_pdf import (  # noqa: E402
    DISCUSSION_BOX_H,
    FIG_MARGIN,
    HEADINGS,
    MARGIN,
    MM_TO_PT,
    build_pdf_report,
    figure_text_sizes,
    layout_report,
)
from dlsm.result import Table, format_scalar  # noqa: E402
from dlsm.runner import run_one  # noqa: E402
from dlsm.runs import load_run, save_figure  # noqa: E402
from dlsm.sweeps import sweep  # noqa: E402

GLOSSARY = Path(__file__).resolve().parents[1] / "src" / "dlsm" / "glossary"


@pytest.fixture(autouse=True)
def japanese(monkeypatch):
    """The PDF is what a student hands in: these tests read it in Japanese (its headings follow DLSM_LANG)."""
    from dlsm import i18n

    monkeypatch.setenv(i18n.ENV_VAR, "ja")
    monkeypatch.setattr(i18n, "_language", None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    lab = get_lab("gd1d")
    one = run_one(lab, lab.config.make("quick"), root, size="quick")
    grid = sweep(lab, {}, "lr", [0.1, 0.2], root=root, size="quick")
    return one.path, grid.path


def fake_run(folder: Path, lab: str, metrics: dict | None = None, tables: dict[str, Table] | None = None,
             figures: dict | None = None, notes: list[str] | None = None) -> Path:
    """A run folder as dlsm writes it, with chosen metrics, tables, figures (matplotlib) and notes."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"lab": lab, "config": {}, "created": "2025-01-01T00:00:00"}))
    (folder / "metrics.json").write_text(json.dumps({"status": "completed", "elapsed_s": 1.0,
                                                     "metrics": metrics or {}, "notes": notes or []}))
    for name, table in (tables or {}).items():
        (folder / "tables").mkdir(exist_ok=True)
        (folder / "tables" / f"{name}.csv").write_text(table.to_csv())
    for name, fig in (figures or {}).items():
        save_figure(fig, folder / "figures" / name)
    return folder


def figure(width_in: float, height_in: float, fontsize: float = 10.0):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 1, 4], label="curve")
    ax.tick_params(labelsize=fontsize)
    ax.set_xlabel("x", fontsize=fontsize)
    ax.legend(fontsize=fontsize)
    return fig


def text_of(path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def raster_images(path) -> int:
    """Image XObjects over all pages (a figure embedded as PNG would be one; vector figures are none)."""
    return sum(len(page.images) for page in pypdf.PdfReader(path).pages)


def operators(page) -> list[tuple[list, bytes]]:
    from pypdf.generic import ContentStream

    return ContentStream(page.get_contents(), page.pdf).operations


def test_pdf_report_has_title_block_headings_metrics_and_every_figure(runs, tmp_path):
    one, grid = runs
    out = build_pdf_report([one, grid], tmp_path / "report.pdf", title="第1講 演習", name="山田 太郎",
                           student_id="12345678")
    reader = pypdf.PdfReader(out)
    assert all(abs(float(p.mediabox.width) - 595.28) < 1 and abs(float(p.mediabox.height) - 841.89) < 1
               for p in reader.pages), "A4"
    text = text_of(out)
    for word in ("第1講 演習", "山田 太郎", "12345678", HEADINGS["name"], HEADINGS["student_id"],
                 HEADINGS["settings"], HEADINGS["metrics"], HEADINGS["discussion"]):
        assert word in text, word
    record = load_run(one)
    for key in ("s_final", "converged"):
        assert f"{key} {format_scalar(record.metrics[key])}" in text, key
    n_figures = len(record.figures) + len(list((grid / "figures").glob("*.png")))  # the run's and the sweep's
    captions = re.findall(r"図 (\d+): ", text)
    assert [int(c) for c in captions] == list(range(1, n_figures + 1))
    assert raster_images(out) == 0, "every figure is drawn from its vector PDF, none as a bitmap"
    assert text.count(HEADINGS["discussion"]) == 2  # an empty 考察 for the run and one for the sweep


def test_a_sweep_is_one_section_unless_its_points_are_asked_for(runs, tmp_path):
    _, grid = runs
    points = sorted(p.name for p in grid.iterdir() if (p / "config.json").is_file())
    assert points == ["lr=0.1", "lr=0.2"]
    md = tmp_path / "discussion.md"
    md.write_text("## gd1d\n\n学習係数を 2 倍にすると速く収束しました。\n", encoding="utf-8")
    one_section = text_of(build_pdf_report([grid], tmp_path / "sweep.pdf", discussion=md))
    assert one_section.count(HEADINGS["discussion"]) == 1 and "速く収束しました" in one_section
    assert "comparison" in one_section and not any(f"gd1d — {p}" in one_section for p in points)
    every_point = text_of(build_pdf_report([grid], tmp_path / "points.pdf", points=True))
    assert all(f"gd1d — {p}" in every_point for p in points)
    assert every_point.count(HEADINGS["discussion"]) == 1 + len(points)
    assert len(pypdf.PdfReader(tmp_path / "points.pdf").pages) > len(pypdf.PdfReader(tmp_path / "sweep.pdf").pages)


def test_discussion_file_fills_the_sections(runs, tmp_path):
    one, _ = runs
    md = tmp_path / "discussion.md"
    md.write_text("学習係数を変えた実験の全体のまとめです。\n\n## gd1d\n\n"
                  "- **収束** の速さは理論の比率どおりでした。\n\n## 存在しない実験\n\n"
                  "対応する実行がない節は全体の考察に入ります。\n", encoding="utf-8")
    out = build_pdf_report([one], tmp_path / "filled", discussion=md)
    assert out.suffix == ".pdf"
    text = text_of(out)
    assert "収束 の速さは理論の比率どおりでした。" in text.replace("収束の", "収束 の")
    assert text.index("理論の比率") < text.index(HEADINGS["overall"]) < text.index("全体のまとめ")
    assert "存在しない実験" in text and "ここに考察を書きます" not in text


def test_cli_report_pdf(runs, tmp_path, capsys):
    from dlsm.cli import main

    one, _ = runs
    out = tmp_path / "r.pdf"
    assert main(["report", str(one), "--pdf", "-o", str(out), "--name", "佐藤 花子", "--student-id", "A-1"]) == 0
    assert "佐藤 花子" in text_of(out)
    assert str(out) in capsys.readouterr().out


def test_pdf_headings_follow_the_language_and_can_leave_out_explanations(runs, tmp_path, monkeypatch):
    from dlsm import i18n

    one, _ = runs
    monkeypatch.setenv(i18n.ENV_VAR, "en")
    text = text_of(build_pdf_report([one], tmp_path / "en.pdf"))
    assert "Config" in text and "Metrics" in text and "設定" not in text
    explanation = load_run(one).explanations[0]
    assert explanation[:30] in text.replace("\n", " ")
    quiet = text_of(build_pdf_report([one], tmp_path / "quiet.pdf", explanations=False))
    assert explanation[:30] not in quiet.replace("\n", " ") and "Why (theory)" not in quiet


def test_only_the_headline_metrics_with_their_units_and_meanings(tmp_path):
    """mimo declares ser, ser_ml, ... as its headline metrics; the others stay in metrics.json."""
    headline = {"ser": 0.0052, "ser_ml": 0.0026, "ser_lmmse": 0.00635, "ser_tpg": 0.00585, "nn_over_ml": 2.0,
                "tpg_over_ml": 2.25}
    others = {"symbols_counted": 160000, "tpg_restart_kept": 0, "tpg_alpha": 1.5466}
    run = fake_run(tmp_path / "mimo", "mimo", metrics=headline | others)
    text = text_of(build_pdf_report([run], tmp_path / "m.pdf"))
    meanings = tomllib.loads((GLOSSARY / "mimo.toml").read_text(encoding="utf-8"))["mimo"]["metric"]
    units = tomllib.loads((GLOSSARY / "glossary.toml").read_text(encoding="utf-8"))["unit"]
    flat = text.replace("\n", "")
    for name, value in headline.items():
        assert f"{name} {format_scalar(value)}" in text, name
        assert meanings[name]["ja"][:12] in flat, name
    assert f"ser_ml {format_scalar(headline['ser_ml'])} {units['fraction']['ja']}" in text  # the unit, in words
    for name in others:
        assert name not in text, f"{name} is not a headline metric of mimo"
    assert "3 個" in text and "metrics.json" in text  # the others are counted and where they are is said


def table_rows(n: int) -> Table:
    detectors = ["zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg"]
    return Table(["snr_db", "detector", "ser"],
                 [[4 * (i // 8), detectors[i % 8], round(0.2 / (1 + i), 6)] for i in range(n)])


def test_a_long_table_keeps_every_row_continued_under_its_header(tmp_path):
    """The mimo SER table (32 rows) keeps its 12 dB NN and TPG rows; a 75-row table goes on over a page
    break with its header row repeated."""
    mimo = table_rows(32)
    long = Table(["step", "loss"], [[i, round(1 / (i + 1), 6)] for i in range(75)])
    run = fake_run(tmp_path / "run", "mimo", tables={"ser_vs_snr": mimo, "trajectory": long})
    reader = pypdf.PdfReader(build_pdf_report([run], tmp_path / "t.pdf"))
    pages = [p.extract_text() for p in reader.pages]
    lines = {line.strip() for page in pages for line in page.splitlines()}
    for row in mimo.rows + long.rows:
        assert " ".join(format_scalar(c) for c in row) in lines, row
    assert "12 nn" in "\n".join(lines) and "12 tpg" in "\n".join(lines)
    with_long_rows = [p for p in pages if re.search(r"^(7[0-4]|[0-9]) \S+$", p, flags=re.M) and "step loss" in p]
    assert sum("step loss" in p for p in pages) >= 2 and with_long_rows, "the header row is repeated"


def test_a_table_too_long_is_summarised_and_every_row_left_out_is_named(tmp_path):
    from dlsm.report import HEAD_ROWS, MAX_TABLE_ROWS, TAIL_ROWS

    n = MAX_TABLE_ROWS + 120
    table = Table(["step", "loss"], [[10 * i, round(1 / (i + 1), 6)] for i in range(n)])
    run = fake_run(tmp_path / "run", "gd1d", tables={"loss": table})
    text = text_of(build_pdf_report([run], tmp_path / "t.pdf"))
    lines = {line.strip() for line in text.splitlines()}
    printed = {i for i, row in enumerate(table.rows) if " ".join(format_scalar(c) for c in row) in lines}
    named = re.search(r"全 (\d+) 行のうち (\d+)〜(\d+) 行目 \(step = (\d+) … (\d+)\)", text.replace("\n", ""))
    assert named, "the rows left out are named"
    total, first, last, a, b = map(int, named.groups())
    assert total == n and (a, b) == (table.rows[first - 1][0], table.rows[last - 1][0])
    assert printed | set(range(first - 1, last)) == set(range(n)), "each row is printed or named"
    assert len(printed) == HEAD_ROWS + TAIL_ROWS and "loss.csv" in text


def test_math_in_the_discussion_is_drawn_not_printed_raw(tmp_path):
    one = fake_run(tmp_path / "gd1d", "gd1d", metrics={"s_final": 0.5})
    plain, math = tmp_path / "plain.md", tmp_path / "math.md"
    plain.write_text("## gd1d\n\nα = 0.2 では発振します。\n", encoding="utf-8")
    math.write_text("## gd1d\n\n$\\alpha=0.2$ では $1-10\\alpha=-1$ となり発振します。\n\n"
                    "$$\\frac{\\|x_{k+1}\\|}{\\|x_k\\|} = |1-\\alpha\\lambda|$$\n", encoding="utf-8")
    with_math = build_pdf_report([one], tmp_path / "math.pdf", discussion=math)
    without = build_pdf_report([one], tmp_path / "plain.pdf", discussion=plain)
    text = text_of(with_math)
    assert "発振します" in text
    assert "$" not in text and "\\alpha" not in text and "frac" not in text, "no raw mathtext"

    def fills(path) -> int:
        return sum(op in (b"f", b"f*", b"F") for page in pypdf.PdfReader(path).pages for _, op in operators(page))

    def curves(path) -> int:
        return sum(op in (b"c", b"v", b"y") for page in pypdf.PdfReader(path).pages for _, op in operators(page))

    assert fills(with_math) >= fills(without) + 3, "each formula is filled outlines"
    assert curves(with_math) > curves(without) + 20, "glyph outlines are curves"


def test_an_empty_discussion_box_holds_no_hint(tmp_path):
    one = fake_run(tmp_path / "gd1d", "gd1d", metrics={"s_final": 0.5})
    out = build_pdf_report([one], tmp_path / "empty.pdf")
    text = text_of(out)
    for hint in ("--discussion", "FILE.md", "ここに考察を書きます", "dlsm report"):
        assert hint not in text, hint
    boxes = [args for page in pypdf.PdfReader(out).pages for args, op in operators(page) if op == b"re"
             and abs(float(args[2]) - 180 * MM_TO_PT) < 1 and float(args[3]) < -100]  # a tall, full-width box
    assert len(boxes) == 2, "the run's and the overall 考察 box"


def test_figure_text_sizes_are_read_from_the_figure_pdf(tmp_path):
    fig = figure(5, 3, fontsize=9)
    fig.axes[0].set_title("title", fontsize=12)
    fig.axes[0].text(0.5, 0.5, "small", fontsize=7)
    save_figure(fig, tmp_path / "f")
    sizes = figure_text_sizes(tmp_path / "f.pdf")
    assert {7.0, 9.0, 12.0} <= set(sizes)


def test_figure_text_prints_at_8_pt_or_more(tmp_path):
    """Each figure's smallest text of 8 pt or more prints at 8 pt or more: a 7.5-inch figure may use the side
    margins, a 13-inch one gets a landscape page, tall ones stay wide enough."""
    sizes = {"wide": (13, 3.5, 10), "margins": (7.5, 4, 8.5), "normal": (6.4, 4.2, 10), "tall": (5, 9, 9),
             "small_font": (4, 3, 8)}
    figures = {name: figure(w, h, pt) for name, (w, h, pt) in sizes.items()}
    run = fake_run(tmp_path / "run", "gd1d", figures=figures, notes=["a note"])
    layout = layout_report([run])
    assert len(layout.slots) == len(sizes) and not layout.small_text
    for slot in layout.slots:
        name = slot.pdf.stem
        scale = slot.w * MM_TO_PT / (slot.crop[2] - slot.crop[0])
        assert sizes[name][2] * scale >= 8 - 1e-6, (name, sizes[name][2] * scale)
        page_w = 297.0 if slot.page_h < 250 else 210.0
        assert FIG_MARGIN - 1e-6 <= slot.x and slot.x + slot.w <= page_w - FIG_MARGIN + 1e-6, name
    out = tmp_path / "fig.pdf"
    with out.open("wb") as f:
        layout.write(f)
    reader = pypdf.PdfReader(out)
    wide = next(s for s in layout.slots if s.pdf.stem == "wide")
    page = reader.pages[wide.page]
    assert float(page.mediabox.width) > float(page.mediabox.height), "the wide figure has a landscape page"
    assert sum(float(p.mediabox.width) > float(p.mediabox.height) for p in reader.pages) == 1


def bottom_gaps_mm(pdf: Path, dpi: int = 30) -> list[float]:
    """The blank band (mm) between the last ink and the bottom margin of each portrait page (pdftoppm renders
    it); 0 for a landscape page (a wide figure's page of its own)."""
    import numpy as np
    from PIL import Image

    folder = pdf.parent / f"{pdf.stem}-pages"
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(folder / "p")], check=True,
                   timeout=120)
    gaps = []
    for png in sorted(folder.glob("p-*.png")):
        ink = np.asarray(Image.open(png).convert("L")) < 200
        if ink.shape[1] > ink.shape[0]:
            gaps.append(0.0)
            continue
        px_per_mm = ink.shape[0] / 297.0
        body = ink[: int((297 - MARGIN) * px_per_mm)]  # leave out the page number under the bottom margin
        rows = np.flatnonzero(body.any(axis=1))
        gaps.append((body.shape[0] - (rows.max() if rows.size else 0)) / px_per_mm)
    return gaps


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_text_flows_past_a_figure_that_does_not_fit_so_no_page_is_left_half_empty(tmp_path):
    """A table fills most of page 1; the figure after it does not fit what is left (not even shrunk as far as
    its 8-pt text allows): the notes after it fill page 1 and the figure starts page 2."""
    table = Table(["step", "loss"], [[i, 0.5] for i in range(42)])
    notes = [f"測定 {i}: " + "誤差は毎ステップ同じ割合で小さくなりました。" * 6 for i in range(14)]
    run = fake_run(tmp_path / "run", "gd1d", tables={"loss": table}, figures={"big": figure(6.4, 5.0)},
                   notes=notes)
    layout = layout_report([run])
    out = tmp_path / "flow.pdf"
    with out.open("wb") as f:
        layout.write(f)
    gaps = bottom_gaps_mm(out)
    assert len(gaps) >= 2 and gaps[0] < 25, f"page 1 ends {gaps[0]:.0f} mm above the margin"
    (slot,) = layout.slots
    assert slot.page == 1 and slot.y < MARGIN + 5, "the figure waits for the top of page 2"
    text = pypdf.PdfReader(out).pages[0].extract_text()
    assert "測定 0" in text and "図 1" not in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_a_large_gap_is_only_left_before_what_cannot_be_broken_and_is_taller(runs, tmp_path):
    """Over a real report: a page ends more than 45 mm above its margin (a section heading needs about
    40 mm: itself and 25 mm of what follows it) only before something that cannot be split and is taller
    than the gap: a figure (with its caption) at the top of the next page, or an empty 考察 box with its
    heading; or it is the last page."""
    one, grid = runs
    layout = layout_report([one, grid])
    out = tmp_path / "gaps.pdf"
    with out.open("wb") as f:
        layout.write(f)
    gaps = bottom_gaps_mm(out)
    texts = [page.extract_text() for page in pypdf.PdfReader(out).pages]
    for page, gap in enumerate(gaps[:-1]):
        if gap <= 45:
            continue
        first = min((s for s in layout.slots if s.page == page + 1), key=lambda s: s.y, default=None)
        figure_first = first is not None and first.y < MARGIN + 5 and first.h + 6 > gap
        box_first = texts[page + 1].lstrip().startswith(HEADINGS["discussion"]) and gap < DISCUSSION_BOX_H + 15
        assert figure_first or box_first, (page, gap)

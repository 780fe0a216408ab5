"""The HTML report has the PDF's title block and 考察 (discussion) sections, from the same Markdown file, in
the language set; it shows every row of a table (or names the rows left out) and draws the discussion's math."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dlsm import i18n
from dlsm.report import MAX_HTML_ROWS, build_report
from dlsm.result import Table, format_scalar
from dlsm.runs import save_figure

LABELS = {"ja": ("氏名", "学籍番号", "作成日", "考察 (discussion)", "全体の考察 (overall discussion)"),
          "en": ("Name", "Student ID", "Date", "Discussion", "Overall discussion")}


@pytest.fixture(params=["ja", "en"])
def lang(request, monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, request.param)
    monkeypatch.setattr(i18n, "_language", None)
    return request.param


def fake_run(folder: Path, lab: str, metrics: dict | None = None, tables: dict[str, Table] | None = None,
             created: str = "2025-01-01T00:00:00") -> Path:
    """A run folder as dlsm writes it (config, metrics, tables, one figure)."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"lab": lab, "config": {"lr": 0.2}, "created": created}))
    (folder / "metrics.json").write_text(json.dumps({"status": "completed", "elapsed_s": 1.0,
                                                     "metrics": metrics or {"s_final": 0.5}, "notes": ["a note"]}))
    for name, table in (tables or {}).items():
        (folder / "tables").mkdir(exist_ok=True)
        (folder / "tables" / f"{name}.csv").write_text(table.to_csv())
    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    save_figure(fig, folder / "figures" / "curve")
    return folder


class Page(HTMLParser):
    """The title block's rows, the headings and each section's text as a browser would show them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.title_rows: list[tuple[str, str]] = []
        self.headings: list[tuple[str, str]] = []  # (tag, text)
        self.sections: list[list[str]] = [[]]  # text under each h2 (the first: before any h2)
        self._stack: list[str] = []
        self._in_title = False
        self._cells: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self._stack.append(tag)
        if tag == "table" and ("class", "title") in attrs:
            self._in_title = True
        if tag == "h2":
            self.sections.append([])
        if self._in_title and tag == "tr":
            self._cells = []
        if self._in_title and tag in ("th", "td"):
            self._cells.append("")

    def handle_endtag(self, tag):
        if self._in_title and tag == "tr":
            self.title_rows.append(tuple(self._cells))
        if tag == "table":
            self._in_title = False
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not self._stack or self._stack[-1] in ("style", "title"):
            return
        if self._in_title and self._cells:
            self._cells[-1] += data
        if self._stack[-1] in ("h1", "h2", "h3"):
            self.headings.append((self._stack[-1], data.strip()))
        self.sections[-1].append(data)


def test_title_block_and_discussion_sections_follow_the_language(lang, tmp_path):
    fake_run(tmp_path / "runs" / "gd1d", "gd1d")
    fake_run(tmp_path / "runs" / "gd2d", "gd2d", metrics={"error_final": 0.01}, created="2025-01-02T00:00:00")
    md = tmp_path / "discussion.md"
    md.write_text("全体のまとめ: 学習係数で収束が変わる。\n\n## gd2d\n\n**発振** しました。\n\n"
                  "## no-such-lab\n\n残り。\n", encoding="utf-8")
    page_path, md_path = build_report([tmp_path / "runs"], tmp_path / "r.html", title="第1講", name="山田 太郎",
                                      student_id="12345678", discussion=md)
    text = page_path.read_text()
    assert f"<html lang='{lang}'>" in text
    page = Page(text)
    name, sid, date, discussion, overall = LABELS[lang]
    assert page.title_rows == [(name, "山田 太郎"), (sid, "12345678"), (date, dt.date.today().isoformat())]
    assert ("h1", "第1講") in page.headings
    assert [h for h in page.headings if h[0] == "h3" and h[1] == discussion] == [("h3", discussion)] * 2
    assert page.headings[-1] == ("h2", overall), "the overall discussion closes the report"
    gd1d, gd2d, rest = ("".join(s) for s in page.sections[1:4])
    assert "発振 しました。" in gd2d and "発振" not in gd1d, "each run's 考察 is in its own section"
    assert "<strong>発振</strong>" in text
    assert "全体のまとめ" in rest and "no-such-lab" in rest and "残り。" in rest
    assert "class='discussion empty'" in text, "gd1d, which the file does not discuss, has an empty box"
    markdown = md_path.read_text()
    assert markdown.count(f"**{discussion}**") == 2 and f"## {overall}" in markdown and "発振" in markdown


def test_without_a_discussion_file_every_run_and_the_whole_have_an_empty_box(lang, tmp_path):
    run = fake_run(tmp_path / "gd1d", "gd1d")
    text = build_report([run], tmp_path / "r.html")[0].read_text()
    page = Page(text)
    name, sid, date, discussion, overall = LABELS[lang]
    assert page.title_rows == [(name, ""), (sid, ""), (date, dt.date.today().isoformat())], "lines to fill in"
    assert text.count("class='discussion empty'") == 2
    assert ("h3", discussion) in page.headings and ("h2", overall) in page.headings
    for hint in ("--discussion", "FILE.md"):
        assert hint not in text
    tour = build_report([run], tmp_path / "tour.html", with_discussion=False)[0].read_text()
    assert "<div class='discussion" not in tour and discussion not in tour, "a tour's report has no 考察"


def test_math_in_the_discussion_is_drawn_as_svg(tmp_path, monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "ja")
    monkeypatch.setattr(i18n, "_language", None)
    run = fake_run(tmp_path / "gd2d", "gd2d", metrics={"error_final": 0.01})
    md = tmp_path / "d.md"
    md.write_text("## gd2d\n\n$\\alpha=0.2$ では $1-10\\alpha=-1$ となり、価格は \\$5 です。\n\n"
                  "$$\\frac{a}{b}$$\n", encoding="utf-8")
    text = build_report([run], tmp_path / "r.html", discussion=md)[0].read_text()
    shown = "".join(Page(text).sections[1])
    assert "$1-10" not in shown and "\\alpha" not in shown and "\\frac" not in shown, "no raw mathtext"
    assert "価格は $5 です" in shown, "an escaped dollar is a dollar"
    svgs = re.findall(r"<svg class='math'[^>]*width='([\d.]+)pt'[^>]*>\s*<path d='([^']+)'", text)
    assert len(svgs) == 3
    for width, d in svgs:
        assert float(width) > 3 and len(re.findall(r"[QC]", d)) >= 2, "glyph outlines, not text"
    assert html.escape("1-10\\alpha=-1", quote=True) in text, "the source stays as the formula's label"


def test_every_row_is_shown_or_the_rows_left_out_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv(i18n.ENV_VAR, "en")
    monkeypatch.setattr(i18n, "_language", None)
    detectors = ["zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg"]
    ser = Table(["snr_db", "detector", "ser"], [[4 * (i // 8), detectors[i % 8], 0.1 / (i + 1)] for i in range(32)])
    long = Table(["step", "loss"], [[i, 1 / (i + 1)] for i in range(MAX_HTML_ROWS + 7)])
    run = fake_run(tmp_path / "mimo", "mimo", metrics={"ser": 0.005}, tables={"ser_vs_snr": ser, "loss": long})
    text = build_report([run], tmp_path / "r.html")[0].read_text()
    rows = {tuple(re.findall(r"<td>(.*?)</td>", r)) for r in re.findall(r"<tr>(.*?)</tr>", text)}
    for row in ser.rows:
        assert tuple(format_scalar(c) for c in row) in rows, row
    printed = {i for i, row in enumerate(long.rows) if tuple(format_scalar(c) for c in row) in rows}
    named = re.search(r"Rows (\d+)–(\d+) of (\d+) \(step = (\d+) … (\d+)\) are left out here; loss.csv", text)
    assert named, "the rows left out are named"
    first, last, total, a, b = map(int, named.groups())
    assert total == len(long.rows) and (a, b) == (first - 1, last - 1)
    assert printed | set(range(first - 1, last)) == set(range(len(long.rows)))


def test_a_report_reads_no_symbolic_link_of_a_run_folder(tmp_path):
    """A table or figure that is a link (to a system file, or to a file elsewhere) is not read into the report;
    the run's own files are."""
    from dlsm.labs import get_lab
    from dlsm.report import build_report
    from dlsm.runner import run_one

    lab = get_lab("gd1d")
    run = run_one(lab, lab.config.make("quick"), tmp_path / "runs", "quick")
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2-do-not-print\n")
    (run.path / "tables" / "leak.csv").symlink_to(secret)
    (run.path / "tables" / "passwd.csv").symlink_to("/etc/passwd")
    own = sorted((run.path / "figures").glob("*.png"))[0]
    (run.path / "figures" / "linked.png").symlink_to(own)
    html_path, md_path = build_report([run.path], tmp_path / "report.html")
    page, md = html_path.read_text(), md_path.read_text()
    for text in (page, md):
        assert "hunter2-do-not-print" not in text and "root:" not in text
        assert "leak" not in text and "passwd" not in text and "linked" not in text
    assert own.stem in page  # the run's own figure is there

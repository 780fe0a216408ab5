"""The HTML of ``dlsm ui``: the lab index, a lab's form (the controls of :mod:`dlsm.controls`) and its result.

Plain HTML forms with method GET, so the settings of a page are its URL (``/lab/gd2d?lr=0.25``) and a teacher
can share a view; a few lines of inline script keep a log slider's value and submit a live lab's form on every
change. Nothing is loaded from elsewhere: each figure is a PNG the server draws when the page asks for it.
"""

from __future__ import annotations

import html
import math
from typing import Any
from urllib.parse import quote

from dlsm.controls import Control, format_value
from dlsm.i18n import get_language, t
from dlsm.labs import Lab

CSS = """
body{font-family:"IPAexGothic","Noto Sans CJK JP",sans-serif;margin:1.5em;max-width:1100px}
label{display:inline-block;min-width:11em;font-family:monospace}
.row{margin:.25em 0}.help{color:#555;font-size:.85em;margin-left:.5em}
.error{color:#b00;font-weight:bold;margin-left:.5em}.note{margin:.2em 0}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.15em .5em;text-align:left}
img{max-width:100%;margin:.5em 0;border:1px solid #eee}output{margin-left:.5em;font-family:monospace}
"""

SLIDER_SCRIPT = """
function dlsmLog(r){var v=Math.pow(10,parseFloat(r.value));var h=document.getElementById(r.dataset.target);
h.value=Number(v.toPrecision(4));r.nextElementSibling.value=h.value;}
function dlsmPick(r){var o=JSON.parse(r.dataset.options);var h=document.getElementById(r.dataset.target);
h.value=o[parseInt(r.value)];r.nextElementSibling.value=h.value;}
"""


def page(title: str, body: str, refresh: str = "") -> str:
    meta = f"<meta http-equiv='refresh' content='1; url={html.escape(refresh)}'>" if refresh else ""
    return (f"<!doctype html><html lang='{get_language()}'><head><meta charset='utf-8'>{meta}"
            f"<title>{html.escape(title)}</title><style>{CSS}</style><script>{SLIDER_SCRIPT}</script></head>"
            f"<body>{body}</body></html>")


def index(labs: dict[str, dict[str, Any]]) -> str:
    """Every lab, by lecture, with its description and a link to its page (from the lab index, ``dlsm list``'s)."""
    from dlsm.lab_index import description

    parts = [f"<h1>{html.escape(t('ui.title'))}</h1>"]
    lectures = sorted({entry["lecture"] for entry in labs.values() if entry.get("lecture") is not None})
    for lecture in lectures:
        parts.append(f"<h2>{html.escape(t('ui.lecture', n=lecture))}</h2><ul>")
        for name in (n for n, e in labs.items() if e.get("lecture") == lecture):
            parts.append(f"<li><a href='/lab/{name}'><code>{name}</code></a>: {html.escape(description(name))}</li>")
        parts.append("</ul>")
    parts.append(f"<p><a href='/report'>{html.escape(t('ui.report'))}</a></p>")
    return page(t("ui.title"), "".join(parts))


def control_html(c: Control, value: Any, live: bool) -> str:
    """One control of the form, its meaning beside it."""
    name = html.escape(c.name)
    submit = " onchange='this.form.requestSubmit()'" if live else ""
    text = html.escape(format_value(value))
    if c.kind == "checkbox":
        field = (f"<input type='hidden' name='{name}' value='false'><input type='checkbox' id='{name}' name='{name}' "
                 f"value='true'{' checked' if value else ''}{submit}>")
    elif c.kind == "dropdown":
        options = "".join(f"<option value='{html.escape(format_value(o))}'"
                          f"{' selected' if format_value(o) == format_value(value) else ''}>"
                          f"{html.escape(format_value(o))}</option>" for o in c.options)
        field = f"<select id='{name}' name='{name}'{submit}>{options}</select>"
    elif c.kind in ("slider", "int_slider"):
        field = (f"<input type='range' id='{name}' name='{name}' min='{c.low:g}' max='{c.high:g}' step='{c.step:g}' "
                 f"value='{text}' oninput='this.nextElementSibling.value=this.value'{submit}><output>{text}</output>")
    elif c.kind == "log_slider":
        position = math.log10(value) if isinstance(value, (int, float)) and value > 0 else c.low
        field = (f"<input type='hidden' id='{name}' name='{name}' value='{text}'>"
                 f"<input type='range' aria-label='{name}' data-target='{name}' min='{c.low:.6g}' max='{c.high:.6g}' "
                 f"step='{c.step:.6g}' value='{position:.6g}' oninput='dlsmLog(this)'{submit}><output>{text}</output>")
    elif c.kind == "int_choice":
        options = list(c.options)
        at = options.index(value) if value in options else 0
        field = (f"<input type='hidden' id='{name}' name='{name}' value='{text}'>"
                 f"<input type='range' aria-label='{name}' data-target='{name}' data-options='{options}' min='0' "
                 f"max='{len(options) - 1}' step='1' value='{at}' oninput='dlsmPick(this)'{submit}>"
                 f"<output>{text}</output>")
    elif c.kind == "number":
        field = f"<input type='number' step='any' id='{name}' name='{name}' value='{text}'{submit}>"
    else:
        field = f"<input type='text' id='{name}' name='{name}' value='{text}' size='24'{submit}>"
    return f"<label for='{name}'>{name}</label>{field}<span class='help'>{html.escape(c.help)}</span>"


def lab_form(lab: Lab, controls: list[Control], values: dict[str, Any], hidden: dict[str, str], errors: dict[str, str],
             live: bool, hide: str) -> str:
    rows = []
    for c in controls:
        error = errors.get(c.name, "")
        rows.append(f"<div class='row'>{control_html(c, values.get(c.name, c.value), live)}"
                    + (f"<span class='error' role='alert'>{html.escape(error)}</span>" if error else "") + "</div>")
    keep = "".join(f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>" for k, v in hidden.items())
    if hide:
        keep += f"<input type='hidden' name='hide' value='{html.escape(hide)}'>"
    return (f"<form method='get' action='/lab/{lab.name}'>{''.join(rows)}{keep}"
            f"<input type='hidden' name='run' value='1'>"
            f"<p><button type='submit'>{html.escape(t('playground.run'))}</button></p></form>")


def result_html(job, metric_row) -> str:
    """A finished run: status, headline metrics with their meanings, notes, explanations, figures."""
    r, lab = job.result, job.lab
    if r is None:
        return ""
    where = t("ui.folder_pending") if job.folder is None else job.folder
    parts = [f"<p>{html.escape(t('ui.finished', status=r.status, seconds=job.elapsed_s, path=where))}</p>"]
    rows = [metric_row(name, r.metrics[name]) for name in (lab.headline or list(r.metrics)[:6]) if name in r.metrics]
    parts.append("<table>" + "".join(rows) + "</table>")
    parts += [f"<div class='note'>・{html.escape(n)}</div>" for n in r.notes]
    if r.explanations:
        parts.append(f"<details><summary>{html.escape(t('report.heading.explanations'))}</summary>"
                     + "".join(f"<div class='note'>・{html.escape(n)}</div>" for n in r.explanations) + "</details>")
    for name in r.figures:
        parts.append(f"<img alt='{html.escape(name)}' src='/job/{job.id}/figure/{quote(name)}.png'>")
    return "".join(parts)


def running_html(job) -> str:
    done, total = job.done_steps, max(job.total_steps, 1)
    return (f"<p>{html.escape(t('playground.running'))} <progress value='{done}' max='{total}'></progress> "
            f"{done}/{job.total_steps or '?'}</p><form method='post' action='/job/{job.id}/stop'>"
            f"<button type='submit'>{html.escape(t('playground.stop'))}</button></form>")

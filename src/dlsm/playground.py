"""A playground in a notebook: a lab's settings as ipywidgets controls; its figures, metrics and notes update.

    from dlsm.notebook import playground
    playground("gd2d", function="ill")        # every other setting of gd2d gets a control

The controls come from the lab's typed Config (:mod:`dlsm.controls`), each labelled with the setting's name and
its meaning in the notebook's language. A run goes in a background thread, so the Stop button works while it
trains: it stops the training at its next step and the run keeps what was done (status interrupted). The first
run is made when the playground is created (in the cell, so the cell shows its result; ``start=False`` leaves it
to the Run button, for a lab that takes more than a few seconds); when it took at most ``LIVE_SECONDS`` the
playground is *live*: every change of a control runs the lab again (sliders on release). A slower lab runs on
the Run button. A bad value
shows the command line's message beside its control. "Keep" keeps the shown run for the lecture's report
(:func:`dlsm.notebook.keep`).

Nothing here is graded: the exercises' numbers come from the notebook's own cells.
"""

from __future__ import annotations

import html
import io
import threading
import time
from typing import Any

from dlsm.controls import Control, controls, format_value
from dlsm.errors import ConfigError, DlsmError
from dlsm.i18n import t
from dlsm.labs import Lab, get_lab

#: A lab whose first run took at most this long re-runs on every change of a control.
LIVE_SECONDS = 1.0
FIGURE_DPI = 80


class Stopped(KeyboardInterrupt):
    """Raised from the progress callback when Stop is pressed: the training loop ends cleanly."""


def playground(lab: str | Lab, size: str | None = None, *, live: bool | None = None, hide: tuple[str, ...] = (),
               start: bool = True, **fixed: Any) -> Playground:
    """The playground of ``lab`` (its name or the Lab) at ``size`` (default: the notebook's run size).

    ``fixed`` settings have no control (a curated exercise), nor have those in ``hide``; ``live`` forces or
    forbids re-running on every change (default: decided by the first run's time); ``start=False`` waits for
    the Run button. Returns the :class:`Playground`, which a notebook shows as the cell's value.
    """
    from dlsm.notebook import run_size

    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        raise DlsmError(t("playground.no_widgets")) from None
    return Playground(get_lab(lab) if isinstance(lab, str) else lab, size or run_size(), fixed, hide=hide,
                      live=live, start=start)


class Playground:
    """The widgets of one lab's playground, and the run in the background behind them."""

    def __init__(self, lab: Lab, size: str, fixed: dict[str, Any], *, hide: tuple[str, ...] = (),
                 live: bool | None = None, start: bool = True) -> None:
        import ipywidgets as w

        self.lab, self.size, self.fixed = lab, size, dict(fixed)
        base = lab.config.make(size, **fixed)  # a bad fixed setting fails here, with the CLI's message
        self.controls = controls(base, lab.name, skip=(*fixed, *hide))
        self._hidden = {k: getattr(base, k) for k in hide}
        self.widgets = {c.name: _widget(c) for c in self.controls}
        self.errors = {c.name: w.HTML() for c in self.controls}
        rows = [w.HBox([self.widgets[c.name], w.HTML(f"<small>{html.escape(c.help)}</small>"), self.errors[c.name]])
                for c in self.controls]
        self.run_button = w.Button(description=t("playground.run"), button_style="primary")
        self.stop_button = w.Button(description=t("playground.stop"), disabled=True)
        self.keep_button = w.Button(description=t("playground.keep"), disabled=True)
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0)
        self.status = w.HTML()
        self.metrics = w.HTML()
        self.notes = w.HTML()
        self.figures = w.VBox()
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.keep_button.on_click(lambda _: self.keep())
        for widget in self.widgets.values():
            widget.observe(self._changed, names="value")
        buttons = w.HBox([self.run_button, self.stop_button, self.keep_button, self.progress, self.status])
        self.box = w.VBox([w.HTML(f"<b>{html.escape(lab.name)}</b>: {html.escape(lab.describe())}"), *rows, buttons,
                           self.metrics, self.notes, self.figures])
        self.live = live
        self.result = None
        self.kept: list = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._again = False
        self._lock = threading.Lock()
        if start:  # the first run in the foreground: the cell shows its result (a slow lab: start=False)
            self.start()
            self.wait()

    # ----- the config the controls give -------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The settings the controls hold (text boxes read as the command line reads ``key=value``)."""
        from dlsm.cli import parse_value

        out = {}
        for c in self.controls:
            value = self.widgets[c.name].value
            if c.kind == "log_slider":
                value = float(f"{value:.4g}")
            elif c.kind == "text":
                value = parse_value(type(self.base_config()).spec(c.name), value)
            elif c.kind == "dropdown" and value == format_value(None):
                value = None
            out[c.name] = value
        return out

    def base_config(self):
        return self.lab.config.make(self.size, **self.fixed)

    def config(self):
        """The lab's Config from the controls; a ConfigError is shown beside the control it names."""
        for label in self.errors.values():
            label.value = ""
        try:
            return self.lab.config.make(self.size, **self.fixed, **self._hidden, **self.values())
        except ConfigError as exc:
            where = self.errors.get(exc.key or "")
            message = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            if where is not None:
                where.value = message
            else:
                self.status.value = message
            return None

    # ----- running ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the lab with the controls' settings in the background (if one runs, once more after it)."""
        config = self.config()
        if config is None:
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(config,), daemon=True)
            self.stop_button.disabled, self.run_button.disabled = False, True
            self.status.value = t("playground.running")
            self._thread.start()

    def stop(self) -> None:
        """Stop the run at its next training step; what was done is kept."""
        self._stop.set()
        self._again = False

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the background run (and any run queued behind it) has finished."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout)
            if timeout is not None:
                break

    def _progress(self, done: int, total: int, info: Any) -> None:
        if total:
            self.progress.value = min(1.0, done / total)
        if self._stop.is_set():
            raise Stopped

    def _run(self, config) -> None:
        t0 = time.perf_counter()
        try:
            result = self.lab.run(config, progress=self._progress)
        except Stopped:
            self._show_status(t("playground.stopped"))
            result = None
        except Exception as exc:  # a lab's own error: shown, the playground goes on
            self._show_status(f"<span style='color:#b00'>{html.escape(str(exc) or type(exc).__name__)}</span>")
            result = None
        elapsed = time.perf_counter() - t0
        if result is not None:
            self.result = result
            self._show(result, elapsed)
        if self.live is None:
            self.live = result is not None and elapsed <= LIVE_SECONDS
        with self._lock:
            again, self._again = self._again, False
            self._thread = None
            self.stop_button.disabled, self.run_button.disabled = True, False
        if again:
            self.start()

    def _changed(self, change: dict) -> None:
        if self.live:
            self.start()
        else:
            self.config()  # check the value at once; the run waits for the button

    def _show_status(self, text: str) -> None:
        self.status.value = text

    def _show(self, result, elapsed: float) -> None:
        import ipywidgets as w

        from dlsm.report import describe

        rows = []
        for name in self.lab.headline or list(result.metrics)[:6]:
            if name in result.metrics:
                meaning, unit = describe(self.lab.name, name)
                rows.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(_fmt(result.metrics[name]))}"
                            f" {html.escape(unit)}</td><td><small>{html.escape(meaning)}</small></td></tr>")
        self.metrics.value = f"<table>{''.join(rows)}</table>"
        from dlsm.notebook import explaining

        notes = list(result.notes) + (list(result.explanations) if explaining() else [])
        self.notes.value = "".join(f"<div>・{html.escape(n)}</div>" for n in notes)
        self.figures.children = [w.Image(value=_png(fig), format="png") for fig in result.figures.values()]
        self.keep_button.disabled = False
        self.progress.value = 1.0
        self._show_status(t("playground.done", seconds=elapsed, status=result.status))

    def keep(self):
        """Keep the shown run for the lecture's report (:func:`dlsm.notebook.keep`); return its folder."""
        from dlsm.notebook import keep

        if self.result is None:
            return None
        folder = keep(self.result, self.size)
        self.kept.append(folder)
        self._show_status(t("playground.kept", path=folder))
        return folder

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)


def _widget(c: Control):
    """The ipywidgets control of one :class:`Control`."""
    import ipywidgets as w

    style, layout = {"description_width": "initial"}, w.Layout(width="360px")
    common = {"description": c.name, "style": style, "layout": layout, "description_allow_html": False}
    if c.kind == "checkbox":
        return w.Checkbox(value=bool(c.value), indent=False, **common)
    if c.kind == "dropdown":
        options = [(format_value(o), o if o is not None else format_value(None)) for o in c.options]
        return w.Dropdown(options=options, value=c.value if c.value is not None else format_value(None), **common)
    if c.kind == "slider":
        return w.FloatSlider(value=c.value, min=c.low, max=c.high, step=c.step, continuous_update=False,
                             readout_format=".3g", **common)
    if c.kind == "log_slider":
        return w.FloatLogSlider(value=c.value, base=10, min=c.low, max=c.high, step=c.step, continuous_update=False,
                                readout_format=".3g", **common)
    if c.kind == "int_slider":
        return w.IntSlider(value=c.value, min=c.low, max=c.high, step=1, continuous_update=False, **common)
    if c.kind == "int_choice":
        return w.SelectionSlider(options=list(c.options), value=c.value, continuous_update=False, **common)
    if c.kind == "number":
        return (w.IntText if isinstance(c.value, int) else w.FloatText)(value=c.value, **common)
    return w.Text(value=c.text(), continuous_update=False, **common)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI)
    return buf.getvalue()

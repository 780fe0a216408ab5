"""The ``dlsm ui`` web app (Starlette): the lab index, a page per lab, its runs, and the report of them.

Routes: ``/`` (every lab by lecture), ``/lab/<name>?key=value&...`` (the lab's controls at those settings; with
any setting, or ``run=1``, it runs), ``/job/<id>`` (a run in progress, then its result), ``POST /job/<id>/stop``,
``/report`` (the HTML report of the runs made by this server). ``hide=a,b`` hides those controls (their
values stay as the URL gives them): a curated view. A run that ends within ``WAIT_S`` is shown at once; a longer
one shows its progress, refreshing every second, with a Stop button.
"""

from __future__ import annotations

import html
import math
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dlsm.controls import controls
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab, registry
from dlsm.ui import page
from dlsm.ui.jobs import Busy, Job, Jobs

#: A lab whose last run on this server took at most this long re-runs on every change of a control.
LIVE_SECONDS = 1.0
#: How long a request waits for its run before it shows the progress page instead.
WAIT_S = 5.0
RESERVED = ("run", "hide")


def make_app(out: Path, size: str = "course", data_root: Path | None = None, workers: int = 1,
             max_pending: int = 4) -> Starlette:
    """The app; runs go to ``out/<lab>/<time>/``; ``data_root``: the only place image folders may come from."""
    jobs = Jobs(out, size, workers, max_pending)
    root = Path(data_root).resolve() if data_root is not None else None

    @asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(jobs.shutdown)  # Ctrl-C of the server: every run ends, marked interrupted

    async def home(request: Request) -> HTMLResponse:
        from dlsm.lab_index import load

        # the cached index: no lab (and no torch) is imported for it; the labs are imported after it is sent
        return HTMLResponse(page.index(load()), background=BackgroundTask(registry))

    async def lab_page(request: Request) -> HTMLResponse | RedirectResponse:
        labs = registry()
        name = request.path_params["name"]
        if name not in labs:
            message = t("cli.err.unknown_lab", name=name, labs=", ".join(labs))
            return HTMLResponse(page.page(t("ui.title"), f"<p class='error'>{html.escape(message)}</p>"
                                          f"<p><a href='/'>{html.escape(t('ui.title'))}</a></p>"), status_code=404)
        lab = labs[name]
        query = {k: request.query_params.getlist(k)[-1] for k in request.query_params}
        config, values, errors = read_settings(lab, query, size, root)
        hide = query.get("hide", "")
        hidden_keys = tuple(k for k in hide.split(",") if k in lab.config.keys())
        asked = config is not None and (query.get("run") == "1" or any(k not in RESERVED for k in query))
        body = ""
        if asked:
            try:
                job = jobs.submit(lab, config, urlencode({k: v for k, v in query.items() if k != "run"}))
            except Busy:
                errors["_"] = t("ui.busy", n=jobs.max_pending)
            else:
                if not await run_in_threadpool(jobs.wait, job, WAIT_S):
                    return RedirectResponse(f"/job/{job.id}", status_code=303)
                body = finished(job)
        form = form_html(lab, config, values, errors, query, hidden_keys, hide)
        return HTMLResponse(page.page(f"dlsm — {lab.name}", form + body))

    def form_html(lab: Lab, config, values: dict, errors: dict, query: dict, hidden_keys: tuple, hide: str) -> str:
        base = config if config is not None else lab.config.make(size)
        shown = controls(base, lab.name, skip=hidden_keys)
        hidden = {k: query[k] for k in hidden_keys if k in query}
        live = jobs.seconds.get(lab.name, math.inf) <= LIVE_SECONDS
        top = (f"<p><a href='/'>{html.escape(t('ui.title'))}</a></p><h1><code>{lab.name}</code></h1>"
               f"<p>{html.escape(lab.describe())}</p>")
        general = f"<p class='error' role='alert'>{html.escape(errors['_'])}</p>" if "_" in errors else ""
        return top + general + page.lab_form(lab, shown, values, hidden, errors, live, hide)

    def finished(job: Job) -> str:
        if job.error:
            return f"<p class='error' role='alert'>{html.escape(job.error)}</p>"
        return page.result_html(job, lambda n, v: metric_row(job.lab, n, v))

    async def job_page(request: Request) -> HTMLResponse:
        job = jobs.jobs.get(int(request.path_params["id"]))
        if job is None:
            return HTMLResponse(page.page(t("ui.title"), f"<p class='error'>{html.escape(t('ui.no_job'))}</p>"),
                                status_code=404)
        query = _parse(job.query)
        config, values, errors = read_settings(job.lab, query, size, root)
        hide = query.get("hide", "")
        hidden_keys = tuple(k for k in hide.split(",") if k in job.lab.config.keys())
        form = form_html(job.lab, config or job.config, values, errors, query, hidden_keys, hide)
        if not job.ready.is_set():
            return HTMLResponse(page.page(f"dlsm — {job.lab.name}", form + page.running_html(job),
                                          refresh=f"/job/{job.id}"))
        return HTMLResponse(page.page(f"dlsm — {job.lab.name}", form + finished(job)))

    async def figure(request: Request) -> Response:
        job = jobs.jobs.get(int(request.path_params["id"]))
        data = None if job is None else await run_in_threadpool(job.figure_png, request.path_params["name"])
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    async def stop(request: Request) -> RedirectResponse:
        job = jobs.jobs.get(int(request.path_params["id"]))
        if job is not None:
            job.stop.set()
        return RedirectResponse(f"/job/{request.path_params['id']}", status_code=303)

    async def report(request: Request) -> HTMLResponse | FileResponse:
        from dlsm.report import build_report

        folders = jobs.folders()
        if not folders:
            return HTMLResponse(page.page(t("ui.title"), f"<p>{html.escape(t('ui.no_runs'))}</p>"))
        html_path, _ = await run_in_threadpool(lambda: build_report(folders, jobs.out / "ui-report.html",
                                                                    with_discussion=False))
        return FileResponse(html_path, media_type="text/html")

    app = Starlette(routes=[Route("/", home), Route("/lab/{name}", lab_page), Route("/job/{id:int}", job_page),
                            Route("/job/{id:int}/stop", stop, methods=["POST"]),
                            Route("/job/{id:int}/figure/{name}.png", figure), Route("/report", report)],
                    lifespan=lifespan)
    app.state.jobs = jobs
    return app


def _parse(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query, keep_blank_values=True))


def read_settings(lab: Lab, query: dict[str, str], size: str, data_root: Path | None
                  ) -> tuple[Any, dict[str, Any], dict[str, str]]:
    """The Config the URL asks for (None on an error), the values as given, and the errors by key (``_``: none)."""
    from dlsm.cli import parse_value

    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, text in query.items():
        if key in RESERVED:
            continue
        if key not in lab.config.keys():
            errors["_"] = t("cli.err.unknown_key", key=key, keys=", ".join(lab.config.keys()))
            continue
        try:
            values[key] = parse_value(lab.config.spec(key), text)
        except ConfigError as exc:
            errors[key], values[key] = str(exc), text
    folder = str(values.get("data", ""))
    if ":" in folder and folder.split(":", 1)[0] in ("folder", "idx"):
        where = Path(folder.split(":", 1)[1]).expanduser().resolve()
        if data_root is None or not where.is_relative_to(data_root):
            errors["data"] = t("ui.outside_root", path=where, root=data_root or t("ui.no_root"))
    if errors:
        return None, values, errors
    try:
        return lab.config.make(size, **values), values, errors
    except ConfigError as exc:
        errors[exc.key if exc.key in lab.config.keys() else "_"] = str(exc)
        return None, values, errors


def metric_row(lab: Lab, name: str, value: Any) -> str:
    from dlsm.report import describe

    meaning, unit = describe(lab.name, name)
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return (f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(shown)} {html.escape(unit)}</td>"
            f"<td>{html.escape(meaning)}</td></tr>")

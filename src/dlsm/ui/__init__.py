"""``dlsm ui``: every lab in the browser, with the controls of its typed Config (the notebook playground's).

    dlsm ui                      # http://127.0.0.1:8765/, runs written under runs/ui/
    dlsm ui --port 9000 --out my-runs --data-root ~/photos

The page is a small Starlette app (:mod:`dlsm.ui.app`) served by uvicorn, on the loopback interface unless
``--host`` says otherwise. Why Starlette + uvicorn: both are small pure-Python packages (no front-end build, no
CDN: the page is plain HTML forms with a few lines of inline script), a page is served within a second of the
start, and the controls come from :mod:`dlsm.controls`, the same rules the notebook playground uses. Panel and
Gradio were heavier (hundreds of MB of front-end and dependencies) and Voilà starts a kernel per page (seconds)
and would serve notebooks, not labs. They are the optional extra ``dlsm[ui]``.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PORT = 8765


def serve(out: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT, size: str = "course",
          data_root: Path | None = None, workers: int = 1, max_pending: int = 4) -> None:
    """Serve the app until Ctrl-C; the runs in progress then end, marked interrupted."""
    import uvicorn

    from dlsm.i18n import t
    from dlsm.ui.app import make_app

    app = make_app(Path(out), size, data_root, workers, max_pending)
    print(t("ui.serving", url=f"http://{host}:{port}/", out=out), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")

"""The runs a ``dlsm ui`` server makes: a bounded queue in front of a thread pool (concurrent.futures).

Each job runs the lab, draws its figures for the page (``ready``: the page can show it), then writes the run
folder under the server's ``--out`` with :func:`dlsm.runner.save_run`, the files a CLI run writes (figures at
the report's resolution and as PDF take most of a fast lab's time, so the page does not wait for them).
At most ``workers`` jobs run at once and at most ``max_pending`` wait or run: a further request is refused
(the page says the server is busy) rather than queued without bound. Stop (or the server's shutdown) raises
KeyboardInterrupt at the job's next progress report, where the training loop ends cleanly and the run is
recorded as interrupted with what it did.
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlsm.config import LabConfig
from dlsm.labs import Lab


class Busy(Exception):
    """The queue is full: the request is refused, not queued."""


@dataclass
class Job:
    """One run of a lab: its config, progress, and (when done) the RunOutcome or the error."""

    id: int
    lab: Lab
    config: LabConfig
    query: str  # the page's settings, to come back to
    done_steps: int = 0
    total_steps: int = 0
    folder: Path | None = None
    result: Any = None  # the lab's Result
    pngs: dict[str, bytes] = field(default_factory=dict)  # its figures for the page, drawn when first asked for
    draw_lock: threading.Lock = field(default_factory=threading.Lock)
    ready: threading.Event = field(default_factory=threading.Event)  # result and pngs are there (or error)
    error: str = ""
    started: float = field(default_factory=time.perf_counter)
    elapsed_s: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None
    saved: Future | None = None  # the run folder being written

    @property
    def finished(self) -> bool:
        """Run, and its folder written."""
        return (self.future is not None and self.future.done()
                and (self.saved is None or self.saved.done()))

    def figure_png(self, name: str) -> bytes | None:
        """The PNG of one of the result's figures (drawn once, on the first request: the page's HTML comes
        first and each figure follows as soon as it is drawn)."""
        if self.result is None or name not in self.result.figures:
            return None
        with self.draw_lock:
            if name not in self.pngs:
                self.pngs[name] = png(self.result.figures[name])
        return self.pngs[name]

    def progress(self, done: int, total: int, info: Any) -> None:
        self.done_steps, self.total_steps = done, total
        if self.stop.is_set():
            raise KeyboardInterrupt  # caught by the training loop: the run keeps what it did


class Jobs:
    """The server's jobs, by id, and the pool that runs them."""

    def __init__(self, out: Path, size: str, workers: int = 1, max_pending: int = 4) -> None:
        self.out, self.size, self.max_pending = Path(out), size, max_pending
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dlsm-ui")
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlsm-ui-save")  # run folders, in order
        self.jobs: dict[int, Job] = {}
        self.seconds: dict[str, float] = {}  # the last run time of each lab (what makes a page live)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def pending(self) -> int:
        """Runs waiting or computing (a folder still being written does not count)."""
        return sum(not (j.future is not None and j.future.done()) for j in self.jobs.values())

    def submit(self, lab: Lab, config: LabConfig, query: str) -> Job:
        """Start a run; raise Busy when ``max_pending`` runs already wait or run."""
        with self._lock:
            if self.pending() >= self.max_pending:
                raise Busy
            job = Job(next(self._ids), lab, config, query)
            self.jobs[job.id] = job
            job.future = self.pool.submit(self._run, job)
        return job

    def _run(self, job: Job) -> None:
        from dlsm.runner import save_run

        t0 = time.perf_counter()
        try:
            job.result = job.lab.run(job.config, progress=job.progress)
        except KeyboardInterrupt:  # a lab without a training loop, stopped: nothing to keep
            job.error = "interrupted"
        except Exception as exc:  # a lab's error: shown on the page
            job.error = str(exc) or type(exc).__name__
        job.elapsed_s = time.perf_counter() - t0
        if job.result is not None and not job.stop.is_set():
            self.seconds[job.lab.name] = job.elapsed_s
        job.ready.set()
        if job.result is not None:  # the folder is written while the next run computes
            job.saved = self.writer.submit(lambda: setattr(job, "folder", save_run(job.result, self.out, self.size)))

    def wait(self, job: Job, timeout: float) -> bool:
        """Wait until the job's result can be shown; whether it can."""
        return job.ready.wait(timeout)

    def folders(self) -> list[Path]:
        """The run folders of the runs that have ended, in the order they were made (waits for the folders
        still being written)."""
        out = []
        for job in sorted(self.jobs.values(), key=lambda j: j.id):
            if job.saved is not None:
                job.saved.result()
            if job.folder is not None and (job.folder / "metrics.json").is_file():
                out.append(job.folder)
        return out

    def shutdown(self) -> None:
        """Stop every job (each is recorded as interrupted) and wait for them."""
        for job in self.jobs.values():
            job.stop.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.writer.shutdown(wait=True)


#: Resolution of the figures on the page (the run folder keeps the report's).
PAGE_DPI = 72


def png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PAGE_DPI)
    return buf.getvalue()

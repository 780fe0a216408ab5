"""``dlsm ui``: time from the command to the first page, the latency from a changed control to the updated
figure (gd2d, gates at the course's size), and the server's memory with a lab page open.

    python benchmarks/run.py --only ui

A changed control submits the lab's form (a GET of ``/lab/<lab>?...``): the server runs the lab and answers with
the page, whose figures the browser then fetches (``/job/<id>/figure/<name>.png``, drawn on that request). The
latency to the first figure is the page's time plus its first figure's; to every figure, plus all of them one
after another (a browser fetches several at once, so this is an upper bound). Each value is the median of
``REPEATS`` changes, each to a new learning rate (so nothing is cached).
"""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import BenchSection
from dlsm.result import Table

REPEATS = 5


def _get(url: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read().decode(errors="replace")
        final = r.geturl()
    while "/job/" in final and "http-equiv='refresh'" in body:  # a long run: its progress page until done
        time.sleep(0.2)
        with urllib.request.urlopen(final, timeout=600) as r:
            body = r.read().decode(errors="replace")
    return body, time.perf_counter() - t0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def change(base: str, lab: str, key: str, value: float) -> tuple[float, float]:
    """Seconds to the first figure and to every figure after setting ``key=value`` on ``lab``'s page."""
    page, t_page = _get(f"{base}/lab/{lab}?{key}={value}")
    figures = re.findall(r"src='(/job/\d+/figure/[^']+\.png)'", page)
    times = [_get(base + f)[1] for f in figures]
    return t_page + (times[0] if times else 0.0), t_page + sum(times)


def run(quick: bool = False) -> list[BenchSection]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    out = Path(tempfile.mkdtemp(prefix="dlsm-ui-bench-"))
    args = [sys.executable, "-m", "dlsm", "ui", "--port", str(port), "--out", str(out)] + (["--quick"] if quick else [])
    subprocess.run([sys.executable, "-m", "dlsm", "list"], check=True, stdout=subprocess.DEVNULL)  # the lab index
    t0 = time.perf_counter()
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() - t0 > 120:
                    raise RuntimeError("dlsm ui did not start") from None
                time.sleep(0.05)
        first_page = time.perf_counter() - t0
        rows = [["time from `dlsm ui` to the first page", round(first_page, 2), "s"]]
        for lab, key, values in (("gd2d", "lr", [0.05, 0.1, 0.15, 0.19, 0.25, 0.3]),
                                 ("gates", "lr", [0.5, 0.8, 1.0, 1.2, 1.5, 2.0])):
            change(base, lab, key, values[0])  # the lab's first run on the server (imports, caches): not counted
            timings = [change(base, lab, key, v) for v in values[1:1 + (2 if quick else REPEATS)]]
            rows.append([f"{lab}: changed {key} to its first figure (median)",
                         round(statistics.median(t[0] for t in timings), 3), "s"])
            rows.append([f"{lab}: changed {key} to every figure (median)",
                         round(statistics.median(t[1] for t in timings), 3), "s"])
        rows.append(["server memory (RSS) after both pages", round(_rss_mb(server.pid), 1), "MB"])
    finally:
        server.terminate()
        server.wait(timeout=60)
    size = "quick" if quick else "course"
    return [BenchSection(f"dlsm ui (the labs at {size} size)", Table(["measure", "value", "unit"], rows),
                         ["The lab index was built before (`dlsm list`); the first start after installing or "
                          "changing the sources builds it, which imports every lab.",
                          f"Each latency is the median of {2 if quick else REPEATS} changes of the learning rate; "
                          "the first run of each lab on the server is not counted.",
                          "The server runs one lab at a time; it writes each run's folder (figures as PNG and PDF) "
                          "in a second thread while the next request is served, which shares the CPU."])]


if __name__ == "__main__":
    for section in run(quick="--quick" in sys.argv):
        print(section.title)
        print(section.table.to_markdown())

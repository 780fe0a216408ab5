"""``dlsm ui``: a real server on the loopback interface, fetched over HTTP and rendered in headless Chromium.

The page lists every lab; a lab's URL holds its settings and runs them; the form round-trips them; a bad value
shows the command line's message beside its control; every run is written to a run folder as the CLI writes it;
Ctrl-C of the server ends its runs, marked interrupted; image folders only come from under ``--data-root``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from dlsm.errors import ConfigError  # noqa: E402
from dlsm.labs import get_lab, registry  # noqa: E402
from dlsm.ui.app import read_settings  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 60) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    def __init__(self, out: Path, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "dlsm", "ui", "--port", str(self.port), "--out", str(out),
                                      *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stdout.read()) from None
                time.sleep(0.3)
        raise RuntimeError("dlsm ui did not start within 90 s")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.stdout.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    out = tmp_path_factory.mktemp("ui-runs")
    photos = tmp_path_factory.mktemp("photos")
    s = Server(out, "--quick", "--data-root", str(photos))
    s.out, s.photos = out, photos
    yield s
    s.stop()


def form_fields(page: str) -> dict[str, str]:
    """What the lab's form submits: every named input and select (the last of a name wins, as the server reads)."""
    form = page[page.index("<form method='get'"):page.index("</form>")]
    fields: dict[str, str] = {}
    for tag in re.findall(r"<(?:input|select)[^>]*>(?:(?:<option[^>]*>[^<]*</option>)*</select>)?", form):
        name = re.search(r"name='([^']*)'", tag)
        if name is None:
            continue
        if tag.startswith("<select"):
            value = re.search(r"<option value='([^']*)' selected", tag).group(1)
        elif "type='checkbox'" in tag:
            if " checked" not in tag:
                continue
            value = "true"
        else:
            value = re.search(r"value='([^']*)'", tag).group(1)
        fields[html.unescape(name.group(1))] = html.unescape(value)
    return fields


def test_the_index_lists_every_lab_by_lecture(server):
    status, page = get(server.url + "/")
    assert status == 200
    for name, lab in registry().items():
        assert f"href='/lab/{name}'" in page, name
        assert f"Lecture {lab.lecture}" in page or f"第{lab.lecture}講" in page


def test_a_url_runs_its_settings_shows_the_labs_notes_and_round_trips(server):
    lab = get_lab("gd2d")
    status, page = get(server.url + "/lab/gd2d?lr=0.3")
    assert status == 200
    expected = lab.run(lab.config.make("quick", lr=0.3), figures=False)
    assert expected.metrics["behaviour"] == "diverges"
    for note in expected.notes:
        assert html.escape(note) in page
    figures = re.findall(r"src='(/job/\d+/figure/[^']+\.png)'", page)
    assert len(figures) == len(lab.run(lab.config.make("quick", lr=0.3)).figures) > 0
    with urllib.request.urlopen(server.url + figures[0], timeout=60) as r:
        assert r.headers["content-type"] == "image/png" and r.read()[:8] == b"\x89PNG\r\n\x1a\n"
    fields = form_fields(page)
    assert fields["lr"] == "0.3" and fields["run"] == "1"
    again, _, errors = read_settings(lab, fields, "quick", None)
    assert not errors and again == lab.config.make("quick", lr=0.3)  # the form gives back the URL's settings


def test_a_bad_value_an_unknown_key_and_an_unknown_lab_are_answered_on_the_page(server):
    lab = get_lab("gd2d")
    status, page = get(server.url + "/lab/gd2d?x0=1")
    with pytest.raises(ConfigError) as cli:
        lab.config.make("quick", x0=(1.0,))
    assert status == 200 and html.escape(str(cli.value)) in page and "role='alert'" in page
    assert "/figure/" not in page, "a bad value does not run"
    status, page = get(server.url + "/lab/gd2d?no_such_key=1")
    assert "no_such_key" in page and all(k in page for k in lab.config.keys())
    status, page = get(server.url + "/lab/no_such_lab")
    assert status == 404 and "gd2d" in page and "classify" in page


def test_hide_keeps_a_value_without_its_control(server):
    status, page = get(server.url + "/lab/gd2d?lr=0.05&hide=lr")
    assert status == 200 and "id='lr'" not in page and "<label for='lr'>" not in page
    fields = form_fields(page)
    assert fields["lr"] == "0.05" and fields["hide"] == "lr"


def test_every_run_is_written_to_a_run_folder_and_the_report_has_them(server):
    lab = get_lab("gd1d")
    status, page = get(server.url + "/lab/gd1d?lr=0.4")
    assert status == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((server.out / "gd1d").glob("*/metrics.json")):
        time.sleep(0.2)
    (folder,) = [p.parent for p in (server.out / "gd1d").glob("*/metrics.json")]
    saved = json.loads((folder / "metrics.json").read_text())
    expected = lab.run(lab.config.make("quick", lr=0.4), figures=False)
    assert saved["status"] == "completed"
    assert json.loads((folder / "config.json").read_text())["config"] == lab.config.make("quick", lr=0.4).to_dict()
    assert all(saved["metrics"][k] == pytest.approx(v) for k, v in expected.metrics.items()
               if isinstance(v, float) and not isinstance(v, bool))
    assert (folder / "figures").is_dir()
    status, report = get(server.url + "/report")
    assert status == 200 and "gd1d" in report


def test_image_folders_only_from_under_the_data_root(server):
    outside = Path(server.photos).parent
    status, page = get(server.url + f"/lab/classify?data=folder:{outside}")
    assert status == 200 and "role='alert'" in page and str(Path(server.photos).resolve()) in page
    assert "/figure/" not in page


def test_an_image_folder_under_the_data_root_trains(server):
    from PIL import Image

    root = Path(server.photos) / "pets"
    for k, name in enumerate(("cats", "dogs")):
        (root / name).mkdir(parents=True)
        for i in range(6):
            Image.new("L", (20, 16), 40 * k + 3 * i + 10).save(root / name / f"img{i}.png")
    status, page = get(server.url + f"/lab/classify?data=folder:{root}&steps=20&image_size=16", 300)
    assert status == 200 and "role='alert'" not in page, page[-2000:]
    assert "/figure/" in page and "test_accuracy" in page


def test_the_page_renders_in_a_real_browser(server, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (scripts/test.sh installs it)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    url = server.url + "/lab/gd2d?lr=0.3"
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=10000", "--dump-dom", url], check=True,
                         timeout=120, capture_output=True, text=True).stdout
    assert "<form" in dom and "type=\"range\"" in dom and "diverges" in dom
    shot = tmp_path / "gd2d.png"
    subprocess.run([browser, *flags, "--window-size=1100,1600", "--virtual-time-budget=10000",
                    f"--screenshot={shot}", url], check=True, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (1600, 1100) and (pixels < 100).mean() > 0.005, "the browser rendered an empty page"


def test_ctrl_c_of_the_server_ends_its_runs_marked_interrupted(tmp_path):
    import threading

    lab = "mimo"  # trains for a minute at the course's size: still running when Ctrl-C comes
    server = Server(tmp_path)
    def ask() -> None:
        try:
            get(server.url + f"/lab/{lab}?run=1", 120)
        except OSError:  # the server went away mid-request: expected here
            pass

    request = threading.Thread(target=ask, daemon=True)
    request.start()
    time.sleep(4)
    log = server.stop()
    assert server.proc.returncode is not None
    folders = list((tmp_path / lab).glob("*/metrics.json"))
    assert folders, f"no run folder written: {log}"
    saved = json.loads(folders[0].read_text())
    assert saved["status"] == "interrupted", saved["status"]

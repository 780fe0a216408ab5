"""The README's main job: `dlsm tour` runs every registered lab at quick size and writes one report.

This is also the smoke test over every lab: each one must run at its quick size and leave a complete
run folder.
"""

from __future__ import annotations

import json

from dlsm.cli import main
from dlsm.labs import registry


def test_tour_runs_every_lab_and_writes_the_report(tmp_path, capsys):
    assert main(["tour", "--out", str(tmp_path)]) == 0
    (tour_dir,) = (tmp_path / "tour").iterdir()
    html = (tour_dir / "report.html").read_text()
    for name in registry():
        metrics = json.loads((tour_dir / name / "metrics.json").read_text())
        assert metrics["status"] == "completed", name
        assert metrics["metrics"], name
        assert any((tour_dir / name / "figures").glob("*.png")), name
        assert f"<h2>{name}</h2>" in html
    positions = [html.index(f"<h2>{name}</h2>") for name in registry()]
    assert positions == sorted(positions)  # the report follows the tour: lecture by lecture
    assert (tour_dir / "report.md").is_file()
    assert "report:" in capsys.readouterr().out

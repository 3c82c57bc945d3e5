"""The benchmark keeps working: bench/run.py at N = 5, one run, no urlwatch, nginx only if
it is installed (else the bundled asyncio server). No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_runs_at_n_5(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--sizes=5",
            "--runs=1",
            "--no-urlwatch",
            "--no-install",
            "--quiet-wait=0",
            "--items=2000",
            "--startup-runs=2",
            f"--out={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    rows = results["rows"]
    outcomes = {key: row["statuses"][0] for key, row in rows.items()}
    assert outcomes == {
        "cold/5": {"baseline": 5},
        "changed/5": {"ok": 1, "not-modified": 4},
        "unchanged 304/5": {"not-modified": 5},
        "unchanged 200 same bytes/5": {"unchanged": 5},
        "feeds cold/5": {"baseline": 5},
        "feeds 80% unchanged/5": {"ok": 1, "not-modified": 4},
    }
    # The mutated page: 1-3 new items, a headline edited, a paywall lifted; each event owes
    # the one configured channel an outbox row.
    assert 3 <= rows["changed/5"]["events"][0] == rows["changed/5"]["outbox"][0] <= 5
    assert rows["cold/5"]["events"] == [0]
    assert set(results["micro"]) == {"latency/5", "startup", "store"}
    assert "error" not in json.dumps(results["micro"])
    assert "| cold | 5 |" in result.stdout
    assert "selectolax parse + select" in result.stdout

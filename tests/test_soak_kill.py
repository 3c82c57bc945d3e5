"""The crash soak, CI-sized: `monitor run` killed with SIGKILL six times at chosen moments
(random, mid-fetch, right after a fetch, mid-send twice, right after a send) and restarted.
bench/soak_kill.py runs the same with 100 kills; docs/reliability.md quotes it."""

from __future__ import annotations

from pathlib import Path

from tests.soak import kill_soak


def test_killed_and_restarted_the_daemon_loses_no_alert(tmp_path: Path):
    result = kill_soak(tmp_path, kills=6, seed=3, drain=60)

    assert [r.integrity for r in result.rounds] == ["ok"] * 6, result.log_tail
    assert result.appeared > 0
    assert result.lost == [], result.summary() + "\n" + result.log_tail
    # A kill can repeat at most the message that was in flight.
    assert result.repeated_posts <= result.mid_send, result.summary()
    assert "Traceback" not in result.log_tail

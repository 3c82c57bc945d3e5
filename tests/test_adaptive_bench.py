"""The delay benchmark (bench/adaptive.py) at test size: two corpus feeds replayed over two
simulated days at a 30-minute interval. Only what must hold on any machine is asserted:
adaptive scheduling spends no more requests than fixed scheduling, and every published
item is alerted under every schedule."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.adaptive import CORPUS, Options, benchmark, table

FEEDS = ("en_hackernews_rss_feedjira", "ua_liga_net_data-import")


def test_adaptive_scheduling_spends_no_more_requests_and_alerts_every_published_item(
    tmp_path: Path,
) -> None:
    options = Options(days=2, warmup=1, interval=1800.0, only=FEEDS, corpus=CORPUS)
    report = asyncio.run(benchmark(options, tmp_path))
    runs = {run["label"]: run for run in report["runs"]}
    assert list(runs) == ["fixed", "adaptive", "adaptive, half budget"]
    assert report["feeds"] == list(FEEDS)
    assert report["published"] > 20
    for label, run in runs.items():
        assert (label, run["missed"], run["alerted"]) == (label, 0, report["published"])
    assert runs["adaptive"]["requests_all"] <= runs["fixed"]["requests_all"]
    assert runs["adaptive, half budget"]["requests_all"] <= runs["fixed"]["requests_all"] / 2 + 2
    assert table(report).count("\n") == 4

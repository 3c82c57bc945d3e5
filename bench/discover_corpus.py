"""Rule discovery on the corpus listings: what it finds, against the manifest, and how fast.

For every listing page of /work/shared/corpus (or $MONITOR_CORPUS) the best proposal's item
and paywalled counts (from the real extractor), the manifest's figures, and the time the
whole `discover` call took (parse, ranking, field and paywall guesses, extraction runs).

Run: .venv/bin/python -m bench.discover_corpus [--all]
(by default only the pages whose manifest row names premium markers)
"""

from __future__ import annotations

import csv
import re
import sys
import time
from pathlib import Path

from monitor.extract.discover import discover
from tests.conftest import CORPUS


def main(argv: list[str]) -> int:
    everything = "--all" in argv
    rows = []
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            marked = not row["paywall_markers"].strip().startswith("-")
            if row["kind"] == "listing" and (marked or everything):
                rows.append(row)
    print(f"{'page':44} {'items':>11} {'paywalled':>11} {'seconds':>8}  item selector")
    slowest = 0.0
    for row in rows:
        flagged = re.search(r"\[(\d+) of (\d+) items flagged\]", row["paywall_markers"])
        items = int(flagged.group(2)) if flagged else int(row["approx_items"])
        premium = int(flagged.group(1)) if flagged else 0
        body = (CORPUS / row["local_file"]).read_bytes()
        base = "https://" + row["site/domain"].split()[0].strip('"') + "/"
        start = time.perf_counter()
        found = discover(body, base)
        took = time.perf_counter() - start
        slowest = max(slowest, took)
        name = Path(row["local_file"]).stem
        if not found:
            print(f"{name:44} {'-':>11} {'-':>11} {took:8.2f}  (nothing found)")
            continue
        best = found[0]
        print(
            f"{name:44} {best.items:>5}/{items:<5} {best.paywalled:>5}/{premium:<5}"
            f" {took:8.2f}  {best.rule.item}"
        )
    print(f"slowest page: {slowest:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

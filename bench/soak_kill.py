"""Crash soak: kill `monitor run` with SIGKILL again and again, and count what was lost.

    .venv/bin/python bench/soak_kill.py                 # 100 kills, 2 sources, 1 item/s each
    .venv/bin/python bench/soak_kill.py --kills 20 --seed 7

Each round waits for a moment (random, mid-fetch, right after a fetch = extract/commit,
while the receiver holds a POST, right after it answered), kills the daemon with SIGKILL,
runs `PRAGMA integrity_check`, and starts it again; the site keeps adding items throughout.
At the end the site stops, the daemon drains and stops with SIGTERM, and the report says
how many items appeared, how many were alerted, lost and duplicated. See tests/soak.py.

Everything runs on 127.0.0.1; the work directory is bench/out/soak_kill/ (kept: the
database, the config and the daemon's log).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.soak import kill_soak  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sources", type=int, default=2)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between new items")
    parser.add_argument("--hold", type=float, default=0.2, help="seconds the receiver holds a POST")
    parser.add_argument("--drain", type=float, default=120.0, help="longest final drain, s")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak_kill")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    result = kill_soak(
        args.out,
        args.kills,
        seed=args.seed,
        sources=args.sources,
        every=args.every,
        hold=args.hold,
        drain=args.drain,
        report=lambda line: print(line, flush=True),
    )
    print()
    print(result.summary())
    if result.lost:
        print("lost items (source, number):", result.lost[:50])
    ok = (
        not result.lost
        and result.integrity_failures == 0
        and result.repeated_posts <= result.mid_send
    )
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

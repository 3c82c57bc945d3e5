"""A site's life, lived many times: the state machine of tests/test_site_life.py with more
examples and longer lives, and the figures of the run.

    .venv/bin/python bench/site_life.py                       # 200 lives of 30 steps
    .venv/bin/python bench/site_life.py --examples 1000 --steps 40
    .venv/bin/python bench/site_life.py --pending ''   # check what is not in yet too

Prints lives, polls, alerts compared, mismatches and time; with a mismatch, the first
failing life as hypothesis found it (`--shrink` makes it minimal, which takes minutes).
Talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="lives to live")
    parser.add_argument("--steps", type=int, default=30, help="most steps of one life")
    parser.add_argument(
        "--pending",
        default=None,
        help="comma-separated behaviours to leave out (default: the test's NOT_YET; '' for none)",
    )
    parser.add_argument("--shrink", action="store_true", help="shrink a failing life")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed")
    args = parser.parse_args()
    # The test module reads these when it is imported.
    os.environ["SITE_LIFE_EXAMPLES"] = str(args.examples)
    os.environ["SITE_LIFE_STEPS"] = str(args.steps)
    if args.pending is not None:
        os.environ["SITE_LIFE_PENDING"] = args.pending
    os.environ["SITE_LIFE_SHRINK"] = "1" if args.shrink else ""

    from hypothesis import seed

    from tests import test_site_life as life

    test = life.SiteLife.TestCase("runTest")
    if args.seed is not None:
        test.runTest = seed(args.seed)(test.runTest)  # type: ignore[method-assign]
    started = time.perf_counter()
    failure = None
    try:
        test.runTest()
    except Exception:
        failure = traceback.format_exc()
    elapsed = time.perf_counter() - started
    counters = life.COUNTERS
    print(f"lives               {counters.lives}")
    print(f"polls (monitor check) {counters.polls}")
    print(f"alerts compared     {counters.alerts}")
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counters.kinds.items()))
    print(f"  by kind           {kinds}")
    print(f"  paywalled channel {counters.paid} (of the same, to a channel with paywalled = true)")
    print(f"  recurring         {counters.recurring} (a state that came back, told again)")
    print(f"mismatches          {len(counters.mismatches)}")
    print(f"time                {elapsed:.1f} s ({counters.seconds:.1f} s in monitor check,")
    print(f"                    {1000 * counters.seconds / max(counters.polls, 1):.0f} ms a poll)")
    print(f"left out            {', '.join(sorted(life.PENDING)) or 'nothing'}")
    if failure:
        print("\nfirst failing life:\n" + failure[-6000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

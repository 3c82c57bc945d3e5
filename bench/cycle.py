"""`monitor check` in-process, exactly as the command line runs it, with the poll cycle timed.

    python bench/cycle.py RECORD.json --config CONFIG check --no-notify

Runs the real click command (`monitor.cli.cli`) in this process. The only difference from
`python -m monitor ...` is a wrapper around `monitor.app.run_checks` (the round that
`Monitor.check` runs) that writes to
RECORD.json how long the cycle itself took (wall and CPU, worker processes included),
apart from interpreter start-up, config loading, opening the database and printing.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _vmhwm_mb() -> float:
    """This process's peak resident set (not ru_maxrss, which remembers the forked image
    from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    record_path = Path(sys.argv[1])
    import monitor.app as app
    import monitor.cli as cli

    real = app.run_checks
    record: dict[str, Any] = {}

    async def timed(settings: Any, sources: Any, store: Any, **kwargs: Any) -> list[Any]:
        wall, cpu = time.perf_counter(), _cpu()
        try:
            return await real(settings, sources, store, **kwargs)
        finally:
            record.update(
                cycle_s=time.perf_counter() - wall, cycle_cpu_s=_cpu() - cpu, sources=len(sources)
            )

    app.run_checks = timed  # type: ignore[assignment]
    code: int | str | None = 0
    try:
        cli.cli.main(args=sys.argv[2:], prog_name="monitor")
    except SystemExit as exc:
        code = exc.code
    finally:
        record["vmhwm_mb"] = _vmhwm_mb()
        record_path.write_text(json.dumps(record))
    sys.exit(code)


if __name__ == "__main__":
    main()

"""Benchmark of a poll cycle: the real `monitor check` against a synthetic site on 127.0.0.1.

    .venv/bin/python bench/run.py                      # N = 200 and 1000, 3 runs each
    .venv/bin/python bench/run.py --sizes 5 --runs 1 --no-urlwatch --no-micro --server python

Scenarios per N (each: wall, CPU user+sys incl. children, peak RSS, sources/s; median of
--runs): cold (empty database), changed (20% of pages mutated: events and outbox rows),
unchanged (every source answers 304), unchanged without validators (200 with the same bytes:
the hash shortcut), feeds cold, feeds with 80% unchanged. The monitor runs as a subprocess,
`python -m monitor --config GENERATED check --no-notify`, with one json:// channel so events
owe outbox rows. Floors in the same run: httpx fetch-only (same concurrency), selectolax
parse-only, the monitor's extractors alone; urlwatch (own venv) cold and all-304. Micro:
`monitor --help` start-up, diff + commit at 1,000,000 stored items, fetch-to-enqueue.

Everything is written under bench/out/; the only network peer is 127.0.0.1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import server as srv  # noqa: E402
from bench import sitegen  # noqa: E402
from bench.measure import Measure, median, run_measured, wait_quiet  # noqa: E402

PY = sys.executable
RULE = """[sources.rule]
item = ".news-item"
title = ".news-item__title"
link = ".news-item__title a"
section = ".news-item__rubric"
date = "time"
paywall_text = "The material is available only to POZIRK+"
"""


@dataclass
class Row:
    scenario: str
    n: int
    runs: list[Measure] = field(default_factory=list)
    # From bench/cycle.py: the poll cycle (run_checks) alone, wall and CPU seconds.
    cycles: list[dict[str, float]] = field(default_factory=list)
    statuses: list[dict[str, int]] = field(default_factory=list)
    events: list[int] = field(default_factory=list)
    outbox: list[int] = field(default_factory=list)
    note: str = ""
    # "sweep": the same cycle at another per-host concurrency, reported apart.
    group: str = "main"

    def med(self, attr: str) -> float:
        return median([getattr(m, attr) for m in self.runs])

    def cycle(self, key: str) -> float:
        return median([c[key] for c in self.cycles if key in c])

    @property
    def rate(self) -> float:
        """Sources per second of the whole process (start-up, config and output included)."""
        return self.n / self.med("wall") if self.runs else float("nan")

    @property
    def cycle_rate(self) -> float:
        """Sources per second of the poll cycle itself."""
        return self.n / self.cycle("cycle_s") if self.cycles else float("nan")

    @property
    def busy(self) -> float:
        """Largest share of the machine other processes took during a run."""
        cpus = os.cpu_count() or 1
        return max((m.foreign_cpu / (m.wall * cpus) for m in self.runs), default=0.0)


@dataclass
class Floor:
    name: str
    n: int
    seconds: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.n / median(self.seconds) if self.seconds else float("nan")


# -- site, configs ----------------------------------------------------------------------------


def write_site(args: argparse.Namespace, n: int, generation: int) -> sitegen.Site:
    site = sitegen.site_at(args.seed, n, n, generation, args.fraction)
    sitegen.write_site(site, args.out / "site" / str(n), args.seed, generation)
    return site


def settings_lines(args: argparse.Namespace) -> str:
    """Top-level keys: the defaults except requests in flight per host (all sources share
    127.0.0.1) and, when asked, the number of parse workers."""
    lines = f"per_host_concurrency = {args.concurrency}\n"
    if args.parse_workers is not None:
        lines += f"parse_workers = {args.parse_workers}\n"
    return lines


def page_config(
    path: Path, site: sitegen.Site, server: srv.Server, args: argparse.Namespace, plain: bool
) -> Path:
    parts = [
        'database = "state.db"\n',
        settings_lines(args),
        f'[channels.bench]\nurls = ["json://127.0.0.1:{args.sink_port}/"]\n',
    ]
    for i, page in enumerate(site.pages):
        url = server.url(f"/{len(site.pages)}{page.path}", plain=plain)
        parts.append(f'[[sources]]\nname = "page-{i:05d}"\nurl = "{url}"\nkind = "html"\n{RULE}')
    path.write_text("".join(parts), encoding="utf-8")
    return path


def feed_config(
    path: Path, site: sitegen.Site, server: srv.Server, args: argparse.Namespace
) -> Path:
    parts = [
        'database = "feeds.db"\n',
        settings_lines(args),
        f'[channels.bench]\nurls = ["json://127.0.0.1:{args.sink_port}/"]\n',
    ]
    for i, feed in enumerate(site.feeds):
        url = server.url(f"/{len(site.feeds)}{feed.path}")
        parts.append(
            f'[[sources]]\nname = "feed-{i:05d}"\nurl = "{url}"\nkind = "feed"\n'
            'paywall_categories = ["POZIRK+"]\n'
        )
    path.write_text("".join(parts), encoding="utf-8")
    return path


# -- running the monitor ---------------------------------------------------------------------


def monitor_check(
    config: Path, env: dict[str, str], args: argparse.Namespace, server: srv.Server
) -> tuple[Measure, dict[str, float], dict[str, int]]:
    """`monitor --config CONFIG check --no-notify` through bench/cycle.py (the real click
    command in-process, with the cycle timed) in a fresh process."""
    record = config.with_suffix(".cycle.json")
    record.unlink(missing_ok=True)
    cmd = [PY, str(ROOT / "bench" / "cycle.py"), str(record)]
    cmd += ["--config", str(config), "check", "--no-notify"]
    wait_quiet(args.quiet_wait)
    m = run_measured(
        cmd,
        env=env,
        cwd=config.parent,
        stdout_path=config.with_suffix(".out"),
        server_pid=server.pid,
    )
    statuses: Counter[str] = Counter()
    for line in m.stderr.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name.startswith(("page-", "feed-")):
            statuses[rest.split(",")[0].split(":")[0]] += 1
        elif line.strip():
            statuses["other output"] += 1
    if m.returncode != 0:
        statuses[f"exit {m.returncode}"] += 1
    cycle = json.loads(record.read_text()) if record.exists() else {}
    if cycle.get("vmhwm_mb", 0) > m.rss_main_mb:  # its own last word beats the last sample
        m = dataclasses.replace(m, rss_main_mb=cycle["vmhwm_mb"])
    return m, cycle, dict(statuses)


def db_counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*) FROM events").fetchone()[0],
            conn.execute("SELECT count(*) FROM outbox").fetchone()[0],
        )
    finally:
        conn.close()


def expect(row: Row, statuses: dict[str, int], wanted: dict[str, int]) -> None:
    if statuses != wanted:
        row.note = f"UNEXPECTED outcomes {statuses} (wanted {wanted})"
        print(f"  ! {row.scenario} N={row.n}: {row.note}", file=sys.stderr)


def run_scenarios(
    args: argparse.Namespace, n: int, server: srv.Server, rows: dict[str, Row], env: dict[str, str]
) -> None:
    for name in (
        "cold",
        "changed",
        "unchanged 304",
        "unchanged 200 same bytes",
        "feeds cold",
        "feeds 80% unchanged",
    ):
        rows.setdefault(f"{name}/{n}", Row(name, n))
    k = round(n * args.fraction)
    for r in range(args.runs):
        work = args.out / "runs" / f"{n}-{r}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        site = write_site(args, n, 0)
        cfg = page_config(work / "pages.toml", site, server, args, plain=False)
        plain = page_config(work / "plain.toml", site, server, args, plain=True)
        db = work / "state.db"

        def one(key: str, config: Path, wanted: dict[str, int], database: Path, r: int = r) -> None:
            before = db_counts(database) if database.exists() else (0, 0)
            m, cycle, statuses = monitor_check(config, env, args, server)
            after = db_counts(database)
            row = rows[f"{key}/{n}"]
            row.runs.append(m)
            row.cycles.append(cycle)
            row.statuses.append(statuses)
            row.events.append(after[0] - before[0])
            row.outbox.append(after[1] - before[1])
            expect(row, statuses, wanted)
            print(
                f"  {key:<26} N={n:<5} run {r + 1}: cycle {cycle.get('cycle_s', 0):5.2f} s"
                f" ({n / cycle.get('cycle_s', float('inf')):5.0f}/s, CPU"
                f" {cycle.get('cycle_cpu_s', 0):5.2f} s); process {m.wall:5.2f} s"
                f" ({n / m.wall:5.0f}/s, CPU {m.cpu:5.2f} s), {m.rss_main_mb:3.0f} MB RSS,"
                f" {m.pss_all_mb:3.0f} MB PSS, foreign CPU {m.foreign_cpu:4.2f} s,"
                f" events +{after[0] - before[0]}, outbox +{after[1] - before[1]}",
                file=sys.stderr,
            )

        one("cold", cfg, {"baseline": n}, db)
        write_site(args, n, 1)
        one("changed", cfg, {"ok": k, "not-modified": n - k} if k else {"not-modified": n}, db)
        one("unchanged 304", cfg, {"not-modified": n}, db)
        # The plain server is another URL for each source: its first poll re-reads the
        # pages with the new URL (a silent re-baseline); the measured poll is the next one.
        monitor_check(plain, env, args, server)
        one("unchanged 200 same bytes", plain, {"unchanged": n}, db)
        if r == 0 and not args.no_micro:
            micro_latency(args, n, cfg)
        fcfg = feed_config(work / "feeds.toml", site, server, args)
        one("feeds cold", fcfg, {"baseline": n}, work / "feeds.db")
        write_site(args, n, 2)
        one(
            "feeds 80% unchanged",
            fcfg,
            {"ok": k, "not-modified": n - k} if k else {"not-modified": n},
            work / "feeds.db",
        )


def run_sweep(
    args: argparse.Namespace, n: int, server: srv.Server, rows: dict[str, Row], env: dict[str, str]
) -> None:
    """Cold and all-304 cycles at each per-host concurrency of --sweep."""
    for conc in args.sweep:
        at = argparse.Namespace(**{**vars(args), "concurrency": conc})
        for r in range(args.runs):
            work = args.out / "runs" / f"sweep-{n}-{conc}-{r}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            site = write_site(args, n, 0)
            cfg = page_config(work / "pages.toml", site, server, at, plain=False)
            for key, wanted in (("cold", {"baseline": n}), ("unchanged 304", {"not-modified": n})):
                name = f"{key}, {conc} per host"
                row = rows.setdefault(f"{name}/{n}", Row(name, n, group="sweep"))
                m, cycle, statuses = monitor_check(cfg, env, args, server)
                row.runs.append(m)
                row.cycles.append(cycle)
                row.statuses.append(statuses)
                expect(row, statuses, wanted)
                print(
                    f"  {name:<26} N={n:<5} run {r + 1}: cycle {cycle.get('cycle_s', 0):5.2f} s"
                    f" ({n / cycle.get('cycle_s', float('inf')):5.0f}/s)",
                    file=sys.stderr,
                )


# -- floors -----------------------------------------------------------------------------------


def floor_lists(args: argparse.Namespace, n: int, server: srv.Server) -> tuple[Path, Path, Path]:
    site = write_site(args, n, 0)
    root = args.out / "site" / str(n)
    lists = args.out / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    urls = lists / f"urls-{n}.txt"
    urls.write_text("\n".join(server.url(f"/{n}{p.path}") for p in site.pages))
    pages = lists / f"pages-{n}.txt"
    pages.write_text("\n".join(str(root / p.path.lstrip("/") / "index.html") for p in site.pages))
    feeds = lists / f"feeds-{n}.txt"
    feeds.write_text("\n".join(str(root / f.path.lstrip("/")) for f in site.feeds))
    return urls, pages, feeds


def floor_run(floor: Floor, argv: list[str], env: dict[str, str], quiet: float) -> None:
    wait_quiet(quiet)
    result = subprocess.run(
        [PY, str(ROOT / "bench" / "floors.py"), *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"floor {floor.name} failed: {result.stderr or result.stdout}")
    floor.seconds.append(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])


def run_floors(
    args: argparse.Namespace,
    n: int,
    server: srv.Server,
    floors: dict[str, Floor],
    env: dict[str, str],
) -> None:
    urls, pages, feeds = floor_lists(args, n, server)
    c = str(args.concurrency)
    plan = {
        f"httpx fetch 200 (c={c})": ["fetch", str(urls), c],
        f"httpx fetch 304 (c={c})": ["fetch", str(urls), c, "--conditional"],
        "selectolax parse + select": ["parse", str(pages)],
        "monitor HTML extractor": ["extract", str(pages)],
        "monitor feed extractor": ["feed", str(feeds)],
    }
    for conc in args.sweep:
        plan[f"httpx fetch 200 (c={conc})"] = ["fetch", str(urls), str(conc)]
        plan[f"httpx fetch 304 (c={conc})"] = ["fetch", str(urls), str(conc), "--conditional"]
    for _ in range(args.runs):
        for name, argv in plan.items():
            floor_run(floors.setdefault(f"{name}/{n}", Floor(name, n)), argv, env, args.quiet_wait)
    ceiling = srv.server_ceiling(
        server.port,
        [u.split(str(server.port), 1)[1] for u in urls.read_text().splitlines()],
        args.concurrency,
    )
    floors.setdefault(
        f"server ceiling (raw socket client, c={c})/{n}",
        Floor(f"server ceiling (raw socket client, c={c})", n),
    ).seconds.append(n / ceiling)


# -- urlwatch ---------------------------------------------------------------------------------


def urlwatch_bin(args: argparse.Namespace) -> Path | None:
    venv = args.out / "urlwatch-venv"
    exe = venv / "bin" / "urlwatch"
    if not exe.exists():
        print("installing urlwatch into", venv, file=sys.stderr)
        steps = [
            ["python3", "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "-q", "urlwatch", "html2text"],
        ]
        for step in steps:
            if subprocess.run(step, capture_output=True, check=False).returncode != 0:
                return None
    return exe if exe.exists() else None


def run_urlwatch(
    args: argparse.Namespace, n: int, server: srv.Server, rows: dict[str, Row]
) -> None:
    exe = urlwatch_bin(args)
    if exe is None:
        print("urlwatch could not be installed; skipped", file=sys.stderr)
        return
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout
    for r in range(args.runs):
        site = write_site(args, n, 0)
        work = args.out / "urlwatch" / f"{n}-{r}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        jobs = [
            f"name: page-{i:05d}\nurl: {server.url(f'/{n}{p.path}')}\nfilter:\n"
            "  - css: .news-item\n  - html2text: pyhtml2text\n"
            for i, p in enumerate(site.pages)
        ]
        (work / "urls.yaml").write_text("---\n".join(jobs))
        (work / "urlwatch.yaml").write_text(
            "report:\n  stdout:\n    enabled: true\n    color: false\n"
        )
        (work / "hooks.py").write_text("")
        cmd = [
            str(exe),
            "--urls",
            str(work / "urls.yaml"),
            "--config",
            str(work / "urlwatch.yaml"),
            "--hooks",
            str(work / "hooks.py"),
            "--cache",
            str(work / "cache.db"),
        ]
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work), "LANG": "C.UTF-8"}
        for key in ("urlwatch cold", "urlwatch all-304"):
            row = rows.setdefault(f"{key}/{n}", Row(key, n, note=version.strip()))
            wait_quiet(args.quiet_wait)
            m = run_measured(
                cmd, env=env, cwd=work, stdout_path=work / f"{key[9:]}.out", server_pid=server.pid
            )
            row.runs.append(m)
            report = (work / f"{key[9:]}.out").read_text(errors="replace")
            errors = report.count("ERROR: page-")
            if m.returncode != 0 or errors:
                row.note = (
                    f"UNEXPECTED exit {m.returncode}, {errors} jobs failed: {m.stderr[-300:]}"
                )
            print(
                f"  {key:<26} N={n:<5} run {r + 1}: process {m.wall:5.2f} s ({n / m.wall:5.0f}/s,"
                f" CPU {m.cpu:5.2f} s), {m.rss_main_mb:3.0f} MB RSS, {m.pss_all_mb:3.0f} MB PSS,"
                f" foreign CPU {m.foreign_cpu:4.2f} s",
                file=sys.stderr,
            )


# -- micro ------------------------------------------------------------------------------------


MICRO: dict[str, Any] = {}


def micro_latency(args: argparse.Namespace, n: int, config: Path) -> None:
    result = subprocess.run(
        [
            PY,
            str(ROOT / "bench" / "micro.py"),
            "latency",
            str(config),
            str(args.seed),
            str(n),
            "1",
            str(args.fraction),
            str(min(30, max(1, round(n * args.fraction)))),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        MICRO[f"latency/{n}"] = {"error": (result.stderr or result.stdout)[-500:]}
    else:
        MICRO[f"latency/{n}"] = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"  fetch-to-enqueue N={n}: {MICRO[f'latency/{n}']}", file=sys.stderr)


def micro_startup(args: argparse.Namespace, env: dict[str, str]) -> None:
    exe = Path(PY).parent / "monitor"
    cmd = [str(exe)] if exe.exists() else [PY, "-m", "monitor"]
    times = []
    for _ in range(args.startup_runs):
        started = time.perf_counter()
        subprocess.run([*cmd, "--help"], capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - started)
    bare = []
    for _ in range(args.startup_runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], capture_output=True, env=env, check=True)
        bare.append(time.perf_counter() - started)
    MICRO["startup"] = {
        "command": " ".join([*cmd, "--help"]),
        "median_ms": median(times) * 1000,
        "python_bare_median_ms": median(bare) * 1000,
        "runs": len(times),
    }
    print(f"  startup: {MICRO['startup']}", file=sys.stderr)


def micro_store(args: argparse.Namespace) -> None:
    values = []
    for _ in range(args.runs):
        result = subprocess.run(
            [
                PY,
                str(ROOT / "bench" / "micro.py"),
                "store",
                str(args.out / "micro-store.db"),
                str(args.items),
                str(min(200, args.items // 50)),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            MICRO["store"] = {"error": result.stderr[-500:]}
            return
        values.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"  diff+commit: {values[-1]}", file=sys.stderr)
    summary = dict(values[-1])
    for key in ("load_ms", "diff_ms", "commit_ms", "total_ms", "total_p95_ms"):
        summary[key] = median([v[key] for v in values])
    summary["runs"] = len(values)
    MICRO["store"] = summary


# -- report -----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model or platform.processor(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }


def report(
    args: argparse.Namespace, server: srv.Server, rows: dict[str, Row], floors: dict[str, Floor]
) -> str:
    info = machine()
    out = [
        f"Machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
        f"SQLite {info['sqlite']}, {info['platform']}",
        f"Server: {server.version} ({server.kind}); {args.concurrency} requests in flight per"
        f" host; median of {args.runs} run(s); seed {args.seed}",
        "",
        "cycle = run_checks alone (fetch, parse, diff, commit); process = the whole"
        " `monitor check` (start-up, config, database, output included).",
        "",
        "| scenario | N | cycle s | cycle CPU s | cycle /s | process s | process CPU s |"
        " process /s | peak RSS MB | peak PSS MB | outcome |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ordered = [r for r in rows.values() if r.group == "main"]
    ordered += [r for r in rows.values() if r.group != "main"]
    for row in ordered:
        if not row.runs:
            continue
        outcome = row.note or (
            ", ".join(f"{v} {k}" for k, v in sorted(row.statuses[0].items()))
            if row.statuses
            else ""
        )
        if row.events and max(row.events):
            outcome += f"; events {int(median(row.events))}, outbox rows {int(median(row.outbox))}"
        if row.busy > 0.1:
            outcome += f"; machine busy up to {row.busy:.0%} with other work"
        cyc = (
            f"{row.cycle('cycle_s'):.2f} | {row.cycle('cycle_cpu_s'):.2f} | {row.cycle_rate:,.0f}"
            if row.cycles
            else "– | – | –"
        )
        out.append(
            f"| {row.scenario} | {row.n} | {cyc} | {row.med('wall'):.2f} | {row.med('cpu'):.2f} |"
            f" {row.rate:,.0f} | {row.med('rss_main_mb'):.0f} | {row.med('pss_all_mb'):.0f} |"
            f" {outcome} |"
        )
    out += [
        "",
        "| floor (timed part only, fresh process) | N | s | per second |",
        "| --- | ---: | ---: | ---: |",
    ]
    for fl in floors.values():
        out.append(f"| {fl.name} | {fl.n} | {median(fl.seconds):.3f} | {fl.rate:,.0f} |")
    out += ["", "Ratios (same run):"]
    for n in args.sizes:
        c = args.concurrency
        fetch = floors.get(f"httpx fetch 200 (c={c})/{n}")
        parse = floors.get(f"selectolax parse + select/{n}")
        if fetch and parse:
            floor = 1 / (1 / fetch.rate + 1 / parse.rate)
            for key in ("cold", "changed"):
                row = rows.get(f"{key}/{n}")
                if row and row.cycles:
                    out.append(
                        f"- N={n} {key}: cycle {row.cycle_rate:,.0f}/s = "
                        f"{row.cycle_rate / floor:.0%} of the one-process fetch+parse floor "
                        f"({floor:,.0f}/s = 1/(1/{fetch.rate:,.0f} + 1/{parse.rate:,.0f}))"
                    )
        for mine, theirs in (("cold", "urlwatch cold"), ("unchanged 304", "urlwatch all-304")):
            a, b = rows.get(f"{mine}/{n}"), rows.get(f"{theirs}/{n}")
            if a and b and a.runs and b.runs:
                out.append(
                    f"- N={n} {mine} vs {theirs}, whole process each: {a.rate:,.0f}/s vs"
                    f" {b.rate:,.0f}/s = {a.rate / b.rate:.1f}x"
                )
    if MICRO:
        out += ["", "Micro:"]
        for key, value in MICRO.items():
            out.append(f"- {key}: {json.dumps(value)}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200,1000", help="comma-separated N (default 200,1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fraction", type=float, default=0.2, help="share of sources mutated")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight (per_host_concurrency)"
    )
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="parse_workers setting (default: auto)"
    )
    parser.add_argument("--server", choices=["auto", "nginx", "python"], default="auto")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install nginx")
    parser.add_argument("--no-urlwatch", action="store_true")
    parser.add_argument("--no-micro", action="store_true")
    parser.add_argument("--no-floors", action="store_true")
    parser.add_argument("--items", type=int, default=1_000_000, help="items for diff+commit")
    parser.add_argument("--startup-runs", type=int, default=21, help="runs of monitor --help")
    parser.add_argument(
        "--sweep",
        default="",
        help="other per-host concurrencies to measure (httpx floors; cold and 304 cycles at"
        " the largest N), e.g. 1,2,8,16",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=30.0,
        help="before each run, wait up to this many seconds for other work to calm down",
    )
    args = parser.parse_args()
    # A TERM (or a Ctrl-C) still stops the server this run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.sweep = [int(s) for s in args.sweep.split(",") if s]
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    args.sink_port = srv.free_port()  # nothing listens: --no-notify, delivery is not measured
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    rows: dict[str, Row] = {}
    floors: dict[str, Floor] = {}
    site_root = args.out / "site"
    site_root.mkdir(parents=True, exist_ok=True)
    with srv.serve(site_root, args.out / "server", args.server, not args.no_install) as server:
        print(f"server: {server.version} on 127.0.0.1:{server.port}", file=sys.stderr)
        for n in args.sizes:
            if not args.no_floors:
                run_floors(args, n, server, floors, env)
            run_scenarios(args, n, server, rows, env)
            if n == max(args.sizes):
                run_sweep(args, n, server, rows, env)
            if not args.no_urlwatch:
                run_urlwatch(args, n, server, rows)
        if not args.no_micro:
            micro_startup(args, env)
            micro_store(args)
        text = report(args, server, rows, floors)
    print(text)
    results = {
        "machine": machine(),
        "server": asdict(server),
        "args": {k: str(v) for k, v in vars(args).items()},
        "rows": {
            k: {
                "wall": [m.wall for m in r.runs],
                "cpu": [m.cpu for m in r.runs],
                "rss_main_mb": [m.rss_main_mb for m in r.runs],
                "pss_all_mb": [m.pss_all_mb for m in r.runs],
                "foreign_cpu": [m.foreign_cpu for m in r.runs],
                "cycles": r.cycles,
                "statuses": r.statuses,
                "events": r.events,
                "outbox": r.outbox,
                "note": r.note,
            }
            for k, r in rows.items()
        },
        "floors": {k: f.seconds for k, f in floors.items()},
        "micro": MICRO,
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    (args.out / "results.md").write_text(text + "\n")
    if any(r.note.startswith("UNEXPECTED") for r in rows.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()

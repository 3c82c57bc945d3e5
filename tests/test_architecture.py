"""House rules that keep the project simple: lazy heavy imports, pure modules without I/O
libraries, and every command documented."""

import json
import subprocess
import sys

import click

from monitor.cli import cli
from tests.conftest import ROOT

HEAVY = ["httpx", "feedparser", "apprise", "pydantic", "sqlite_utils", "apscheduler"]
IO_LIBRARIES = ["httpx", "apprise", "sqlite_utils", "apscheduler"]
PURE = [
    "monitor.models",
    "monitor.pipeline.diff",
    "monitor.alerts.render",
    "monitor.alerts.route",
    "monitor.alerts.clock",
    "monitor.patterns",
    "monitor.extract.html",
    "monitor.extract.feed",
    "monitor.extract.charset",
    "monitor.extract.urls",
]


def loaded_after_import(*modules: str) -> set[str]:
    code = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_cli_imports_no_heavy_library_before_a_command_runs():
    loaded = loaded_after_import("monitor.cli")
    assert [name for name in HEAVY if name in loaded] == []


def test_pure_modules_import_no_io_library():
    loaded = loaded_after_import(*PURE)
    assert [name for name in IO_LIBRARIES if name in loaded] == []


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += all_commands(command, full + " ")
    return found


def test_every_command_has_an_example_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing_example = [n for n, c in all_commands(cli) if "Example:" not in (c.help or "")]
    missing_docs = [n for n, _ in all_commands(cli) if f"monitor {n}" not in readme]
    assert (missing_example, missing_docs) == ([], [])

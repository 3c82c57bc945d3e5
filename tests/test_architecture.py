"""House rules that keep the project simple: lazy heavy imports, pure modules without I/O
libraries, a public API that loads no I/O library, faces that reach the pipeline through
the application, and every command documented."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import click

from monitor.cli import cli
from tests.conftest import ROOT

HEAVY = ["httpx", "feedparser", "apprise", "pydantic", "sqlite_utils", "apscheduler"]
IO_LIBRARIES = ["httpx", "apprise", "sqlite_utils", "apscheduler"]
# Every module of extract/ is pure, whatever is added there later.
PURE = [
    "monitor.models",
    "monitor.pipeline.diff",
    "monitor.alerts.render",
    "monitor.alerts.route",
    "monitor.alerts.clock",
    "monitor.daemon.adaptive",
    "monitor.daemon.schedule",
    "monitor.patterns",
    "monitor.extract",
    *sorted(
        f"monitor.extract.{path.stem}"
        for path in (ROOT / "monitor" / "extract").glob("*.py")
        if path.stem != "__init__"
    ),
]
# What `import monitor` must not load: the public API is cheap to import.
NOT_FOR_THE_API = ["httpx", "apprise", "apscheduler"]
PACKAGE = ROOT / "monitor"


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


def test_monitor_help_and_every_command_help_load_no_heavy_library():
    code = (
        "import json, sys\n"
        "from monitor.cli import cli\n"
        "def run(args):\n"
        "    try:\n"
        "        cli.main(args=args, prog_name='monitor')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "run(['--help'])\n"
        "for name, command in cli.commands.items():\n"
        "    run([name, '--help'])\n"
        "    for sub in getattr(command, 'commands', {}):\n"
        "        run([name, sub, '--help'])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert [name for name in HEAVY if name in loaded] == []


def test_the_public_api_imports_no_http_alerting_or_scheduling_library():
    import monitor

    for statement in ("monitor", "monitor.app"):
        loaded = loaded_after_import(statement)
        assert [name for name in NOT_FOR_THE_API if name in loaded] == [], statement
    code = (
        "import json, sys\n"
        "from monitor import *\n"
        "from monitor import Monitor\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert [name for name in NOT_FOR_THE_API if name in set(json.loads(out))] == []
    # Every public name resolves, with a docstring.
    assert [n for n in monitor.__all__ if not getattr(monitor, n).__doc__] == []


def imports_of(path: Path, *, top_level_only: bool = False) -> list[str]:
    """The modules a file imports (relative imports resolved to monitor.*)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def face_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


def test_the_demo_does_not_import_the_cli_and_the_cli_loads_the_demo_only_to_run_it():
    demo_imports = [
        (p.name, m)
        for p in face_files("demo")
        for m in imports_of(p)
        if m.startswith("monitor.cli")
    ]
    cli_top_level = [
        (p.name, m)
        for p in face_files("cli")
        for m in imports_of(p, top_level_only=True)
        if m.startswith("monitor.demo")
    ]
    assert (demo_imports, cli_top_level) == ([], [])
    assert "monitor.demo" not in loaded_after_import("monitor.cli")


def test_faces_reach_fetch_store_and_pool_only_through_the_application():
    private = ("monitor.pipeline.fetch", "monitor.pipeline.store", "monitor.pipeline.pool")
    direct = [
        (str(p.relative_to(PACKAGE)), m)
        for p in face_files("cli", "daemon", "demo")
        for m in imports_of(p)
        if m.startswith(private)
    ]
    assert direct == []

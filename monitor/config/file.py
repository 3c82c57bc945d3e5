"""Edit the config file as a person would: add or remove a source, set keys of a source's
rule, keep everything else.

The user's comments, order and formatting are kept byte for byte: a new source is
inserted as text after the last ``[[sources]]`` table (before the comments that lead into
whatever follows), and a removed one is cut out with the comment lines attached to its
header. Only a channel's ``sources`` list is rewritten (by tomlkit, which keeps the rest of
the line). Every edit is validated as a whole config before anything is written, and the
file is replaced atomically, so a rejected edit leaves it byte-identical.

`starter_config` is the text `monitor init` writes: the commented example shipped with
the package (``monitor/config/templates/monitor.example.toml``; ``config/monitor.example.toml`` is
a link to it).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.models import ConfigError, Rule, Settings

TEMPLATE = "monitor.example.toml"
DEFAULT_PROFILE = "pozirk"

_SOURCES_HEADER = re.compile(r"^\s*\[\[\s*sources\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"""^\s*\[\[?\s*[\w."' -]+?\s*\]\]?\s*(#.*)?$""")
_SOURCE_SUBTABLE = re.compile(r"^\s*\[\s*sources\s*\.")
_COMMENT_OR_BLANK = re.compile(r"^\s*(#.*)?$")


class _AssumeSet(dict[str, str]):
    """An environment in which every ${VAR} is set (to its value, or a stand-in)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return "set"


def check_text(text: str, file: str, environ: Mapping[str, str] | None = None) -> Settings:
    """Validate a whole config text as the daemon would; raises ConfigError (file, line,
    key, reason)."""
    from monitor.config.settings import parse_settings

    return parse_settings(text, file, environ=dict(os.environ if environ is None else environ))


def lenient_settings(text: str, file: str, environ: Mapping[str, str] | None = None) -> Settings:
    """The config as a shell that lacks the daemon's secrets can read it: a ${VAR} that is
    not set counts as set, and channel URLs are not handed to Apprise. Everything else is
    checked as usual; raises ConfigError."""
    import tomlkit

    from monitor.config.settings import parse_settings

    try:
        return check_text(text, file, environ)
    except ConfigError as exc:
        first = exc
    try:
        doc = tomlkit.parse(text)
    except Exception:
        raise first from None
    channels: Any = doc.get("channels") or {}
    for table in channels.values() if isinstance(channels, dict) else ():
        if isinstance(table, dict) and table.get("urls") is not None:
            table["urls"] = ["json://localhost/"] * max(1, len(table["urls"]))
    env = _AssumeSet(os.environ if environ is None else environ)
    return parse_settings(tomlkit.dumps(doc), file, environ=env)


def check_edit(
    before: str, after: str, file: str, environ: Mapping[str, str] | None = None
) -> tuple[Settings, str | None]:
    """Validate an edited config. A problem the file had before the edit too (a secret
    this shell lacks, a channel URL it cannot check) does not block the edit: the edited
    text is then read leniently, and the note says what could not be checked here.
    Raises ConfigError for anything the edit broke."""
    try:
        return check_text(after, file, environ), None
    except ConfigError as exc:
        new = exc
    try:
        check_text(before, file, environ)
    except ConfigError as old:
        if (old.key, old.reason) == (new.key, new.reason):
            settings = lenient_settings(after, file, environ)
            return settings, f"not checked here, as before this edit: {new}"
    raise new


# -- reading the layout -----------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _table_starts(lines: list[str]) -> list[tuple[int, bool]]:
    """(line index, is a [[sources]] header) of each table header outside strings."""
    found: list[tuple[int, bool]] = []
    in_string: str | None = None
    for index, line in enumerate(lines):
        if in_string is None and _ANY_HEADER.match(line):
            found.append((index, bool(_SOURCES_HEADER.match(line))))
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1 and in_string in (None, quote):
                in_string = None if in_string == quote else quote
    return found


def _source_spans(lines: list[str]) -> list[tuple[int, int]]:
    """(first line, end line) of each [[sources]] table with its sub-tables
    ([sources.rule] ...); the end stops before comment lines leading into what follows."""
    starts = _table_starts(lines)
    spans = []
    for n, (index, is_source) in enumerate(starts):
        if not is_source:
            continue
        end = len(lines)
        for later, later_is_source in starts[n + 1 :]:
            if later_is_source or not _SOURCE_SUBTABLE.match(lines[later]):
                end = later
                break
        while end > index + 1 and _COMMENT_OR_BLANK.match(lines[end - 1]):
            end -= 1
        spans.append((index, end))
    return spans


def _leading_comments(lines: list[str], index: int) -> int:
    """First line of the comment block directly above line `index` (no blank between)."""
    start = index
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start


# -- editing ----------------------------------------------------------------------------------


def render_source(table: Mapping[str, Any], comment: str | None = None) -> str:
    """A [[sources]] table (and its [sources.rule]) as TOML text, with a comment above."""
    import tomlkit

    doc = tomlkit.document()
    aot = tomlkit.aot()
    item = tomlkit.table()
    for key, value in table.items():
        if not isinstance(value, Mapping):
            item.add(key, value)
    for key, value in table.items():
        if isinstance(value, Mapping):
            sub = tomlkit.table()
            for k, v in value.items():
                sub.add(k, v)
            item.add(key, sub)
    aot.append(item)
    doc.add("sources", aot)
    body = tomlkit.dumps(doc).strip("\n") + "\n"
    head = "".join(f"# {line}\n" if line else "#\n" for line in (comment or "").splitlines())
    return head + body


def add_source(text: str, table: Mapping[str, Any], comment: str | None = None) -> str:
    """`text` with a new [[sources]] table after the last one (or before the first other
    table, or at the end); every original line is kept, in order."""
    lines = _lines(text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    spans = _source_spans(lines)
    if spans:
        at = spans[-1][1]
    else:
        others = [index for index, _ in _table_starts(lines)]
        at = _leading_comments(lines, others[0]) if others else len(lines)
        while at > 0 and not lines[at - 1].strip():
            at -= 1
    block = render_source(table, comment)
    before = "" if at == 0 else "\n"
    after = "\n" if at < len(lines) and lines[at].strip() else ""
    return "".join(lines[:at]) + before + block + after + "".join(lines[at:])


def remove_source(text: str, index: int) -> str:
    """`text` without the `index`-th [[sources]] table and the comments on its header."""
    lines = _lines(text)
    spans = _source_spans(lines)
    if not 0 <= index < len(spans):
        raise IndexError(index)
    start, end = spans[index]
    start = _leading_comments(lines, start)
    # One of the blank lines around the cut goes too.
    if end < len(lines) and not lines[end].strip():
        end += 1
    elif start > 0 and not lines[start - 1].strip():
        start -= 1
    return "".join(lines[:start] + lines[end:])


def channel_sources(
    text: str, channel: str, add: str | None = None, drop: str | None = None
) -> str:
    """`text` with `add` appended to (or `drop` taken out of) channels.CHANNEL.sources.

    A channel without a `sources` list already takes every source: adding is a no-op.
    """
    import tomlkit

    doc = tomlkit.parse(text)
    channels = doc.get("channels")
    if channels is None or channel not in channels:
        raise KeyError(channel)
    table = channels[channel]
    if "sources" not in table:
        return text
    names = table["sources"]
    if add is not None and add not in names:
        names.append(add)
    if drop is not None and drop in names:
        names.remove(drop)
    return tomlkit.dumps(doc)


_RULE_HEADER = re.compile(r"^\s*\[\s*sources\s*\.\s*rule\s*\]\s*(#.*)?$")
_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")
# `rule = { ... }` or `rule.item = ...` in the [[sources]] table itself.
_INLINE_RULE = re.compile(r"^\s*rule\s*[.=]")


def set_source_rule(
    text: str, index: int, values: Mapping[str, Any], drop: tuple[str, ...] = ()
) -> str:
    """`text` with keys of the `index`-th source's [sources.rule] set to `values` and the
    keys in `drop` taken out; every other line is kept as it was. A source without a
    [sources.rule] table gets one at its end; a rule written another way (an inline
    table, dotted keys) is edited by tomlkit."""
    lines = _lines(text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    spans = _source_spans(lines)
    if not 0 <= index < len(spans):
        raise IndexError(index)
    start, end = spans[index]
    header = next((n for n in range(start, end) if _RULE_HEADER.match(lines[n])), None)
    if header is None:
        if any(_INLINE_RULE.match(line) for line in lines[start:end]):
            return _set_rule_with_tomlkit(text, index, values, drop)
        block = "\n[sources.rule]\n" + "".join(
            _key_text(key, value) for key, value in values.items()
        )
        return "".join(lines[:end]) + block + "".join(lines[end:])
    # The table's lines run to the next header within the source (or its end).
    table_end = next((n for n in range(header + 1, end) if _ANY_HEADER.match(lines[n])), end)
    todo = dict(values)
    out = lines[: header + 1]
    n = header + 1
    last_key_line = len(out)
    while n < table_end:
        match = _KEY_LINE.match(lines[n])
        if not match:
            out.append(lines[n])
            n += 1
            continue
        key = match.group(1)
        stop = _value_end(lines, n, table_end)
        if key in todo:
            out.append(_key_text(key, todo.pop(key), _trailing_comment(lines[stop - 1])))
        elif key not in drop:
            out.extend(lines[n:stop])
        n = stop
        last_key_line = len(out)
    out[last_key_line:last_key_line] = [_key_text(k, v) for k, v in todo.items()]
    return "".join(out + lines[table_end:])


def _value_end(lines: list[str], first: int, limit: int) -> int:
    """The line after the last one of the key/value pair starting at `first` (a value may
    span lines: an array, a multi-line string)."""
    import tomllib

    for stop in range(first + 1, limit + 1):
        try:
            tomllib.loads("".join(lines[first:stop]))
        except tomllib.TOMLDecodeError:
            continue
        return stop
    return first + 1


def _trailing_comment(line: str) -> str:
    """The comment at the end of a one-line key/value pair ('' when none)."""
    import tomllib

    body = line.rstrip("\n")
    for at in [i for i, ch in enumerate(body) if ch == "#"]:
        try:
            tomllib.loads(body[:at])
        except tomllib.TOMLDecodeError:
            continue
        return "  " + body[at:].strip()
    return ""


def _key_text(key: str, value: Any, comment: str = "") -> str:
    import tomlkit

    return f"{key} = {tomlkit.item(value).as_string()}{comment}\n"


def _set_rule_with_tomlkit(
    text: str, index: int, values: Mapping[str, Any], drop: tuple[str, ...]
) -> str:
    import tomlkit

    doc = tomlkit.parse(text)
    rule = doc["sources"][index]["rule"]  # type: ignore[index]
    for key in drop:
        if key in rule:
            del rule[key]
    for key, value in values.items():
        rule[key] = value
    return tomlkit.dumps(doc)


# -- writing ----------------------------------------------------------------------------------


def write_atomically(path: str | Path, text: str) -> None:
    """Replace the file with `text`: a temporary file in the same directory, fsync'd, then
    renamed over it, so a reader (or a crash) sees the old file or the new one, never half.
    The file's permission bits are kept. A symlink is written through: its target gets
    the new text and the link stays a link."""
    target = Path(os.path.realpath(path))
    folder = target.parent if str(target.parent) else Path(".")
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_source_rule(
    path: str | Path,
    name: str,
    values: Mapping[str, Any],
    drop: tuple[str, ...] = (),
    *,
    expect: Rule | None = None,
) -> tuple[Settings, str | None]:
    """Set keys of source `name`'s rule in the config file at `path` (see
    `set_source_rule`), validated as a whole config and written atomically; when `expect`
    is given, the edited file must read the source's rule as exactly that. Returns the new
    settings and a note on what could not be checked here. Raises ConfigError (the file is
    then unchanged)."""
    file = str(path)
    before = Path(path).read_text(encoding="utf-8")
    settings = lenient_settings(before, file)
    names = [s.name for s in settings.sources]
    if name not in names:
        raise ConfigError(file, "sources", f"no source named {name!r}")
    after = set_source_rule(before, names.index(name), values, drop)
    new, note = check_edit(before, after, file)
    source = new.source(name)
    if expect is not None and (source is None or source.rule != expect):
        raise ConfigError(file, "sources", f"the edit would not read {name!r} as proposed")
    if after != before:
        write_atomically(path, after)
    return new, note


# -- monitor init -----------------------------------------------------------------------------


def template_text() -> str:
    """The commented example config shipped with the package."""
    return (
        resources.files("monitor.config")
        .joinpath("templates", TEMPLATE)
        .read_text(encoding="utf-8")
    )


def starter_config(profile: str = DEFAULT_PROFILE) -> str:
    """The example config, its first source using `profile` (a built-in profile name)."""
    from monitor.config.profiles import load_profile

    load_profile(profile)  # raises UnknownProfileError naming the profiles there are
    text = template_text()
    if profile == DEFAULT_PROFILE:
        return text
    import tomlkit

    doc = tomlkit.parse(text)
    first = doc["sources"][0]
    first["profile"] = profile
    first["name"] = f"{profile}-example"
    first["url"].comment("the section page or feed of the site to watch")
    return tomlkit.dumps(doc)

"""Hostile config: a catastrophic regex, templates reaching for Python internals.

A user's `re:` keyword filter and a rule's `id_pattern` run on text a web page controls;
both are RE2 (linear time), so `(a+)+$` cannot stall the daemon. Templates run in Jinja2's
SandboxedEnvironment; anything that reaches for internals is refused when the config is read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts.route import ChannelFilter
from monitor.config.settings import load_settings
from monitor.extract.html import extract_html
from monitor.models import Channel, ConfigError, Event, Item, Rule

EVIL = "re:(a+)+$"
# Python's re needs about 2^n steps for n "a"s and a mismatching end; RE2 needs n.
HOSTILE_TEXT = "a" * 100_000 + "!"


def finishes(call: Callable[[], Any], within: float = 60.0) -> Any:
    """Run `call` in a thread; fail (instead of hanging the suite) if it does not return.
    The bound is a safety net, not a measurement: RE2 returns in milliseconds."""
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", call()), daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), "stalled: catastrophic backtracking"
    return result["value"]


def event(title: str) -> Event:
    item = Item(key=title[:20], url="https://example.org/a", title=title)
    return Event(kind="new", source="s", at="2026-11-24T10:00:00+00:00", item=item)


def test_a_catastrophic_include_pattern_is_re2_and_linear():
    channel = Channel(name="c", urls=("json://127.0.0.1:9/",), include=(EVIL,))
    accept = ChannelFilter.of(channel)
    assert type(accept.include.patterns[0]).__module__.startswith("re2")
    assert finishes(lambda: accept.accepts(event(HOSTILE_TEXT))) is False
    assert finishes(lambda: accept.accepts(event("aaaa"))) is True


def test_a_catastrophic_id_pattern_cannot_stall_extraction():
    page = f'<ul><li class="item"><a href="/{"a" * 50_000}!">Hostile link</a></li></ul>'
    rule = Rule(item="li.item", id_pattern="(a+)+$")
    items = finishes(lambda: extract_html(page.encode(), "https://example.org/", rule))
    assert [i.title for i in items] == ["Hostile link"]
    # No match: the canonical URL is the key.
    assert items[0].key == f"https://example.org/{'a' * 50_000}!"


def config_with(tmp_path: Path, channel: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(
        'database = "state.db"\n'
        '[[sources]]\nname = "s"\nurl = "https://example.org/"\n'
        '[sources.rule]\nitem = "li"\n'
        f'[channels.c]\nurls = ["json://127.0.0.1:9/"]\n{channel}',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "pattern",
    ["include = ['re:(a)\\1']", "exclude = ['re:(?<=x)y']"],
)
def test_patterns_re2_cannot_run_are_refused_when_the_config_is_read(tmp_path: Path, pattern):
    with pytest.raises(ConfigError, match="invalid regular expression"):
        load_settings(config_with(tmp_path, pattern + "\n"))


def test_an_id_pattern_re2_cannot_run_is_refused_when_the_config_is_read(tmp_path: Path):
    path = tmp_path / "monitor.toml"
    path.write_text(
        '[[sources]]\nurl = "https://example.org/"\n'
        '[sources.rule]\nitem = "li"\nid_pattern = "(\\\\d+)-\\\\1"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"sources\[0\]\.rule\.id_pattern: invalid regular"):
        load_settings(path)


HOSTILE_TEMPLATES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ title.__class__.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ title|attr('__class__') }}",
    "{% set n = '_' ~ '_class__' %}{{ title|attr(n) }}",
    "{% set n = '_' ~ '_class__' %}{{ title[n] }}",
    "{{ self._TemplateReference__context }}",
    "{{ '{0.__class__}'.format(title) }}",
    "{{ namespace.__init__ }}",
    "{{ config }}",
    "{{ range(10**9)|list|length }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
]


@pytest.mark.parametrize("template", HOSTILE_TEMPLATES)
def test_a_template_reaching_for_internals_is_refused(tmp_path: Path, template: str):
    config = config_with(tmp_path, f"template = {template!r}\n".replace("\\\\", "\\"))
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert info.value.key == "channels.c.template"
    assert info.value.reason.startswith(("template ", "template syntax error")), info.value.reason


def test_a_harmless_template_is_accepted(tmp_path: Path):
    settings = load_settings(config_with(tmp_path, "template = '{{ mark }} {{ title }}'\n"))
    assert settings.channels[0].template == "{{ mark }} {{ title }}"

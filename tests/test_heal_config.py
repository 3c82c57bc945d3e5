"""Writing a fixed rule into the config file: the rule's keys change, every other line
stays as it was, and the edit is refused (file unchanged) when it would not read as
proposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.file import set_source_rule, write_source_rule
from monitor.models import ConfigError, Rule

CONFIG = """\
# Watched pages
database = "state.db"

[[sources]]
name = "first"
url = "https://example.org/news/"
[sources.rule]
item = "article.teaser"   # blocks
paywall_text = [
    "Abo",      # the badge
    "Plus",
]
section = ".kicker"
id_pattern = "-(\\\\d+)/$"

# The second one
[[sources]]
name = "second"
url = "https://example.org/sport/"
profile = "pozirk"

[channels.me]
urls = ["json://localhost/"]
"""


def test_set_source_rule_changes_only_the_rule_keys_and_keeps_comments():
    after = set_source_rule(
        CONFIG,
        0,
        {"item": "div.card", "paywall_selector": ".badge-premium"},
        drop=("paywall_text", "section"),
    )
    assert after == CONFIG.replace(
        'item = "article.teaser"   # blocks\n'
        "paywall_text = [\n"
        '    "Abo",      # the badge\n'
        '    "Plus",\n'
        "]\n"
        'section = ".kicker"\n'
        'id_pattern = "-(\\\\d+)/$"\n',
        'item = "div.card"  # blocks\n'
        'id_pattern = "-(\\\\d+)/$"\n'
        'paywall_selector = ".badge-premium"\n',
    )


def test_a_source_without_a_rule_table_gets_one_at_its_end():
    after = set_source_rule(CONFIG, 1, {"item": "li.story"})
    assert after == CONFIG.replace(
        'profile = "pozirk"\n', 'profile = "pozirk"\n\n[sources.rule]\nitem = "li.story"\n'
    )


def test_an_inline_rule_table_is_edited_in_place():
    import tomllib

    text = (
        'database = "x.db"\n\n[[sources]]\nname = "a"\nurl = "https://e.org/"\n'
        'rule = { item = "li", section = ".k" }  # old\n'
    )
    after = set_source_rule(text, 0, {"item": "article"}, drop=("section",))
    assert after.splitlines()[:5] == text.splitlines()[:5]
    assert after.splitlines()[5].endswith("}  # old")
    assert tomllib.loads(after)["sources"][0]["rule"] == {"item": "article"}


def test_write_source_rule_refuses_an_edit_that_would_not_read_as_proposed(tmp_path: Path):
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG, encoding="utf-8")
    expected = Rule(item="div.card", paywall_text=("Abo", "Plus"), section=".kicker")
    with pytest.raises(ConfigError, match="would not read 'first' as proposed"):
        write_source_rule(path, "first", {"item": "div.card"}, expect=expected)
    assert path.read_text(encoding="utf-8") == CONFIG


def test_write_source_rule_refuses_an_invalid_selector_and_leaves_the_file(tmp_path: Path):
    path = tmp_path / "monitor.toml"
    path.write_text(CONFIG, encoding="utf-8")
    with pytest.raises(ConfigError, match="item"):
        write_source_rule(path, "first", {"item": "div[["})
    assert path.read_text(encoding="utf-8") == CONFIG

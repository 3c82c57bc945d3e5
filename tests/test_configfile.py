"""Config edits as text: what is added or cut, and that nothing else moves."""

from __future__ import annotations

import tomllib

import pytest

from monitor.config.file import (
    add_source,
    channel_sources,
    check_edit,
    check_text,
    lenient_settings,
    remove_source,
    render_source,
)
from monitor.models import ConfigError

CONFIG = """\
# top
database = "m.db"

# The first source.
[[sources]]
name = "a"   # inline comment
url = "https://a.org/x"
[sources.rule]
item = "article"
paywall_text = \"\"\"
[[sources]] in a string is not a table
\"\"\"

# The second source, a feed.
[[sources]]
name = "b"
url = "https://b.org/feed"
kind = "feed"

# Alerts.
[channels.tg]
urls = ["json://127.0.0.1/hook"]   # local
sources = ["a", "b"]
# trailing comment
"""


def test_a_new_source_goes_after_the_last_one_and_before_the_next_comments() -> None:
    edited = add_source(CONFIG, {"name": "c", "url": "https://c.org/"}, "Added by hand.")
    assert edited == CONFIG.replace(
        "\n# Alerts.\n",
        '\n# Added by hand.\n[[sources]]\nname = "c"\nurl = "https://c.org/"\n\n# Alerts.\n',
    )
    assert [s["name"] for s in tomllib.loads(edited)["sources"]] == ["a", "b", "c"]


def test_a_first_source_goes_before_the_first_table_and_its_comments() -> None:
    text = 'database = "m.db"\n\n# Alerts.\n[channels.tg]\nurls = ["tgram://x/y"]\n'
    edited = add_source(text, {"name": "c", "url": "https://c.org/", "rule": {"item": "li"}})
    assert edited == (
        'database = "m.db"\n\n[[sources]]\nname = "c"\nurl = "https://c.org/"\n\n'
        '[sources.rule]\nitem = "li"\n\n# Alerts.\n[channels.tg]\nurls = ["tgram://x/y"]\n'
    )


def test_a_file_without_a_final_newline() -> None:
    edited = add_source('database = "m.db"', {"name": "c", "url": "https://c.org/"})
    assert edited == 'database = "m.db"\n\n[[sources]]\nname = "c"\nurl = "https://c.org/"\n'


def test_removing_a_source_takes_its_comments_and_leaves_the_rest() -> None:
    first = remove_source(CONFIG, 0)
    assert first == CONFIG.split("# The first source.\n")[0] + CONFIG.split("\n\n", 2)[2]
    assert "# The second source, a feed." in first
    second = remove_source(CONFIG, 1)
    assert "# The second source" not in second
    assert second.endswith(
        '\n"""\n\n# Alerts.\n[channels.tg]\nurls = ["json://127.0.0.1/hook"]   # local\n'
        'sources = ["a", "b"]\n# trailing comment\n'
    )
    with pytest.raises(IndexError):
        remove_source(CONFIG, 2)


def test_channel_lists_keep_their_line_layout() -> None:
    added = channel_sources(CONFIG, "tg", add="c")
    assert added == CONFIG.replace('sources = ["a", "b"]', 'sources = ["a", "b", "c"]')
    dropped = channel_sources(CONFIG, "tg", drop="a")
    assert dropped == CONFIG.replace('sources = ["a", "b"]', 'sources = ["b"]')
    every = CONFIG.replace('sources = ["a", "b"]\n', "")
    assert channel_sources(every, "tg", add="c") == every
    with pytest.raises(KeyError):
        channel_sources(CONFIG, "nosuch", add="c")


def test_a_secret_this_shell_lacks_does_not_block_an_edit() -> None:
    before = CONFIG.replace("json://127.0.0.1/hook", "tgram://${BOT_TOKEN}/-100123")
    after = add_source(before, {"name": "c", "url": "https://c.org/", "kind": "feed"})
    with pytest.raises(ConfigError, match="environment variable BOT_TOKEN is not set"):
        check_text(after, "m.toml", environ={})
    settings, note = check_edit(before, after, "m.toml", environ={})
    assert [s.name for s in settings.sources] == ["a", "b", "c"]
    assert note is not None
    assert note.startswith("not checked here, as before this edit: m.toml:")
    assert lenient_settings(before, "m.toml", environ={}).channels[0].sources == ("a", "b")
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    assert check_edit(before, after, "m.toml", environ={"BOT_TOKEN": token})[1] is None


def test_an_edit_that_breaks_the_config_is_refused() -> None:
    after = add_source(CONFIG, {"name": "a", "url": "https://c.org/", "kind": "feed"})
    with pytest.raises(ConfigError, match="duplicate source name 'a'"):
        check_edit(CONFIG, after, "m.toml", environ={})


def test_rendered_values_are_quoted_for_toml() -> None:
    block = render_source({"name": "q", "url": "https://q.org/", "rule": {"item": 'a[x="1"]'}})
    assert tomllib.loads(block)["sources"][0]["rule"]["item"] == 'a[x="1"]'

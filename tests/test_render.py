"""Rendering: the exact text each format shows, limits, and user templates."""

from __future__ import annotations

import pytest

from monitor.alerts.render import TemplateError, check_template, render
from monitor.models import Change, Event, Item, Message

AT = "2026-11-24T10:00:00+00:00"
IRAN = Item(
    key="https://pozirk.online/en/news/iran/",
    url="https://pozirk.online/en/news/iran/",
    title="Iran’s president to visit Minsk <next> week & more",
    section="Politics",
    paywalled=True,
)
NEW = Event("new", "pozirk-politics", AT, IRAN)
RETITLED = Event(
    "changed",
    "pozirk-politics",
    AT,
    Item(
        key="k",
        url="https://pozirk.online/en/news/2/",
        title="Reprisals: 40 targeted",
        section="Politics",
    ),
    (Change("title", "Reprisals: 30 targeted", "Reprisals: 40 targeted"),),
)
NOW_FREE = Event(
    "changed",
    "pozirk-politics",
    AT,
    Item(
        key="k",
        url="https://pozirk.online/en/news/3/",
        title="Envoy details call",
        section="Security",
    ),
    (Change("paywalled", True, False), Change("section", "Politics", "Security")),
)
NOW_PAID = Event(
    "changed",
    "pozirk-politics",
    AT,
    Item(key="k", url="https://pozirk.online/en/news/4/", title="Pundit", paywalled=True),
    (Change("paywalled", False, True),),
)
REMOVED = Event(
    "removed",
    "pozirk-politics",
    AT,
    Item(key="k", url="https://pozirk.online/en/news/5/", title="Gone"),
)
HEALTH = Event("health", "pozirk-politics", AT, detail="no items found (the last poll listed 40)")


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (
            NEW,
            "🔒 <b>Iran’s president to visit Minsk &lt;next&gt; week &amp; more</b>\n"
            "<i>Politics</i> · pozirk-politics\n"
            "https://pozirk.online/en/news/iran/",
        ),
        (
            RETITLED,
            "✏️ <b>Reprisals: 40 targeted</b>\n"
            "<i>Politics</i> · pozirk-politics\n"
            "headline changed from «Reprisals: 30 targeted» to «Reprisals: 40 targeted»\n"
            "https://pozirk.online/en/news/2/",
        ),
        (
            NOW_FREE,
            "✏️ <b>Envoy details call</b>\n"
            "<i>Security</i> · pozirk-politics\n"
            "now free; moved from section Politics to Security\n"
            "https://pozirk.online/en/news/3/",
        ),
        (
            NOW_PAID,
            "✏️ 🔒 <b>Pundit</b>\npozirk-politics\nnow paywalled\nhttps://pozirk.online/en/news/4/",
        ),
        (REMOVED, "🗑 <b>Gone</b>\npozirk-politics\nremoved\nhttps://pozirk.online/en/news/5/"),
        (HEALTH, "⚠️ <b>pozirk-politics</b>: no items found (the last poll listed 40)"),
    ],
)
def test_telegram_html_of_each_event(event: Event, text: str) -> None:
    assert render([event], "telegram-html") == [
        Message(title="", body=text, format="html", count=1)
    ]


def test_telegram_batch_starts_with_a_summary() -> None:
    [message] = render([NEW, REMOVED], "telegram-html")
    assert message.count == 2
    assert message.body == (
        "<b>1 new item, 1 removed item: pozirk-politics</b>\n\n"
        "🔒 <b>Iran’s president to visit Minsk &lt;next&gt; week &amp; more</b>\n"
        "<i>Politics</i> · pozirk-politics\n"
        "https://pozirk.online/en/news/iran/\n\n"
        "🗑 <b>Gone</b>\npozirk-politics\nremoved\nhttps://pozirk.online/en/news/5/"
    )


def numbered(n: int, title_length: int = 120) -> list[Event]:
    return [
        Event(
            "new",
            "pozirk-politics",
            AT,
            Item(
                key=str(i),
                url=f"https://pozirk.online/en/news/{i}/",
                title=f"#{i} " + "x" * title_length,
                section="Politics",
            ),
        )
        for i in range(n)
    ]


def test_long_batch_splits_between_items_never_inside_one() -> None:
    events = numbered(100)
    messages = render(events, "telegram-html")
    assert len(messages) > 1
    assert all(len(m.body) <= 4096 for m in messages)
    assert sum(m.count for m in messages) == 100
    # Every item is whole, in order, in exactly one message.
    seen = []
    for message in messages:
        blocks = message.body.split("\n\n")
        if message.count > 1:
            blocks = blocks[1:]  # the summary line
        assert len(blocks) == message.count
        for block in blocks:
            number = int(block.split("#", 1)[1].split(" ", 1)[0])
            assert block == render([events[number]], "telegram-html")[0].body
            seen.append(number)
    assert seen == list(range(100))


def test_single_over_long_item_gets_its_title_shortened() -> None:
    [event] = numbered(1, title_length=10_000)
    [message] = render([event], "telegram-html")
    assert len(message.body) == 4096
    head, section, url = message.body.split("\n")
    assert head.startswith("<b>#0 xxx") and head.endswith("x…</b>")
    assert section == "<i>Politics</i> · pozirk-politics"
    assert url == "https://pozirk.online/en/news/0/"


def test_email_subject_html_and_split_subjects() -> None:
    [message] = render([NEW, RETITLED, REMOVED], "html")
    assert (
        message.title
        == "[news-monitor] 1 new item, 1 changed item, 1 removed item: pozirk-politics"
    )
    assert message.format == "html"
    assert message.body.startswith(
        '<p>🔒 <b><a href="https://pozirk.online/en/news/iran/">'
        "Iran’s president to visit Minsk &lt;next&gt; week &amp; more</a></b><br>"
        "Politics · pozirk-politics<br>"
        '<a href="https://pozirk.online/en/news/iran/">https://pozirk.online/en/news/iran/</a></p>'
    )
    three = render(numbered(3), "html")
    assert [m.title for m in three] == ["[news-monitor] 3 new items: pozirk-politics"]
    split = render(numbered(3), "html", limit=500)
    assert [m.title for m in split] == [
        "[news-monitor] 1 new item: pozirk-politics (1/3)",
        "[news-monitor] 1 new item: pozirk-politics (2/3)",
        "[news-monitor] 1 new item: pozirk-politics (3/3)",
    ]


def test_plain_text_and_markdown() -> None:
    [text] = render([NEW], "text")
    assert text.title == "[news-monitor] 1 new item: pozirk-politics"
    assert text.body == (
        "🔒 Iran’s president to visit Minsk <next> week & more\n"
        "Politics · pozirk-politics\n"
        "https://pozirk.online/en/news/iran/"
    )
    [markdown] = render([NEW], "markdown")
    assert markdown.body == (
        "🔒 **Iran’s president to visit Minsk \\<next\\> week & more**\n"
        "_Politics_ · pozirk-politics\n"
        "<https://pozirk.online/en/news/iran/>"
    )


def test_user_template_is_escaped_for_html() -> None:
    template = (
        '{{ lock }} <a href="{{ url }}">{{ title }}</a>{% if change %} ({{ change }}){% endif %}'
    )
    [message] = render([NEW, RETITLED], "telegram-html", template=template)
    assert message.body == (
        "<b>1 new item, 1 changed item: pozirk-politics</b>\n\n"
        '🔒 <a href="https://pozirk.online/en/news/iran/">'
        "Iran’s president to visit Minsk &lt;next&gt; week &amp; more</a>\n\n"
        '<a href="https://pozirk.online/en/news/2/">Reprisals: 40 targeted</a>'
        " (headline changed from «Reprisals: 30 targeted» to «Reprisals: 40 targeted»)"
    )


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{% if false %}{{ title.__class__ }}{% endif %}",
        "{{ title['__class__'] }}",
        "{{ title|attr('__class__') }}",
    ],
)
def test_template_reaching_for_internals_is_refused(template: str) -> None:
    with pytest.raises(TemplateError, match="internal attributes are not allowed"):
        check_template(template, "text")


def test_template_sandbox_refuses_at_render_time_too() -> None:
    # Built by concatenation, the attribute name escapes the static check; the sandbox stops it.
    with pytest.raises(TemplateError, match="unsafe"):
        check_template("{{ title|attr('_' ~ '_class__') }}", "text")


def test_template_errors_are_reported() -> None:
    with pytest.raises(TemplateError, match="syntax error on line 1"):
        check_template("{{ title ", "text")
    with pytest.raises(TemplateError, match="undefined"):
        check_template("{{ titel }}", "text")

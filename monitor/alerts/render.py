"""Events into messages for one channel format: pure, no I/O.

Formats:
- ``telegram-html``: Telegram's HTML subset; a batch of several events starts with a bold
  summary line; the title stays empty (Telegram shows none).
- ``html``: e-mail; the title is the subject (``[news-monitor] 3 new items: pozirk-politics``),
  the body HTML (Apprise adds the plain-text part).
- ``markdown`` and ``text``: the title is the subject, the body one block per event.

Every message fits `limit` characters: a long batch is split between events, never inside
one; a single event that is too long alone gets its headline shortened with an ellipsis.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.models import ChannelFormat, Event, Message

FORMATS: tuple[ChannelFormat, ...] = ("telegram-html", "html", "markdown", "text")
LIMITS: dict[str, int] = {
    "telegram-html": 4096,
    "html": 100_000,
    "markdown": 4000,
    "text": 4000,
}
SUBJECT_PREFIX = "[news-monitor]"
LOCK = "🔒"
MARKS = {"new": "", "changed": "✏️", "removed": "🗑", "health": "⚠️", "dropped": "↩"}
_KIND_WORDS = {
    "new": ("new item", "new items"),
    "changed": ("changed item", "changed items"),
    "removed": ("removed item", "removed items"),
    "health": ("source alert", "source alerts"),
    "dropped": ("item dropped from its listing", "items dropped from their listing"),
}
_MESSAGE_FORMAT: dict[str, Any] = {
    "telegram-html": "html",
    "html": "html",
    "markdown": "markdown",
    "text": "text",
}
_SEPARATOR = "\n\n"
_ELLIPSIS = "…"


def render(
    events: Sequence[Event],
    channel_format: ChannelFormat,
    template: str | None = None,
    limit: int | None = None,
) -> list[Message]:
    """Messages carrying `events` in order, each within `limit` characters."""
    if channel_format not in LIMITS:
        raise ValueError(f"unknown format {channel_format!r}; use one of {', '.join(FORMATS)}")
    limit = limit or LIMITS[channel_format]
    block = _template_block(template, channel_format) if template else _BLOCKS[channel_format]
    blocks = [_fitting_block(block, event, channel_format, limit) for event in events]
    messages: list[Message] = []
    start = 0
    while start < len(events):
        end = start + 1
        size = len(blocks[start])
        while end < len(events):
            size += len(blocks[end])
            if _length(channel_format, events[start : end + 1], size) > limit:
                break
            end += 1
        messages.append(
            Message(
                title=_title(channel_format, events[start:end]),
                body=_body(channel_format, events[start:end], blocks[start:end]),
                format=_MESSAGE_FORMAT[channel_format],
                count=end - start,
            )
        )
        start = end
    if len(messages) > 1 and channel_format != "telegram-html":
        total = len(messages)
        messages = [
            Message(f"{m.title} ({n}/{total})", m.body, m.format, m.count)
            for n, m in enumerate(messages, start=1)
        ]
    return messages


def summary(events: Sequence[Event]) -> str:
    """'3 new items, 1 changed item: pozirk-politics, example-feed'."""
    counts: dict[str, int] = {}
    for event in events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    parts = []
    for kind, (one, many) in _KIND_WORDS.items():
        if kind in counts:
            parts.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
    sources = list(dict.fromkeys(e.source for e in events))
    return f"{', '.join(parts)}: {', '.join(sources)}"


def subject(events: Sequence[Event]) -> str:
    return f"{SUBJECT_PREFIX} {summary(events)}"


def change_text(event: Event, title_limit: int | None = None) -> str:
    """'headline changed from «…» to «…»; now free; moved from section X to Y'."""
    if event.kind in ("removed", "dropped"):
        # The detail says what confirmed it (an article page's 404, a redirect).
        what = "removed" if event.kind == "removed" else "dropped from the listing"
        return f"{what}: {event.detail}" if event.detail else what
    parts = []
    for change in event.changes:
        if change.field == "title":
            before = _shorten(str(change.before), title_limit)
            after = _shorten(str(change.after), title_limit)
            parts.append(f"headline changed from «{before}» to «{after}»")
        elif change.field == "paywalled":
            parts.append("now paywalled" if change.after else "now free")
        elif change.field == "section":
            parts.append(f"moved from section {change.before} to {change.after}")
        else:
            parts.append(f"{change.field} changed from «{change.before}» to «{change.after}»")
    return "; ".join(parts)


# -- one event ---------------------------------------------------------------------------

# (event, longest headline or None) -> the event's text in one format.
Block = Callable[[Event, int | None], str]


def _fitting_block(block: Block, event: Event, channel_format: str, limit: int) -> str:
    """The event's block, its headline shortened until the block fits in a message."""
    text = block(event, None)
    title = _longest_title(event)
    while len(_body(channel_format, [event], [text])) > limit and title > 1:
        excess = len(_body(channel_format, [event], [text])) - limit
        title = max(1, title - max(excess, 1))
        text = block(event, title)
    body = _body(channel_format, [event], [text])
    if len(body) > limit:  # only an absurdly long URL or detail gets here
        text = text[: max(0, limit - (len(body) - len(text)) - 1)] + _ELLIPSIS
    return text


def _longest_title(event: Event) -> int:
    titles = [event.item.title] if event.item else [event.detail or ""]
    titles += [str(c.before) for c in event.changes] + [str(c.after) for c in event.changes]
    return max(len(t) for t in titles)


def _shorten(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + _ELLIPSIS


@dataclass(frozen=True)
class _Parts:
    """An event's user-visible pieces, as plain text."""

    mark: str
    title: str
    meta: str
    section: str
    change: str
    url: str

    @classmethod
    def of(cls, event: Event, title_limit: int | None) -> _Parts:
        item = event.item
        if item is None:
            return cls(
                mark=MARKS["health"],
                title=event.source,
                meta="",
                section="",
                change=_shorten(event.detail or "", title_limit),
                url="",
            )
        marks = [m for m in (MARKS[event.kind], LOCK if item.paywalled else "") if m]
        return cls(
            mark=" ".join(marks),
            title=_shorten(item.title, title_limit),
            meta=event.source,
            section=item.section or "",
            change=change_text(event, title_limit) if event.kind != "new" else "",
            url=item.url,
        )


def _telegram_block(event: Event, title_limit: int | None) -> str:
    p = _Parts.of(event, title_limit)
    esc = html.escape
    if event.item is None:
        return f"{p.mark} <b>{esc(p.title)}</b>: {esc(p.change)}"
    lines = [f"{p.mark} <b>{esc(p.title)}</b>" if p.mark else f"<b>{esc(p.title)}</b>"]
    lines.append(f"<i>{esc(p.section)}</i> · {esc(p.meta)}" if p.section else esc(p.meta))
    if p.change:
        lines.append(esc(p.change))
    if p.url:  # a feed entry may have no link
        lines.append(esc(p.url))
    return "\n".join(lines)


def _email_block(event: Event, title_limit: int | None) -> str:
    p = _Parts.of(event, title_limit)
    esc = html.escape
    if event.item is None:
        return f"<p>{p.mark} <b>{esc(p.title)}</b>: {esc(p.change)}</p>"
    href = esc(p.url, quote=True)
    head = f'<b><a href="{href}">{esc(p.title)}</a></b>' if p.url else f"<b>{esc(p.title)}</b>"
    lines = [f"{p.mark} {head}" if p.mark else head]
    lines.append(f"{esc(p.section)} · {esc(p.meta)}" if p.section else esc(p.meta))
    if p.change:
        lines.append(esc(p.change))
    if p.url:
        lines.append(f'<a href="{href}">{esc(p.url)}</a>')
    return "<p>" + "<br>".join(lines) + "</p>"


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]#|<>~"})


def _md(text: str) -> str:
    return text.translate(_MARKDOWN_SPECIAL)


def _markdown_block(event: Event, title_limit: int | None) -> str:
    p = _Parts.of(event, title_limit)
    if event.item is None:
        return f"{p.mark} **{_md(p.title)}**: {_md(p.change)}"
    lines = [f"{p.mark} **{_md(p.title)}**" if p.mark else f"**{_md(p.title)}**"]
    lines.append(f"_{_md(p.section)}_ · {_md(p.meta)}" if p.section else _md(p.meta))
    if p.change:
        lines.append(_md(p.change))
    if p.url:
        lines.append(f"<{p.url}>")
    return "\n".join(lines)


def _text_block(event: Event, title_limit: int | None) -> str:
    p = _Parts.of(event, title_limit)
    if event.item is None:
        return f"{p.mark} {p.title}: {p.change}"
    lines = [f"{p.mark} {p.title}" if p.mark else p.title]
    lines.append(f"{p.section} · {p.meta}" if p.section else p.meta)
    if p.change:
        lines.append(p.change)
    if p.url:
        lines.append(p.url)
    return "\n".join(lines)


_BLOCKS: dict[str, Block] = {
    "telegram-html": _telegram_block,
    "html": _email_block,
    "markdown": _markdown_block,
    "text": _text_block,
}


# -- one message -------------------------------------------------------------------------


def _title(channel_format: str, events: Sequence[Event]) -> str:
    return "" if channel_format == "telegram-html" else subject(events)


def _length(channel_format: str, events: Sequence[Event], blocks_size: int) -> int:
    """len(_body(...)) from the blocks' total size, without building the body."""
    gaps = len(events) - 1
    if channel_format == "telegram-html" and len(events) > 1:
        header = len(html.escape(summary(events))) + len("<b></b>")
        return header + blocks_size + len(_SEPARATOR) * (gaps + 1)
    if channel_format == "html":
        return blocks_size + gaps
    return blocks_size + len(_SEPARATOR) * gaps


def _body(channel_format: str, events: Sequence[Event], blocks: Sequence[str]) -> str:
    if channel_format == "telegram-html" and len(events) > 1:
        return _SEPARATOR.join([f"<b>{html.escape(summary(events))}</b>", *blocks])
    if channel_format == "html":
        return "\n".join(blocks)
    return _SEPARATOR.join(blocks)


# -- user templates ------------------------------------------------------------------------


class TemplateError(ValueError):
    """A user template is invalid or reaches for something it may not."""


def template_variables(event: Event, title_limit: int | None = None) -> dict[str, Any]:
    """What a template sees for one event (the same names for every kind)."""
    item = event.item
    return {
        "kind": event.kind,
        "source": event.source,
        "at": event.at,
        "title": _shorten(item.title, title_limit) if item else None,
        "url": item.url if item else None,
        "section": item.section if item else None,
        "published": item.published if item else None,
        "paywalled": item.paywalled if item else False,
        "lock": LOCK if item and item.paywalled else "",
        "mark": MARKS[event.kind],
        "change": change_text(event, title_limit) if event.kind in ("changed", "removed") else "",
        "changes": [
            {"field": c.field, "before": c.before, "after": c.after} for c in event.changes
        ],
        "detail": event.detail,
    }


def compile_template(source: str, channel_format: str) -> Any:
    """A sandboxed Jinja2 template. Raises TemplateError for bad syntax or internals access.

    Attributes and keys starting with '_' are refused when the template is read, wherever
    they stand (`{{ ''.__class__.__mro__ }}`); the sandbox refuses them again at render time.
    """
    from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        autoescape=channel_format in ("telegram-html", "html"),
        undefined=StrictUndefined,
        finalize=lambda value: "" if value is None else value,
    )
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            name: object = node.attr
        elif isinstance(node, nodes.Getitem):
            name = getattr(node.arg, "value", None)
        elif isinstance(node, nodes.Filter) and node.name == "attr" and node.args:
            name = getattr(node.args[0], "value", None)  # {{ x|attr("__class__") }}
        else:
            continue
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateError(
                f"template reaches for {name!r}: internal attributes are not allowed"
            )
    return env.from_string(source)


def render_template(compiled: Any, event: Event, title_limit: int | None = None) -> str:
    from jinja2 import TemplateError as JinjaError
    from jinja2.exceptions import SecurityError

    try:
        return str(compiled.render(template_variables(event, title_limit))).strip()
    except SecurityError as exc:
        raise TemplateError(f"template refused: {exc}") from None
    except JinjaError as exc:
        raise TemplateError(f"template error: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"template error: {exc}") from None


def check_template(source: str, channel_format: str) -> None:
    """Compile the template and render it for a sample of every event kind.

    Raises TemplateError, so a bad template is refused when the config is read rather than
    when the first alert is due.
    """
    from monitor.models import Change, Item

    compiled = compile_template(source, channel_format)
    item = Item(key="k", url="https://example.org/a", title="T", section="S", paywalled=True)
    samples = [
        Event("new", "source", "2026-01-01T00:00:00+00:00", item),
        Event("changed", "source", "2026-01-01T00:00:00+00:00", item, (Change("title", "A", "T"),)),
        Event("removed", "source", "2026-01-01T00:00:00+00:00", item),
        Event("health", "source", "2026-01-01T00:00:00+00:00", detail="no items found"),
    ]
    for event in samples:
        render_template(compiled, event)


def _template_block(source: str, channel_format: str) -> Block:
    compiled = compile_template(source, channel_format)

    def block(event: Event, title_limit: int | None) -> str:
        return render_template(compiled, event, title_limit)

    return block

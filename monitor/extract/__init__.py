"""Pure extraction: bytes in, items out. `extract_items` picks the extractor by source kind."""

from __future__ import annotations

from monitor.models import ExtractError, Item, Source

# Bump when the program starts to read the same bytes differently (titles, sections, keys, links,
# paywall flags): each source's next poll then re-reads its page and re-baselines silently,
# as after a rule edit, instead of alerting what only the upgrade changed.
READING_VERSION = 3

# Content types no listing page or feed is served as.
_NOT_TEXT = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/zip",
    "application/octet-stream",
)


def extract_items(
    source: Source, body: bytes, base_url: str, content_type: str | None = None
) -> list[Item]:
    """Items a source's body lists, in page order. Raises ExtractError."""
    if not body.strip():
        raise ExtractError("empty response body")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type.startswith(_NOT_TEXT):
        raise ExtractError(f"not a page or feed: the server sent {media_type}")
    if source.kind == "feed":
        from monitor.extract.feed import extract_feed

        return extract_feed(
            body,
            base_url,
            content_type,
            paywall_categories=source.paywall_categories,
            paywall_text=source.rule.paywall_text,
            id_pattern=source.rule.id_pattern,
        )
    from monitor.extract.html import extract_html

    return extract_html(body, base_url, source.rule, content_type)

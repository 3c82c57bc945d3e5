"""Pure extraction: bytes in, items out. `extract_items` picks the extractor by source kind."""

from __future__ import annotations

from monitor.models import Item, Source


def extract_items(
    source: Source, body: bytes, base_url: str, content_type: str | None = None
) -> list[Item]:
    """Items a source's body lists, in page order. Raises ExtractError."""
    if source.kind == "feed":
        from monitor.extract.feed import extract_feed

        return extract_feed(
            body,
            base_url,
            content_type,
            paywall_categories=source.paywall_categories,
            paywall_text=source.rule.paywall_text,
        )
    from monitor.extract.html import extract_html

    return extract_html(body, base_url, source.rule, content_type)

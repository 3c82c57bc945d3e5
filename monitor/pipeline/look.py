"""What `monitor sources add` needs: look at a URL, and turn what it is into a source table.

`look_at` fetches the URL once (the shared Fetcher, so the config's user agent, proxy and
size cap apply) and says whether it is a feed or an HTML page, with the feeds the page
advertises. The table builders return plain dicts with the keys of a ``[[sources]]`` table,
ready for `monitor.config.file.add_source`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from monitor.models import FetchError, Item

if TYPE_CHECKING:
    from monitor.extract.discover import Proposal
    from monitor.pipeline.confirm import ArticleCheck
    from monitor.pipeline.fetch import Fetcher, FetchSettings


@dataclass(frozen=True)
class Found:
    """A fetched URL and what it is."""

    url: str  # after redirects
    kind: Literal["feed", "html"]
    body: bytes
    content_type: str | None
    # Feeds an HTML page advertises (<link rel="alternate">): url, title, type.
    feeds: tuple[dict[str, str], ...] = ()


async def look_at(url: str, settings: FetchSettings, fetcher: Fetcher | None = None) -> Found:
    """Fetch `url` and tell a feed from a page. Raises FetchError. `fetcher`: one to
    share with what follows (the article check), else one of its own."""
    from monitor.extract.html import discover_feeds
    from monitor.pipeline.fetch import Fetcher
    from monitor.pipeline.preview import looks_like_feed

    if fetcher is not None:
        result = await fetcher.fetch(url)
    else:
        async with Fetcher(settings) as own:
            result = await own.fetch(url)
    if not result.body:
        raise FetchError(f"HTTP {result.status} with an empty body", result.status)
    content_type = result.header("content-type")
    if looks_like_feed(result.body, content_type):
        return Found(result.url, "feed", result.body, content_type)
    feeds = tuple(discover_feeds(result.body, result.url))
    return Found(result.url, "html", result.body, content_type, feeds)


def feed_items(found: Found) -> list[Item]:
    from monitor.extract.feed import extract_feed

    return extract_feed(found.body, found.url, found.content_type)


def source_table(
    name: str,
    url: str,
    *,
    kind: str | None = None,
    interval: str | None = None,
    profile: str | None = None,
    rule: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The keys of one [[sources]] table, in the order a person would write them."""
    table: dict[str, Any] = {"name": name, "url": url}
    if kind:
        table["kind"] = kind
    if profile:
        table["profile"] = profile
    if interval:
        table["interval"] = interval
    if rule:
        table["rule"] = rule
    return table


def page_comment(
    proposal: Proposal, today: date | None = None, articles: ArticleCheck | None = None
) -> str:
    """The comment written above a discovered source: when, what the rule finds, and what
    the article pages said of its paywall mark (when they were checked)."""
    when = (today or date.today()).isoformat()
    lines = [f"Added by `monitor sources add` on {when}: {proposal.items} items"]
    if proposal.paywall is not None:
        lines[0] += f", {proposal.paywalled} paywalled"
        lines.append(f"(paywall: {paywall_summary(proposal)}).")
    else:
        lines[0] += "; no paywall mark found."
    if articles is not None:
        lines.append(articles.sentence())
    lines.append("Check it with `monitor preview NAME`; edit the selectors as you like.")
    return "\n".join(lines)


def paywall_summary(proposal: Proposal) -> str:
    """'3 of 36 items marked by `img[alt="heise Plus"]`': the proposal's own figures (what
    the extractor finds with its rule), which a paywall guess's may not be (it counts only
    the teasers discovery took for articles)."""
    evidence = proposal.paywall.evidence if proposal.paywall is not None else "nothing"
    return f"{proposal.paywalled} of {proposal.items} items marked by {evidence}"


def feed_comment(items: int, today: date | None = None) -> str:
    when = (today or date.today()).isoformat()
    return f"Added by `monitor sources add` on {when}: a feed, {items} entries."

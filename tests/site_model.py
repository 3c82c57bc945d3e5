"""A news site that lives, and a reader who should be told what happened to it.

`Site` is the site's state (its articles, the main listing, a "most read" box after it, and
what it serves: the page, an empty page or a bot check) and renders the HTML it serves.
`Reader` is the reference model of what a reader of the alerts should be told after each
poll, written from README's "What counts as what":

- the first poll that reads items is a silent baseline; a poll that reads none, or a bot
  check, is never a baseline and never removals. A bot check is a failed poll told once
  per outage ("blocked by a bot check"); a poll that reads nothing before any baseline is
  a failed poll, told as `failing` when `failure_threshold` (3) polls in a row failed; a
  listing that used to list items and lists none is told once per outage ("no items
  found"); the first poll that reads items after any of these is told "recovered";
- an article not seen before is one `new` alert; a headline edit, a paywall flip (every
  flip, even to a state seen before) and a section move are one `changed` alert that names
  every field that changed;
- an article that vanished from the main listing while an article listed below it at the
  last poll is still listed is `removed`; one that scrolled off the bottom is nothing; a
  "most read" box after the main list changes neither;
- a rule edit in the config re-reads the page silently: what differs only because the rule
  reads it differently is no alert, while what the site did meanwhile (an article
  published, a headline edited) is told as at any poll.

Expected alerts are rendered as the `text` channel format shows them (README "Channels"),
so the test compares what the channel received block by block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

MARKER = "The material is available only to POZIRK+"
SOURCE = "pozirk-politics"
SECTIONS = ("Politics", "Society", "Economy", "World")
# Paywall signals an article can carry: the marker line, a lock badge, or both.
STYLES = ("marker", "lock", "both")
HEADLINES = (
    "Iran’s president to visit Minsk next week",
    "Reprisals: at least 40 people targeted in a week",
    "Łukašenka signs the budget for 2027",
    "Opposition politician: Trump could claim a win",
    "Minsk weather: snow expected on Thursday",
    "Палітвязні: яшчэ 12 чалавек вызваленыя",
    "Potash exports through Russian ports grow",
    "Belarusian hockey team loses to Kazakhstan 2–3",
    "Border queue to Poland: 900 trucks waiting",
    "Prices for bread & milk rise again",
)
# A headline edit picks another of these; variant 0 is the original, so edits can revert.
VARIANTS = 3
PATHS = ("/en/politics/", "/en/politics/?view=list")


def headline(n: int, variant: int) -> str:
    base = f"{HEADLINES[n % len(HEADLINES)]} (#{n})"
    return (base, f"{base}: updated", f"Exclusive: {base}")[variant]


@dataclass
class Article:
    n: int
    section: str
    paid: bool
    style: str
    variant: int = 0

    @property
    def path(self) -> str:
        return f"/en/news/{self.n}-story/"

    @property
    def title(self) -> str:
        return headline(self.n, self.variant)


@dataclass(frozen=True)
class RuleChoice:
    """What the source's config says. `profile`: the built-in pozirk profile (its marker
    text always on) instead of an explicit rule; `text`/`selector`: which paywall signals
    the rule reads; `path`: which of the site's addresses of the listing the source polls."""

    profile: bool
    text: bool
    selector: bool
    path: str = PATHS[0]

    def reads_paid(self, article: Article) -> bool:
        if not article.paid:
            return False
        by_text = (self.profile or self.text) and article.style in ("marker", "both")
        by_lock = self.selector and article.style in ("lock", "both")
        return by_text or by_lock

    def config(self, url: str, hook_url: str) -> str:
        lines = ['database = "state.db"', "", "[[sources]]", f'name = "{SOURCE}"']
        lines.append(f'url = "{url}"')
        if self.profile:
            lines.append('profile = "pozirk"')
        lines.append("[sources.rule]")
        if not self.profile:
            lines += ['item = "article.teaser"', 'section = ".rubric"']
            if self.text:
                lines.append(f'paywall_text = "{MARKER}"')
        if self.selector:
            lines.append('paywall_selector = ".lock"')
        lines += ["", "[channels.hook]", f'urls = ["{hook_url}"]']
        # The same receiver under another path, for paywalled items only.
        paid_url = hook_url.replace("/hook?", "/paid?")
        lines += ["", "[channels.paid]", f'urls = ["{paid_url}"]', "paywalled = true", ""]
        return "\n".join(lines)


@dataclass(frozen=True)
class Reading:
    """An article as the source's rule reads it."""

    url: str
    title: str
    section: str
    paywalled: bool


@dataclass
class Site:
    base: str
    articles: dict[int, Article] = field(default_factory=dict)
    main: list[int] = field(default_factory=list)
    box: list[int] = field(default_factory=list)
    taken_down: set[int] = field(default_factory=set)
    serving: str = "page"  # page, empty or bot
    next_n: int = 1

    def publish(self, section: str, paid: bool, style: str) -> int:
        n = self.next_n
        self.next_n += 1
        self.articles[n] = Article(n, section, paid, style)
        self.main.insert(0, n)
        return n

    def on_page(self) -> list[int]:
        return self.main + [n for n in self.box if n not in self.main]

    def reading(self, n: int, rule: RuleChoice) -> Reading:
        article = self.articles[n]
        return Reading(
            url=self.base + article.path,
            title=article.title,
            section=article.section,
            paywalled=rule.reads_paid(article),
        )

    def html(self) -> str:
        if self.serving == "bot":
            return BOT_CHECK
        if self.serving == "empty":
            return _layout("<p class='empty'>No materials in this section yet.</p>", "")
        teasers = "".join(_teaser(self.articles[n]) for n in self.main)
        box = ""
        if self.box:
            box = (
                '<aside class="most-read"><h3>Most read</h3>'
                + "".join(_teaser(self.articles[n]) for n in self.box)
                + "</aside>"
            )
        return _layout(f'<section class="news-list">{teasers}</section>', box)


def _teaser(article: Article) -> str:
    marker = (
        f'<p class="plus-note">{MARKER}</p>' if article.paid and article.style != "lock" else ""
    )
    lock = (
        '<span class="lock" title="POZIRK+">🔒</span>'
        if article.paid and article.style != "marker"
        else ""
    )
    slug = article.section.lower()
    day = 1 + article.n % 28
    return (
        f'<article class="teaser"><a class="rubric" href="/en/{slug}/">{article.section}</a>'
        f'<h2 class="title"><a href="{article.path}">{escape(article.title)}</a></h2>'
        f'<time datetime="2026-11-{day:02d}T10:00:00+00:00">{day} November</time>'
        f"{lock}{marker}</article>"
    )


def _layout(main: str, aside: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Politics — Pozirk</title></head><body>"
        "<header><nav><a href='/en/'>Home</a> <a href='/en/politics/'>Politics</a> "
        "<a href='/en/society/'>Society</a></nav></header>"
        f"<main><h1>Politics</h1>{main}</main>{aside}"
        "<footer><p>© Pozirk</p></footer></body></html>"
    )


# A Cloudflare managed challenge as it is served (status 200 when the site tells it to).
BOT_CHECK = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta http-equiv="X-UA-Compatible" content="IE=Edge">
<meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>*{box-sizing:border-box;margin:0;padding:0}</style>
<meta http-equiv="refresh" content="390"></head>
<body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">pozirk.online</h1>
<h2 id="challenge-running" class="h2">Checking if the site connection is secure</h2>
<noscript><div id="challenge-error-title"><div class="h2"><span class="icon-wrapper">
</span><span id="challenge-error-text">Enable JavaScript and cookies to continue</span>
</div></div></noscript>
<div id="trk_jschal_js" style="display:none;background-image:url('/cdn-cgi/images/trace/\
managed/nojs/transparent.gif?ray=8f1e2d3c4b5a6978')"></div>
<div id="challenge-body-text" class="core-msg spacer">pozirk.online needs to review the
security of your connection before proceeding.</div>
<form id="challenge-form" action="/en/politics/?__cf_chl_f_tk=Zx1" method="POST"
enctype="application/x-www-form-urlencoded"><input type="hidden" name="md" value="Qm9"></form>
</div></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: 'pozirk.online',cType: 'managed'};
var cpo = document.createElement('script');
cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f1e2d3c4b5a6978';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>
<div class="footer" role="contentinfo"><div class="footer-inner">
<div class="clearfix diagnostic-wrapper"><div class="ray-id">Ray ID: <code>8f1e2d3c4b5a6978</code>
</div></div><div class="text-center" id="footer-text">Performance &amp; security by
<a rel="noopener noreferrer" href="https://www.cloudflare.com" target="_blank">Cloudflare</a>
</div></div></div></body></html>"""


# -- what the reader should be told ------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """What one poll gets: `kind` page (with the readings of the main list and of the
    box after it), empty or bot."""

    kind: str
    main: tuple[Reading, ...] = ()
    box: tuple[Reading, ...] = ()
    rule_changed: bool = False


HEALTH_BLOCKED = "blocked by a bot check"
HEALTH_EMPTY = "no items found"
HEALTH_FAILING = "failing"
HEALTH_RECOVERED = "recovered"
# failure_threshold's default: failed polls in a row before a `failing` alert.
FAILURE_THRESHOLD = 3


@dataclass
class Reader:
    known: dict[str, Reading] = field(default_factory=dict)
    baseline: bool = False
    last_main: list[str] = field(default_factory=list)
    # What the reader was last told is wrong with the source (None: nothing), and how
    # many polls in a row have failed (a bot check, or no items before any baseline).
    health: str | None = None
    failures: int = 0
    paid_only: list[str] = field(default_factory=list)

    def poll(self, seen: Observed) -> list[str]:
        """The alert blocks this poll owes, in order. `paid_only` is then the part of them
        that a channel with `paywalled = true` gets: health alerts, and alerts of items
        paywalled as they are or, for `changed`, as they were."""
        alerts = self._poll(seen)
        self.paid_only = [block for block, paid in alerts if paid]
        return [block for block, _ in alerts]

    def _poll(self, seen: Observed) -> list[tuple[str, bool]]:
        if seen.kind == "bot":
            # Told once per outage, whatever else fails meanwhile; never a `failing`.
            self.failures += 1
            return self._tell(HEALTH_BLOCKED)
        if seen.kind == "empty" and not self.baseline:
            # Nothing to take as a baseline: a failed poll.
            self.failures += 1
            return self._tell(HEALTH_FAILING) if self.failures == FAILURE_THRESHOLD else []
        if seen.kind == "empty":
            # A listing that used to list items lists none: once per outage, no removals.
            self.failures = 0
            return self._tell(HEALTH_EMPTY)
        alerts: list[tuple[str, bool]] = []
        if self.health is not None:
            alerts.append((health_block(HEALTH_RECOVERED), True))
        self.health, self.failures = None, 0
        listed = list(seen.main) + [r for r in seen.box if r.url not in {m.url for m in seen.main}]
        if self.baseline:
            # After a rule edit the paywall flag is read anew, silently; the rule edits
            # here change nothing else, so whatever else differs is the site's news.
            paywall = not seen.rule_changed
            for reading in listed:
                before = self.known.get(reading.url)
                if before is None:
                    alerts.append((item_block("new", reading), reading.paywalled))
                else:
                    changes = change_text(before, reading, paywall=paywall)
                    # After a rule edit the item "as it was" is read with the new rule too:
                    # a paywall flag the old rule misread was never the item's.
                    was_paid = before.paywalled if paywall else reading.paywalled
                    if changes:
                        block = item_block("changed", reading, changes)
                        alerts.append((block, was_paid or reading.paywalled))
            alerts += self._removals(seen)
        for reading in listed:
            self.known[reading.url] = reading
        self.last_main = [r.url for r in seen.main]
        self.baseline = True
        return alerts

    def _tell(self, health: str) -> list[tuple[str, bool]]:
        if self.health == health:
            return []
        self.health = health
        return [(health_block(health), True)]

    def _removals(self, seen: Observed) -> list[tuple[str, bool]]:
        main_now = {r.url for r in seen.main}
        on_page = main_now | {r.url for r in seen.box}
        alerts = []
        for position, url in enumerate(self.last_main):
            if url in on_page:
                continue
            if any(below in main_now for below in self.last_main[position + 1 :]):
                gone = self.known[url]
                alerts.append((item_block("removed", gone, "removed"), gone.paywalled))
        return alerts


def change_text(before: Reading, after: Reading, *, paywall: bool = True) -> str:
    parts = []
    if before.title != after.title:
        parts.append(f"headline changed from «{before.title}» to «{after.title}»")
    if paywall and before.paywalled != after.paywalled:
        parts.append("now paywalled" if after.paywalled else "now free")
    if before.section != after.section:
        parts.append(f"moved from section {before.section} to {after.section}")
    return "; ".join(parts)


MARKS = {"new": "", "changed": "✏️", "removed": "🗑"}


def item_block(kind: str, reading: Reading, change: str = "") -> str:
    """One event as the text format renders it (README "Channels")."""
    marks = " ".join(m for m in (MARKS[kind], "🔒" if reading.paywalled else "") if m)
    lines = [f"{marks} {reading.title}" if marks else reading.title]
    lines.append(f"{reading.section} · {SOURCE}")
    if change:
        lines.append(change)
    lines.append(reading.url)
    return "\n".join(lines)


def health_block(kind: str) -> str:
    return f"⚠️ {SOURCE}: [{kind}]"


def received_blocks(messages: Sequence[str]) -> list[str]:
    """The event blocks of the messages a text channel received, in order; a health
    alert's detail is reduced to what it says (the model does not fix its wording)."""
    blocks = []
    for message in messages:
        for block in message.split("\n\n"):
            blocks.append(_health_kind(block) if block.startswith("⚠️") else block)
    return blocks


def _health_kind(block: str) -> str:
    detail = block.split(": ", 1)[1] if ": " in block else block
    lowered = detail.lower()
    if lowered.startswith("failing"):
        return health_block(HEALTH_FAILING)
    if lowered.startswith("recovered"):
        return health_block(HEALTH_RECOVERED)
    if "bot check" in lowered or "blocked" in lowered or "challenge" in lowered:
        return health_block(HEALTH_BLOCKED)
    if "no items" in lowered or "matches nothing" in lowered:
        return health_block(HEALTH_EMPTY)
    return block


def alert_kind(block: str) -> str:
    """new, changed, removed or health: what an alert block says."""
    if block.startswith("⚠️"):
        return "health"
    if block.startswith("✏️"):
        return "changed"
    if block.startswith("🗑"):
        return "removed"
    return "new"

"""Pages that stand between the monitor and a listing: bot checks and consent walls.

A site behind Cloudflare, DDoS-Guard, a captcha or a cookie-consent wall may answer 200
with a page of its own instead of the listing. Such a page is recognised from its own words
and markup, so that the poll is reported as blocked, never as an empty listing, a baseline
or a mass removal. Pure: bytes in, verdict out.

Two kinds of evidence:

- *markup* only challenge pages carry (Cloudflare's challenge form and options, DDoS-Guard's
  and other vendors' check pages) or a bot-check *title* ("Just a moment…" in the languages
  of the sites followed): enough on its own;
- *words* of a bot check ("Checking your browser", "I'm not a robot", a captcha widget) or of
  a consent prompt (cookies + consent/accept): only on a *thin* page, one that shows little
  besides them. A normal page with a cookie banner or a comment form's captcha beside its
  articles has far more text and links than that, and is never flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.extract.charset import decode_html
from monitor.extract.guard import MAX_DEPTH, nesting_depth

# A page with less visible text than this, and fewer links, shows nothing but its prompt.
THIN_TEXT_CHARS = 3000
THIN_LINKS = 25
# A page with this many links outside its consent box shows content beside the banner.
CONTENT_LINKS = 3
# Only the start of a big body is looked at: challenge pages are small.
SCAN_BYTES = 512 * 1024

# Markup that only challenge pages carry (never the beacon scripts normal pages load, such
# as Cloudflare's /cdn-cgi/challenge-platform/ bot-management script).
_CHALLENGE_MARKUP: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Cloudflare challenge", re.compile(r"_cf_chl_opt|__cf_chl_(?:f_)?tk|cf-browser-verification")),
    (
        "Cloudflare challenge",
        re.compile(r"""id=["']?challenge-(?:form|running|stage|error-text)"""),
    ),
    ("Cloudflare block page", re.compile(r"""id=["']?cf-error-details|class=["']?cf-error-""")),
    ("Incapsula block page", re.compile(r"Incapsula incident ID", re.I)),
    ("DataDome captcha", re.compile(r"captcha-delivery\.com", re.I)),
    ("PerimeterX captcha", re.compile(r"""id=["']?px-captcha""", re.I)),
    ("Sucuri firewall", re.compile(r"Sucuri WebSite Firewall", re.I)),
)
# Markup of check pages that normal pages behind the same service may load too: it counts
# on a thin page only.
_CHECK_MARKUP: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("DDoS-Guard check", re.compile(r"ddos-guard|__ddg\d", re.I)),
    ("Yandex SmartCaptcha", re.compile(r"showcaptcha|smartcaptcha", re.I)),
    ("captcha", re.compile(r"g-recaptcha|h-captcha|cf-turnstile|recaptcha/api\.js", re.I)),
)

# Titles of bot-check pages (Cloudflare's in its translations, DDoS-Guard's, generic ones).
_BOT_TITLES = re.compile(
    r"^\s*(?:just a moment|один момент|адзін момант|хвілінку|хвилинку|зачекайте|"
    r"chwileczkę|chwileczke|einen moment|moment bitte|"
    r"attention required!?\s*\|\s*cloudflare|ddos-guard|ddos protection|"
    r"checking your browser|проверка браузера|праверка браўзера|перевірка браузера|"
    r"sprawdzanie przeglądarki|browserüberprüfung|"
    r"are you a robot|вы не робот|ви не робот|вы не робат|"
    r"captcha|капча|verify you are human|security check|access denied|доступ запрещ[её]н)",
    re.IGNORECASE,
)

# Words of a bot check in the page text; they count on a thin page only.
_BOT_WORDS = re.compile(
    r"checking (?:your browser|if the site connection is secure)|"
    r"needs to review the security of your connection|verify (?:that )?you are (?:a )?human|"
    r"enable javascript and cookies to continue|i'?m not a robot|unusual traffic|"
    r"провер(?:ка|яем) (?:вашего )?браузер|не робот|"
    r"правяраем браўзер|праверка браўзера|не робат|"
    r"перевір(?:ка|яємо) (?:вашого )?браузер|"
    r"sprawdzanie przeglądarki|sprawdzamy przeglądarkę|nie jestem robotem|jesteś człowiekiem|"
    r"ihr browser wird überprüft|überprüfung ihres browsers|kein roboter|dass sie ein mensch sind",
    re.IGNORECASE,
)

# A consent prompt names cookies or consent, and asks to accept or agree.
_CONSENT_WORDS = re.compile(
    r"cookie|consent|куки|согласи|згод|zgod|ciasteczk|einwilligung|zustimm|datenschutz",
    re.IGNORECASE,
)
_ACCEPT_WORDS = re.compile(
    r"accept|agree|allow all|i consent|принять|принимаю|соглас|прыняць|прымаю|згодны|"
    r"прийняти|приймаю|погоджуюсь|akceptuj|zgadzam|zaakceptuj|akzeptier|zustimmen|"
    r"einverstanden|alle erlauben",
    re.IGNORECASE,
)
# Consent managers whose wall is served as a page of its own.
_CONSENT_MARKUP = re.compile(
    r"consent\.(?:google|yahoo|youtube)\.|guce\.|onetrust-consent-sdk|sp_message_container|"
    r"qc-cmp2|didomi|usercentrics|cmpbox|fc-consent-root|consentmanager|cookiebot",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Blocked:
    """A page that is a bot check or a consent wall, not the listing."""

    # "bot check" or "consent wall"
    kind: str
    # What gave it away, e.g. 'title "Just a moment..."'.
    evidence: str

    def describe(self) -> str:
        return f"blocked by a {self.kind} ({self.evidence})"


@dataclass(frozen=True)
class _Page:
    markup: str
    title: str
    text: str
    links: int
    # Links outside the box that asks for consent (all links when there is none): a page
    # that lists articles beside a cookie banner has them.
    links_beside_consent: int

    @property
    def thin(self) -> bool:
        return len(self.text) < THIN_TEXT_CHARS and self.links < THIN_LINKS


def blocking_page(body: bytes, content_type: str | None = None) -> Blocked | None:
    """The bot check or consent wall this body is, or None for any other page."""
    if not body.strip():
        return None
    head = body[:SCAN_BYTES]
    if nesting_depth(head, stop_at=MAX_DEPTH) >= MAX_DEPTH:
        return None  # a hostile page, not a bot check (and slow to walk)
    page = _read(head, content_type)
    for vendor, pattern in _CHALLENGE_MARKUP:
        if pattern.search(page.markup):
            return Blocked("bot check", vendor)
    title = _BOT_TITLES.match(page.title)
    if title and page.thin:
        return Blocked("bot check", f'title "{page.title}"')
    if not page.thin:
        return None
    words = _BOT_WORDS.search(page.text)
    if words:
        return Blocked("bot check", f'"{_whole_words(page.text, words)}"')
    if len(page.text) < THIN_TEXT_CHARS // 3:
        for vendor, pattern in _CHECK_MARKUP:
            if pattern.search(page.markup):
                return Blocked("bot check", f"{vendor} and little else")
    return _consent_wall(page)


def _consent_wall(page: _Page) -> Blocked | None:
    consent = _CONSENT_WORDS.search(page.text)
    accept = _ACCEPT_WORDS.search(page.text)
    if page.links_beside_consent >= CONTENT_LINKS:
        return None  # a banner beside the page's own links, not a wall
    if consent and accept:
        said = f'"{_whole_words(page.text, consent)}" and "{_whole_words(page.text, accept)}"'
        return Blocked("consent wall", said)
    markup = _CONSENT_MARKUP.search(page.markup)
    if markup and len(page.text) < THIN_TEXT_CHARS // 3 and page.links < CONTENT_LINKS:
        return Blocked("consent wall", markup.group(0))
    return None


def _whole_words(text: str, match: re.Match[str]) -> str:
    """The match widened to the words it starts and ends in ("zustimm" -> "Zustimmung")."""
    start, end = match.start(), match.end()
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def _read(body: bytes, content_type: str | None) -> _Page:
    markup = decode_html(body, content_type)
    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text().split()) if title_node is not None else ""
    links = len(tree.css("a[href]"))
    tree.strip_tags(["script", "style", "template", "noscript"])
    root = tree.body
    text = " ".join(root.text(separator=" ").split()) if root is not None else ""
    box = _consent_box(root) if root is not None else None
    beside = links - len(box.css("a[href]")) if box is not None else links
    return _Page(markup=markup, title=title, text=text, links=links, links_beside_consent=beside)


def _consent_box(root: LexborNode) -> LexborNode | None:
    """The smallest element around the first consent word that also asks to accept."""
    for node in root.traverse(include_text=True):
        if node.tag != "-text" or not _CONSENT_WORDS.search(node.text_content or ""):
            continue
        box = node.parent
        while box is not None and not _ACCEPT_WORDS.search(box.text(separator=" ")):
            box = box.parent
        return box
    return None

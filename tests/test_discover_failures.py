"""Discovery on pages built like the ones it used to get wrong: generated class names, small
boxes beside the main listing, paywall marks inside the teaser versus an ancestor, marks in
the article URL, tracking attributes that split teasers, teaser variants, nested links."""

from __future__ import annotations

from monitor.extract.discover import Proposal, discover, is_generated
from monitor.extract.html import extract_html

BASE = "https://news.example/"


def page(body: str) -> bytes:
    return (
        f"<!doctype html><html><head><title>News</title></head><body>{body}</body></html>".encode()
    )


def teaser_title(i: int) -> str:
    return f"Story number {i} about the council budget and the new tram line"


def best(body: bytes) -> Proposal:
    proposals = discover(body, BASE)
    assert proposals, "a listing is proposed"
    return proposals[0]


# -- generated class names ---------------------------------------------------------------------

VOUCHERS = "".join(
    f'<li class="voucher-box__item"><a href="/gutscheine/shop-number-{i}-rabatt-code/">'
    f"Voucher: 20 percent off at shop {i}</a></li>"
    for i in range(18)
)


SECTIONS = ("politics", "economy", "sport", "culture")


def css_in_js_page(*, stable_hook: bool) -> bytes:
    hook = ' data-testid="teaser"' if stable_hook else ""
    tag = "article" if stable_hook else "div"
    teasers = "".join(
        f'<{tag} class="css-uthm1l e1x9q2w30"{hook}>'
        f'<a class="css-9kq1a3" href="/{SECTIONS[i % 4]}/story-{i}-council-budget-a-{1000 + i}">'
        f'<img src="/i/{i}.jpg" alt=""><h3 class="css-7yhb2x">{teaser_title(i)}</h3></a>'
        f'<p class="css-8uhn3c">A summary of story {i}, two lines of text.</p></{tag}>'
        for i in range(140)
    )
    return page(
        f'<main><div class="sc-bdVaJa">{teasers}</div></main>'
        f'<aside><ul class="voucher-box">{VOUCHERS}</ul></aside>'
    )


def test_generated_class_names_are_recognised() -> None:
    for name in ("css-uthm1l", "sc-bdVaJa", "_3xX7a", "Teaser_title__3xX7a", "e1x9q2w30"):
        assert is_generated(name), name
    for name in ("teaser", "stage-teaser", "pz-card--plus", "col-md-4", "font-sansUI"):
        assert not is_generated(name), name


def test_a_css_in_js_listing_is_proposed_by_its_stable_hook_not_the_voucher_box() -> None:
    proposal = best(css_in_js_page(stable_hook=True))
    assert (proposal.rule.item, proposal.items, proposal.stable) in (
        ("article", 140, True),
        ('article[data-testid="teaser"]', 140, True),
        ("article[data-testid]", 140, True),
    )
    assert proposal.notes == ()


def test_a_listing_with_only_generated_names_is_flagged_unstable() -> None:
    proposal = best(css_in_js_page(stable_hook=False))
    assert proposal.items == 140
    assert proposal.stable is False
    assert proposal.rule.item is not None and "css-" in proposal.rule.item
    assert proposal.notes == (
        f"no stable hook: `{proposal.rule.item}` is a generated name that may change on "
        "the site's next deploy",
    )
    assert proposal.to_json()["stable"] is False


# -- the main listing wins over small boxes ----------------------------------------------------


def test_the_main_listing_beats_a_regular_most_read_box() -> None:
    listing = "".join(
        f'<div class="card"><a href="/local/{2000 + i}-story-about-town.html">{teaser_title(i)}'
        f"</a><span>{'Short text' if i % 2 else ''}</span></div>"
        for i in range(30)
    )
    most_read = "".join(
        f'<li class="top__item"><img src="/t/{i}.jpg" alt=""><a href="/local/{3000 + i}-top.html">'
        f"Most read story number {i} of the week</a><p>With a summary line</p></li>"
        for i in range(8)
    )
    proposal = best(page(f'<main id="news">{listing}</main><ol class="top">{most_read}</ol>'))
    assert (proposal.rule.item, proposal.items) == ("div.card", 30)


# -- teaser variants are one listing -------------------------------------------------------------


def test_teaser_variants_are_one_listing() -> None:
    lead = "".join(
        f'<div class="lead-story"><img src="/l{i}.jpg" alt="">'
        f'<h2><a href="/a/{100 + i}-lead-story">'
        f"{teaser_title(100 + i)}</a></h2><p>Lead summary text here.</p></div>"
        for i in range(3)
    )
    standard = "".join(
        f'<div class="story"><h3><a href="/a/{200 + i}-standard-story">{teaser_title(200 + i)}'
        f"</a></h3><p>Standard summary.</p></div>"
        for i in range(12)
    )
    compact = "".join(
        f'<div class="brief"><a href="/a/{300 + i}-brief-story">{teaser_title(300 + i)}</a>'
        "<time>10:00</time></div>"
        for i in range(9)
    )
    body = page(f'<div id="stream">{lead}{standard}{compact}</div>')
    proposal = best(body)
    assert proposal.items == 24
    items = extract_html(body, BASE, proposal.rule)
    assert [i.title for i in items] == [
        teaser_title(n) for n in (*range(100, 103), *range(200, 212), *range(300, 309))
    ]


# -- paywall marks from evidence -----------------------------------------------------------------


def test_a_badge_in_every_premium_teaser_beats_an_ancestor_section() -> None:
    def teaser(i: int) -> str:
        badge = '<span class="badge"><svg><title>Premium</title></svg></span>' if i % 3 == 0 else ""
        return (
            f'<article class="teaser"><a href="/story/{5000 + i}-a-long-slug-here">'
            f"{badge}{teaser_title(i)}</a><p>Summary text {i}</p></article>"
        )

    # Six of the premium teasers also sit in a box named like a paywall.
    boxed = "".join(teaser(i) for i in range(0, 18, 3))
    rest = "".join(teaser(i) for i in range(31 + 18) if not (i < 18 and i % 3 == 0))
    body = page(
        f'<section class="paid-premium-subscriber-picks">{boxed}</section><main>{rest}</main>'
    )
    proposal = best(body)
    premium = sum(1 for i in range(49) if i % 3 == 0)
    assert (proposal.items, proposal.paywalled) == (49, premium)
    assert proposal.paywall is not None
    assert proposal.paywall.evidence == 'text "Premium"'


def test_a_url_segment_marks_the_premium_teasers() -> None:
    teasers = "".join(
        f'<article><a href="/{"plus" + str(700 + i) if i % 4 == 0 else "news"}'
        f'/story-{i}-about-the-city.html">{teaser_title(i)}</a><p>Summary {i}</p></article>'
        for i in range(20)
    )
    proposal = best(page(f"<main>{teasers}</main>"))
    assert (proposal.items, proposal.paywalled) == (20, 5)
    assert proposal.paywall is not None
    assert proposal.paywall.evidence == "URL path `/plus…`"


def test_a_json_attribute_marks_the_premium_teasers() -> None:
    teasers = "".join(
        f'<article data-meta=\'{{"id": {i}, "isPremium": {"true" if i % 2 else "false"}}}\'>'
        f'<a href="/news/story-{i}-about-the-city.html">{teaser_title(i)}</a><p>S {i}</p></article>'
        for i in range(12)
    )
    proposal = best(page(f"<main>{teasers}</main>"))
    assert (proposal.items, proposal.paywalled) == (12, 6)


def test_a_tracking_attribute_that_splits_teasers_is_not_a_paywall() -> None:
    teasers = "".join(
        f'<div class="card" data-link-name="{"subscriber-picks | card" if i < 7 else "news"}">'
        f'<a href="/world/2024/may/{i + 1:02d}/story-{i}">{teaser_title(i)}</a><p>S {i}</p></div>'
        for i in range(25)
    )
    proposal = best(page(f"<main>{teasers}</main>"))
    assert (proposal.items, proposal.paywalled, proposal.paywall) == (25, 0, None)


def test_a_sponsored_box_is_not_a_paywall() -> None:
    teasers = "".join(
        f'<div class="card" data-section="{"paid_promo" if i < 5 else "news"}">'
        f'<a href="/world/2024/may/{i + 1:02d}/story-{i}">{teaser_title(i)}</a><p>S {i}</p></div>'
        for i in range(25)
    )
    proposal = best(page(f"<main>{teasers}</main>"))
    assert (proposal.items, proposal.paywalled) == (25, 0)


def forum_page(mark: str, title: str) -> bytes:
    """Teasers of which every fourth carries a short "word+" text."""
    teasers = "".join(
        f'<article class="story"><a href="/story/{9000 + i}/a-long-story-slug">'
        f"{teaser_title(i)}</a><p>Summary {i}</p>"
        f"{f'<span class=extra>{mark}</span>' if i % 4 == 0 else ''}</article>"
        for i in range(20)
    )
    return (
        f"<!doctype html><html><head><title>{title}</title></head>"
        f"<body><main>{teasers}</main></body></html>"
    ).encode()


def test_a_word_plus_text_is_a_paywall_mark_only_when_the_word_names_the_site() -> None:
    # "Forum+" on derStandard links to more posts; "STANDARD+" would be its premium mark.
    forum = discover(
        forum_page("Forum+", "Nachrichten | derStandard.at"), "https://www.derstandard.at/"
    )
    assert (forum[0].items, forum[0].paywalled, forum[0].paywall) == (20, 0, None)
    branded = discover(
        forum_page("STANDARD+", "Nachrichten | derStandard.at"), "https://www.derstandard.at/"
    )
    assert (branded[0].items, branded[0].paywalled) == (20, 5)
    # The brand from og:site_name and the title where the host says nothing (a saved file).
    saved = discover(forum_page("Z+", "ZEIT ONLINE | Nachrichten"), "http://localhost/")
    assert (saved[0].items, saved[0].paywalled) == (20, 5)


def test_plain_discover_output_says_when_no_stable_hook_exists(tmp_path) -> None:
    from tests.conftest import run_monitor

    saved = tmp_path / "page.html"
    saved.write_bytes(css_in_js_page(stable_hook=False))
    result = run_monitor("discover", str(saved), "--base-url", BASE)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == "#1: 140 items, 0 paywalled"
    assert second.startswith("    note:    no stable hook: `")
    assert second.endswith("` is a generated name that may change on the site's next deploy")


# -- no over-counting ----------------------------------------------------------------------------


def story(i: int, extra: str = "") -> str:
    return (
        f'<article class="teaser"><img src="/i/{i}.jpg" alt="">'
        f'<h2><a href="/news/{5000 + i}-a-long-story-slug">{teaser_title(i)}</a></h2>'
        f"<p>Summary {i}</p>{extra}</article>"
    )


def related(i: int) -> str:
    return "".join(
        f'<li><a href="/news/{8000 + 10 * i + k}-an-older-story-on-the-topic">'
        f"Older story {i}-{k} on the same topic</a></li>"
        for k in range(3)
    )


def test_a_teaser_with_more_on_this_topic_links_counts_once() -> None:
    # Every other teaser lists three related stories, as a named list or under a label.
    named = "".join(
        story(i, f'<ul class="related-links">{related(i)}</ul>' if i % 2 == 0 else "")
        for i in range(20)
    )
    labelled = "".join(
        story(i, f"<div><span>Mehr zum Thema</span><ul>{related(i)}</ul></div>" if i % 2 else "")
        for i in range(20)
    )
    for body in (page(f"<main>{named}</main>"), page(f"<main>{labelled}</main>")):
        proposal = best(body)
        assert (proposal.rule.item, proposal.items) == ("article.teaser", 20)
        items = extract_html(body, BASE, proposal.rule)
        assert [i.title for i in items] == [teaser_title(i) for i in range(20)]


def test_a_box_of_headlines_beside_a_lead_teaser_is_not_related_links() -> None:
    # A section box: a lead teaser and a plain list of more stories, four boxes on the page.
    # The list is not named or labelled as related stories: its stories are items.
    boxes = "".join(
        f'<section class="box">{story(b * 10)}<ul class="list">'
        + "".join(
            f'<li><a href="/news/{6000 + b * 10 + k}-another-story-slug-here">'
            f"{teaser_title(b * 10 + k)}</a></li>"
            for k in range(1, 6)
        )
        + "</ul></section>"
        for b in range(4)
    )
    body = page(f"<main>{boxes}</main>")
    assert best(body).items >= 20


def test_a_shop_promo_block_is_not_an_item() -> None:
    def promo(name: str, mark: str) -> str:
        return (
            f'<article class="teaser{mark}"><img src="/shop/{name}.jpg" alt="">'
            f'<h2><a href="https://shop.news.example/products/the-newsroom-{name}">'
            f"The newsroom {name} for every reader, now 20 percent off</a></h2>"
            f"<p>Only this week</p></article>"
        )

    stories = [story(i) for i in range(20)]
    on_block = page(
        "<main>"
        + "".join(stories[:10])
        + promo("mug", " teaser--shop")
        + "".join(stories[10:])
        + promo("cup", " teaser--shop")
        + "</main>"
    )
    proposal = best(on_block)
    assert (proposal.rule.item, proposal.items) == ("article.teaser:not(.teaser--shop)", 20)
    # The mark inside the block: a label saying "Anzeige".
    labelled = page(
        "<main>"
        + "".join(stories[:10])
        + promo("mug", "").replace("<p>", '<span class="label-anzeige">Anzeige</span><p>')
        + "".join(stories[10:])
        + "</main>"
    )
    proposal = best(labelled)
    assert (proposal.rule.item, proposal.items) == (
        "article.teaser:not(:has(.label-anzeige))",
        20,
    )
    assert "newsroom" not in " ".join(i.title for i in extract_html(labelled, BASE, proposal.rule))


def test_teasers_whose_headline_is_no_heading_link_are_another_box() -> None:
    # 30 teasers show their headline as a link in a heading; 8 blocks of the same markup
    # (audio episodes, image cards) wrap everything in one link: another kind of box.
    cards = "".join(
        f'<article class="teaser"><a href="/audio/{7000 + i}-episode-of-the-daily-show">'
        f'<img src="/a/{i}.jpg" alt=""><span>Episode {i} of the daily podcast show</span></a>'
        f"<button>Play</button></article>"
        for i in range(8)
    )
    body = page(f"<main>{''.join(story(i) for i in range(30))}</main><aside>{cards}</aside>")
    proposal = best(body)
    assert (proposal.rule.item, proposal.items) == ("article.teaser:has(h2 a)", 30)


def test_a_selector_that_loses_teasers_is_not_preferred_for_being_a_hair_shallower() -> None:
    # Most teasers are `article.stage`; three news-ticker teasers are `article.ticker`. Both
    # kinds carry data-pos. `article.stage` is not an outer block: the wider one wins.
    stage = "".join(
        f'<article class="stage" data-pos="{i}"><a href="/news/{4000 + i}-story-slug-x">'
        f'<img src="/s/{i}.jpg" alt=""><span>{teaser_title(i)}</span></a></article>'
        for i in range(120)
    )
    ticker = "".join(
        f'<article class="ticker" data-pos="t{i}"><a href="/news/{4100 + i}-ticker-slug-x">'
        f"<span>{teaser_title(200 + i)}</span><span>Live ticker</span></a></article>"
        for i in range(3)
    )
    proposal = best(page(f'<main>{stage}<div class="ticker-box">{ticker}</div></main>'))
    assert proposal.items == 123

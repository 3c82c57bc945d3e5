"""Which list of a page each teaser is in: a heading or another branch of the tree starts
a new run; a grid's rows and a teaser's own summary between headline links do not."""

from __future__ import annotations

from pathlib import Path

from monitor.extract.html import extract_html
from monitor.models import Rule

LI = Rule(item="li.item")


def runs(markup: str, rule: Rule = LI) -> list[tuple[str, int]]:
    items = extract_html(markup.encode(), "https://news.example/", rule)
    return [(i.title, i.listing) for i in items]


def li(n: int) -> str:
    return f'<li class="item"><a href="/story/{n}">Story {n}</a></li>'


def test_a_most_read_box_after_the_main_list_is_a_listing_of_its_own():
    markup = (
        f"<main><ul>{li(1)}{li(2)}{li(3)}</ul></main>"
        f"<aside><h3>Most read</h3><ol>{li(7)}{li(8)}</ol></aside>"
    )
    assert runs(markup) == [
        ("Story 1", 0),
        ("Story 2", 0),
        ("Story 3", 0),
        ("Story 7", 1),
        ("Story 8", 1),
    ]


def test_a_heading_between_two_boxes_of_one_shape_starts_a_new_listing():
    markup = (
        f"<section><h2>Politics</h2><ul>{li(1)}{li(2)}</ul></section>"
        f"<section><h2>Sport</h2><ul>{li(3)}{li(4)}</ul></section>"
    )
    assert [run for _, run in runs(markup)] == [0, 0, 1, 1]


def test_the_rows_of_a_grid_are_one_listing():
    rows = "".join(
        f'<div class="row">{li(n)}{li(n + 1)}{li(n + 2)}</div>'.replace("li", "div")
        for n in (1, 4, 7)
    )
    rule = Rule(item="div.item")
    assert [run for _, run in runs(f"<main>{rows}</main>", rule)] == [0] * 9


def test_headline_links_with_their_summaries_between_are_one_listing():
    teasers = "".join(
        f'<div class="teaser"><span class="kicker">Minsk</span><h2><a href="/story/{n}">'
        f"Story {n}</a></h2><p>What happened on day {n}, in two lines.</p></div>"
        for n in range(1, 5)
    )
    assert [run for _, run in runs(teasers, Rule(item="h2 a"))] == [0, 0, 0, 0]


def test_a_section_page_of_the_corpus_is_one_listing(corpus: Path):
    body = (corpus / "listing" / "de_spiegel_politik_2026-03-01.html").read_bytes()
    items = extract_html(body, "https://www.spiegel.de/politik/", Rule())
    assert len(items) == 20
    assert {i.listing for i in items} == {0}

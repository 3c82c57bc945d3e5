"""Listings: a suspect poll keeps the stored listing, a lasting shrink becomes the new size,
and `removed` is judged within the list an item was in, not against a box after it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.conftest import Site
from tests.listing_pages import check, page, source_table, write_config


def test_after_a_shrunk_poll_scroll_offs_are_not_reported_as_removed(site: Site, tmp_path: Path):
    url = site.set("/politics", page(range(20, 0, -1)))
    config = write_config(tmp_path, source_table(url))
    check(config)

    # A broken render that shows only the oldest three.
    site.set("/politics", page([3, 2, 1]))
    (health,) = check(config).events
    assert health["kind"] == "health"
    assert "only 3 items" in health["detail"] and "(the last poll listed 20)" in health["detail"]

    # Back to normal, two stories on top, two scrolled off the end.
    site.set("/politics", page(range(22, 2, -1)))
    run = check(config)
    assert run.kinds() == [
        ("health", "recovered: polling works again"),
        ("new", "Story number 22"),
        ("new", "Story number 21"),
    ]


def test_a_shrink_that_lasts_becomes_the_new_size_and_removals_resume(site: Site, tmp_path: Path):
    url = site.set("/politics", page(range(30, 0, -1)))
    config = write_config(tmp_path, source_table(url), top="failure_threshold = 3\n")
    check(config)

    # A redesign: 8 teasers from now on.
    site.set("/politics", page(range(30, 22, -1)))
    first, second, third = check(config), check(config), check(config)
    assert [e["kind"] for e in first.events] == ["health"]
    assert "only 8 items" in first.events[0]["detail"]
    assert second.kinds() == []
    assert third.kinds() == [
        ("health", "the listing now shows 8 items (it showed 30): taken as its new size")
    ]
    assert third.line() == "ok, 8 items, 1 health"

    # A story taken down from the middle of the new listing is a removal again.
    site.set("/politics", page([30, 29, 28, 26, 25, 24, 23]))
    assert check(config).kinds() == [("removed", "Story number 27")]


def test_scroll_offs_at_the_end_of_the_main_list_above_a_most_read_box_are_not_removed(
    site: Site, tmp_path: Path
):
    box = [101, 102, 103]
    url = site.set("/politics", page(range(10, 0, -1), box=box))
    config = write_config(tmp_path, source_table(url))
    assert check(config).line() == "baseline, 13 items, no events"

    # Two stories on top; two scroll off the end of the main list; the box stays.
    site.set("/politics", page(range(12, 2, -1), box=box))
    assert check(config).kinds() == [("new", "Story number 12"), ("new", "Story number 11")]

    # A story taken down from the middle of the main list is still a removal.
    site.set("/politics", page([12, 11, 10, 9, 8, 6, 5, 4, 3], box=box))
    assert check(config).kinds() == [("removed", "Story number 7")]


def profile_page(numbers: Iterable[int], box: Iterable[int] = ()) -> str:
    """A section page in the markup the `pozirk` profile's item selector reads, with a
    "Most read" box of the same teasers after the main list."""

    def teaser(n: int) -> str:
        return (
            f'<article class="post"><span class="cat-links">Politics</span>'
            f'<h2 class="entry-title"><a href="/en/news/{n}/">Story number {n}</a></h2></article>'
        )

    rows = "".join(teaser(n) for n in box)
    aside = f'<aside class="most-read"><h3>Most read</h3>{rows}</aside>' if rows else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Politics</title></head><body>"
        f"<main><h1>Politics</h1><div class='posts'>{''.join(map(teaser, numbers))}</div></main>"
        f"{aside}</body></html>"
    )


def profile_source(url: str) -> str:
    return f'[[sources]]\nname = "news"\nurl = "{url}"\nprofile = "pozirk"\n'


@pytest.mark.parametrize("reading", ["rule", "profile"])
def test_a_listing_turned_over_with_its_last_story_in_the_most_read_box_removes_nothing(
    site: Site, tmp_path: Path, reading: str
):
    render, table = (profile_page, profile_source) if reading == "profile" else (page, None)
    url = site.set("/politics", render(range(7, 0, -1)))
    config = write_config(tmp_path, table(url) if table else source_table(url))
    assert check(config).line() == "baseline, 7 items, no events"

    # Seven new stories fill the main list; the old last one is now in the "most read" box.
    site.set("/politics", render(range(14, 7, -1), box=[1]))
    run = check(config)
    assert run.kinds() == [("new", f"Story number {n}") for n in range(14, 7, -1)]
    assert run.line() == "ok, 8 items, 7 new"

    # A story taken down from the middle of the new main list is a removal again.
    site.set("/politics", render([14, 13, 11, 10, 9, 8], box=[1]))
    assert check(config).kinds() == [("removed", "Story number 12")]

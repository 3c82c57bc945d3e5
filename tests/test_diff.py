"""The pure diff: baseline, new, changed, removed vs scrolled off, and broken listings."""

from dataclasses import replace

from monitor.models import Change, Item, StoredItem
from monitor.pipeline.diff import diff_items, rebaseline, reread, same_listing

NOW = "2026-11-24T10:00:00+00:00"


def item(n: int, title: str | None = None, paywalled: bool = False, section: str = "Politics"):
    return Item(
        key=f"https://x.test/{n}",
        url=f"https://x.test/{n}",
        title=title or f"Headline {n}",
        section=section,
        paywalled=paywalled,
    )


def known(*items: Item) -> dict[str, StoredItem]:
    return {
        i.key: StoredItem(item=i, first_seen="t0", last_seen="t0", position=pos)
        for pos, i in enumerate(items)
    }


def kinds(result):
    return [(e.kind, e.item.key if e.item else None) for e in result.events]


def test_baseline_records_everything_silently():
    result = diff_items("s", {}, [item(1), item(2)], NOW, baseline=True, last_count=0)
    assert result.events == ()
    assert [i.key for i in result.listed] == ["https://x.test/1", "https://x.test/2"]


def test_first_poll_without_baseline_reports_every_item_as_new():
    result = diff_items("s", {}, [item(1), item(2)], NOW, baseline=False, last_count=0)
    assert kinds(result) == [("new", "https://x.test/1"), ("new", "https://x.test/2")]


def test_unchanged_listing_gives_no_events():
    old = [item(1), item(2), item(3)]
    result = diff_items("s", known(*old), list(old), NOW, baseline=False, last_count=3)
    assert result.events == ()
    assert result.gone == ()


def test_new_item_on_top_is_new_and_bottom_one_scrolls_off_silently():
    old = [item(1), item(2), item(3)]
    fresh = [item(0), item(1), item(2)]
    result = diff_items("s", known(*old), fresh, NOW, baseline=False, last_count=3)
    assert kinds(result) == [("new", "https://x.test/0")]
    assert result.gone == ("https://x.test/3",)


def test_item_vanishing_between_listed_items_is_removed():
    old = [item(1), item(2), item(3)]
    fresh = [item(1), item(3)]
    result = diff_items("s", known(*old), fresh, NOW, baseline=False, last_count=3)
    assert kinds(result) == [("removed", "https://x.test/2")]


def test_headline_edit_and_paywall_lift_are_one_change_event():
    old = [item(1, "Old headline", paywalled=True)]
    fresh = [item(1, "New headline", paywalled=False)]
    result = diff_items("s", known(*old), fresh, NOW, baseline=False, last_count=1)
    assert len(result.events) == 1
    event = result.events[0]
    assert event.kind == "changed"
    assert event.changes == (
        Change("title", "Old headline", "New headline"),
        Change("paywalled", True, False),
    )
    assert event.to_json()["before"] == {"title": "Old headline", "paywalled": True}
    assert event.to_json()["after"] == {"title": "New headline", "paywalled": False}


def test_section_move_is_a_change_but_a_lost_section_is_not():
    old = [item(1, section="Politics"), item(2, section="Economy")]
    fresh = [item(1, section="Society"), Item(key=item(2).key, url=item(2).url, title="Headline 2")]
    result = diff_items("s", known(*old), fresh, NOW, baseline=False, last_count=2)
    assert [(e.kind, e.changes) for e in result.events] == [
        ("changed", (Change("section", "Politics", "Society"),))
    ]


def test_whitespace_only_title_difference_is_no_change():
    old = [item(1, "A  headline")]
    fresh = [item(1, " A headline ")]
    assert diff_items("s", known(*old), fresh, NOW, baseline=False, last_count=1).events == ()


def test_empty_listing_is_a_health_event_never_mass_removal():
    old = [item(n) for n in range(40)]
    result = diff_items("s", known(*old), [], NOW, baseline=False, last_count=40)
    assert [e.kind for e in result.events] == ["health"]
    assert "40" in (result.events[0].detail or "")
    assert result.gone == ()
    assert result.suspect


def test_far_fewer_items_is_health_and_no_removals_but_new_items_still_count():
    old = [item(n) for n in range(40)]
    fresh = [item(100), item(0)]
    result = diff_items("s", known(*old), fresh, NOW, baseline=False, last_count=40)
    assert [e.kind for e in result.events] == ["health", "new"]
    assert result.gone == ()


def in_listing(listing: int, *items: Item) -> list[Item]:
    return [replace(i, listing=listing) for i in items]


def test_removed_is_judged_within_the_listing_an_item_was_in():
    main = in_listing(0, *(item(n) for n in (5, 4, 3, 2, 1)))
    box = in_listing(1, item(101), item(102))
    fresh = in_listing(0, item(7), item(6), item(5), item(4), item(3)) + box
    result = diff_items("s", known(*main, *box), fresh, NOW, baseline=False, last_count=7)
    # 2 and 1 scrolled off the end of the main list; the box after it bounds nothing.
    assert kinds(result) == [("new", "https://x.test/7"), ("new", "https://x.test/6")]
    assert set(result.gone) == {"https://x.test/2", "https://x.test/1"}

    fresh = in_listing(0, item(5), item(3), item(2), item(1)) + box
    result = diff_items("s", known(*main, *box), fresh, NOW, baseline=False, last_count=7)
    assert kinds(result) == [("removed", "https://x.test/4")]


def test_a_lasting_shrink_is_accepted_with_one_health_event_and_no_removals():
    old = [item(n) for n in range(30)]
    fresh = [item(n) for n in range(0, 30, 4)]
    result = diff_items(
        "s", known(*old), fresh, NOW, baseline=False, last_count=30, accept_shrink=True
    )
    assert [e.detail for e in result.events] == [
        "the listing now shows 8 items (it showed 30): taken as its new size"
    ]
    assert not result.suspect
    assert len(result.gone) == 22


def test_an_empty_listing_is_never_accepted_as_the_new_size():
    old = [item(n) for n in range(30)]
    result = diff_items(
        "s", known(*old), [], NOW, baseline=False, last_count=30, accept_shrink=True
    )
    assert result.suspect and result.gone == ()


def test_rebaseline_counts_what_the_new_rule_reads_differently_and_makes_no_event():
    old = [item(1), item(2, paywalled=True), item(3), item(4)]
    fresh = [item(1, paywalled=True), item(2), item(3, "Edited"), item(5), item(6)]
    result, summary = rebaseline(known(*old), fresh)
    assert result.events == ()
    assert summary == (
        "rule changed: 1 item now paywalled, 1 item now free, 1 title read differently,"
        " 2 items found that were not listed, 1 item no longer found"
    )
    assert result.gone == ("https://x.test/4",)


def test_an_item_that_moved_into_a_box_below_bounds_no_removal_in_its_old_list():
    main = in_listing(0, *(item(n) for n in (6, 5, 4, 3)))
    # 4 and 3 leave the main list; 3 is still shown, in the "most read" box after it.
    fresh = in_listing(0, item(6), item(5)) + in_listing(1, item(3))
    result = diff_items("s", known(*main), fresh, NOW, baseline=False, last_count=4)
    assert kinds(result) == []
    assert result.gone == ("https://x.test/4",)


def test_a_listing_that_turned_over_with_its_last_item_in_a_box_after_it_removes_nothing():
    main = in_listing(0, *(item(n) for n in range(7, 0, -1)))
    # The whole main list is new; its old last item is shown in the "most read" box after it.
    fresh = in_listing(0, *(item(n) for n in range(14, 7, -1))) + in_listing(1, item(1))
    result = diff_items("s", known(*main), fresh, NOW, baseline=False, last_count=7)
    assert kinds(result) == [("new", f"https://x.test/{n}") for n in range(14, 7, -1)]
    assert result.gone == tuple(f"https://x.test/{n}" for n in range(7, 1, -1))


def test_a_survivor_in_its_own_listing_still_bounds_removals_beside_a_box():
    main = in_listing(0, *(item(n) for n in range(7, 0, -1)))
    # 5 was taken down; 2 and 1 scrolled off, 1 into the box: 3 still bounds the main list.
    fresh = in_listing(0, item(8), item(7), item(6), item(4), item(3)) + in_listing(1, item(1))
    result = diff_items("s", known(*main), fresh, NOW, baseline=False, last_count=7)
    assert kinds(result) == [("new", "https://x.test/8"), ("removed", "https://x.test/5")]


def test_a_reread_tells_the_sites_news_and_not_what_only_the_new_rule_reads():
    stored = [item(3, paywalled=False), item(2, paywalled=False), item(1, paywalled=False)]
    # The old rule missed every paywall; the site published 4 and edited 2's headline.
    old_reading = [item(4), item(3), item(2, "Headline 2, updated"), item(1)]
    new_reading = [
        item(4, paywalled=True),
        item(3, paywalled=True),
        item(2, "Headline 2, updated"),
        item(1, paywalled=True),
    ]
    told = reread("s", known(*stored), old_reading, new_reading, NOW)
    assert told is not None
    result, summary = told
    assert [(e.kind, e.item.key, e.item.paywalled, e.changes) for e in result.events] == [
        ("new", "https://x.test/4", True, ()),
        (
            "changed",
            "https://x.test/2",
            False,
            (Change("title", "Headline 2", "Headline 2, updated"),),
        ),
    ]
    assert summary == "rule changed: 3 items now paywalled"
    assert result.listed == tuple(new_reading) and result.gone == ()


def test_a_reread_tells_a_field_only_where_both_rules_read_it_alike():
    stored = [item(2, section="Politics"), item(1, section="Politics")]
    # The site moved 2 to World and 1 to Sport; the new rule reads no section for 1.
    old_reading = [item(2, section="World"), item(1, section="Sport")]
    new_reading = [item(2, section="World"), replace(item(1), section=None)]
    told = reread("s", known(*stored), old_reading, new_reading, NOW)
    assert told is not None
    result, _ = told
    assert [(e.kind, e.item.key, e.changes) for e in result.events] == [
        ("changed", "https://x.test/2", (Change("section", "Politics", "World"),)),
    ]


def test_a_reread_tells_a_removal_only_when_neither_rule_lists_the_item():
    stored = [item(n) for n in (4, 3, 2, 1)]
    old_reading = [item(4), item(2), item(1)]  # 3 is gone for the old rule
    new_reading = [item(4), item(3), item(2), item(1)]  # the new rule still finds it
    told = reread("s", known(*stored), old_reading, new_reading, NOW)
    assert told is not None and told[0].events == ()
    assert told[1] == "rule changed: 1 item found that was not listed"

    told = reread("s", known(*stored), old_reading, [item(4), item(2), item(1)], NOW)
    assert told is not None
    assert kinds(told[0]) == [("removed", "https://x.test/3")]
    assert told[0].gone == ("https://x.test/3",)


def test_a_reread_whose_old_reading_looks_broken_is_left_to_a_silent_rebaseline():
    stored = [item(n) for n in range(12)]
    assert (
        reread("s", known(*stored), [item(0), item(1)], [item(n) for n in range(12)], NOW) is None
    )


def test_a_new_address_lists_the_same_listing_when_most_of_each_is_known_to_the_other():
    stored = known(*[item(n) for n in range(10, 0, -1)])  # 10 newest ... 1 oldest
    # Two stories published on top, two scrolled off the end: the same listing.
    assert same_listing(stored, [item(12), item(11), *[item(n) for n in range(10, 2, -1)]])
    # A shorter view of it: its newest five.
    assert same_listing(stored, [item(n) for n in range(10, 5, -1)])
    # Another section of the site that shares two stories with it.
    assert not same_listing(stored, [*[item(n) for n in range(30, 22, -1)], item(10), item(9)])
    # A home page that shows all ten among thirty others: the listing is not the page.
    assert not same_listing(stored, [item(n) for n in range(40, 0, -1)])
    # A view of only the oldest ones is not the listing's newest.
    assert not same_listing(stored, [item(3), item(2), item(1)])
    assert not same_listing(stored, [])

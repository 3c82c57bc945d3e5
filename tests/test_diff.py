"""The pure diff: baseline, new, changed, removed vs scrolled off, and broken listings."""

from monitor.models import Change, Item, StoredItem
from monitor.pipeline.diff import diff_items

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

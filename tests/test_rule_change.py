"""Rule changes are not site changes: after an edit of a source's rule or URL the page is
re-read, whatever the server answers, without alerting what only the new rule or address
reads differently; what the site itself did meanwhile is told where the old rule can read
the page and the address still lists the same items. Only real changes alert afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Site, free_port
from tests.listing_pages import check, items, page, source_table, write_config
from tests.receivers import Webhook


@pytest.fixture
def hook():
    receiver = Webhook(free_port()).start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("validators", [True, False], ids=["answers-304", "same-bytes"])
def test_fixing_the_paywall_selector_alerts_nothing_and_says_what_it_reads_differently(
    site: Site, tmp_path: Path, hook: Webhook, validators: bool
):
    url = site.set("/politics", page(range(5, 0, -1), paid=[5, 3, 1]), validators=validators)
    wrong = 'paywall_selector = ".lock"\n'
    config = write_config(tmp_path, source_table(url, rule=wrong), channel=hook.url())
    assert check(config).line() == "baseline, 5 items, no events"

    fixed = 'paywall_selector = ".plus"\n'
    write_config(tmp_path, source_table(url, rule=fixed), channel=hook.url())
    run = check(config)

    assert (run.code, run.events) == (0, []), run.stderr
    assert "news: rule changed: 3 items now paywalled" in run.stderr
    assert run.line() == "rebaseline, 5 items, no events"
    # The page was requested afresh: a 304 would have told nothing about the new rule.
    assert "If-None-Match" not in site.requests_for("/politics")[-1].headers
    assert sorted(i["title"] for i in items(config) if i["paywalled"]) == [
        "Story number 1",
        "Story number 3",
        "Story number 5",
    ]
    assert hook.messages() == []

    # The site itself changes afterwards: that is alerted, once.
    site.set("/politics", page(range(5, 0, -1), paid=[5, 1]), validators=validators)
    run = check(config)
    assert [(e["kind"], e["title"], e["after"]) for e in run.events] == [
        ("changed", "Story number 3", {"paywalled": False})
    ]
    assert len(hook.messages()) == 1
    # And the next poll is a plain one again.
    plain = "not-modified" if validators else "unchanged"
    assert check(config).line() == f"{plain}, 5 items, no events"


def test_a_new_url_under_the_same_name_re_reads_its_listing_without_alerting_it_as_new(
    site: Site, tmp_path: Path, hook: Webhook
):
    old = site.set("/old", page([3, 2, 1]))
    new = site.set("/new", page([13, 12, 11, 10]))
    config = write_config(tmp_path, source_table(old), channel=hook.url())
    assert check(config).line() == "baseline, 3 items, no events"

    write_config(tmp_path, source_table(new), channel=hook.url())
    run = check(config)

    assert (run.code, run.events) == (0, []), run.stderr
    assert "news: rule changed: 4 items found that were not listed, 3 items no longer found" in (
        run.stderr
    )
    assert hook.messages() == []

    site.set("/new", page([14, 13, 12, 11, 10]))
    run = check(config)
    assert run.kinds() == [("new", "Story number 14")]
    assert len(hook.messages()) == 1


def test_a_rule_edit_that_reads_the_page_as_before_says_so(site: Site, tmp_path: Path):
    url = site.set("/politics", page([3, 2, 1]))
    config = write_config(tmp_path, source_table(url))
    check(config)

    write_config(tmp_path, source_table(url, rule='title = "a"\n'))
    run = check(config)

    assert run.events == []
    assert "news: rule changed: the page reads as before" in run.stderr


def test_a_rule_edit_tells_what_the_site_did_at_the_same_poll_and_nothing_the_rule_reads_anew(
    site: Site, tmp_path: Path, hook: Webhook
):
    url = site.set("/politics", page(range(5, 0, -1), paid=[5, 3, 1]))
    wrong = 'paywall_selector = ".lock"\n'
    config = write_config(tmp_path, source_table(url, rule=wrong), channel=hook.url())
    assert check(config).line() == "baseline, 5 items, no events"

    # The paywall selector is fixed; meanwhile the site published a paywalled story 6 and
    # edited the headline of story 4.
    titles = {4: "Story number 4, updated"}
    site.set("/politics", page(range(6, 0, -1), paid=[6, 5, 3, 1], titles=titles))
    fixed = 'paywall_selector = ".plus"\n'
    write_config(tmp_path, source_table(url, rule=fixed), channel=hook.url())
    run = check(config)

    assert run.code == 0, run.stderr
    assert [
        (e["kind"], e["title"], e["paywalled"], e["before"], e["after"]) for e in run.events
    ] == [
        ("new", "Story number 6", True, None, None),
        (
            "changed",
            "Story number 4, updated",
            False,
            {"title": "Story number 4"},
            {"title": "Story number 4, updated"},
        ),
    ]
    # What the new rule reads differently on this page, the new story's paywall included.
    assert "news: rule changed: 4 items now paywalled" in run.stderr
    assert run.line() == "rebaseline, 6 items, 1 new, 1 changed"
    # One message to the channel, a block per alert.
    assert [block for m in hook.messages() for block in m.split("\n\n")] == [
        f"🔒 Story number 6\nnews\n{site.url('/story/6')}",
        "✏️ Story number 4, updated\nnews\nheadline changed from «Story number 4» to"
        f" «Story number 4, updated»\n{site.url('/story/4')}",
    ]
    assert sorted(i["title"] for i in items(config) if i["paywalled"]) == [
        "Story number 1",
        "Story number 3",
        "Story number 5",
        "Story number 6",
    ]
    # The next poll reads as the new rule does: nothing more to tell.
    assert check(config).kinds() == []
    assert len(hook.messages()) == 1


def test_a_rule_edit_with_a_new_url_of_another_listing_re_reads_silently_whatever_the_site_did(
    site: Site, tmp_path: Path, hook: Webhook
):
    old = site.set("/politics", page([3, 2, 1]))
    config = write_config(tmp_path, source_table(old), channel=hook.url())
    check(config)

    # Another section, which also lists story 2, under a headline edited since.
    new = site.set("/world", page([14, 13, 12, 11, 2], titles={2: "Story number 2, updated"}))
    write_config(
        tmp_path, source_table(new, rule='paywall_selector = ".plus"\n'), channel=hook.url()
    )
    run = check(config)
    assert (run.code, run.events) == (0, []), run.stderr
    assert (
        "news: rule changed: 4 items found that were not listed, 1 title read differently,"
        " 2 items no longer found (the new address does not list the stored items:"
        " re-read silently)"
    ) in run.stderr
    assert run.line() == "rebaseline, 5 items, no events"
    assert hook.messages() == []


@pytest.mark.parametrize(
    "new_path", ["/politics/", "/politics?view=list", "/mirror/politics"], ids=str
)
def test_a_source_moved_to_another_address_of_its_listing_tells_what_the_site_published(
    site: Site, tmp_path: Path, hook: Webhook, new_path: str
):
    old = site.set("/politics", page([5, 4, 3, 2, 1]))
    config = write_config(tmp_path, source_table(old), channel=hook.url())
    assert check(config).line() == "baseline, 5 items, no events"

    # The same listing at another address; meanwhile story 6 was published and story 1
    # scrolled off the end.
    new = site.set(new_path, page([6, 5, 4, 3, 2]))
    write_config(tmp_path, source_table(new), channel=hook.url())
    run = check(config)

    assert run.code == 0, run.stderr
    assert run.kinds() == [("new", "Story number 6")]
    assert (
        "news: rule changed: the page reads as before (the new address lists the same items)"
        in run.stderr
    )
    assert run.line() == "rebaseline, 5 items, 1 new"
    assert hook.messages() == [f"Story number 6\nnews\n{site.url('/story/6')}"]
    # The next poll at the new address is a plain one.
    assert check(config).line() == "not-modified, 5 items, no events"


def test_a_source_moved_to_another_section_while_a_story_was_published_alerts_nothing(
    site: Site, tmp_path: Path, hook: Webhook
):
    old = site.set("/politics", page([5, 4, 3, 2, 1]))
    config = write_config(tmp_path, source_table(old), channel=hook.url())
    check(config)

    site.set("/politics", page([6, 5, 4, 3, 2]))
    new = site.set("/world", page([26, 25, 24, 23, 22, 6]))
    write_config(tmp_path, source_table(new), channel=hook.url())
    run = check(config)

    assert (run.code, run.events) == (0, []), run.stderr
    assert run.line() == "rebaseline, 6 items, no events"
    assert hook.messages() == []
    # The new section's own news is told from then on.
    site.set("/world", page([27, 26, 25, 24, 23, 22]))
    assert check(config).kinds() == [("new", "Story number 27")]

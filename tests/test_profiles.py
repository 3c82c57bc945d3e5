"""Built-in profiles are data: TOML files loaded by name."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from monitor.config.profiles import UnknownProfileError, load_profile, profile_names
from monitor.models import MonitorError, Rule


def test_profile_names_lists_the_toml_files() -> None:
    names = profile_names()
    assert "pozirk" in names
    assert names == sorted(names)
    files = {p.name for p in resources.files("monitor.config.profiles").iterdir()}
    assert {f"{n}.toml" for n in names} <= files


def test_pozirk_profile() -> None:
    kind, rule = load_profile("pozirk")
    assert kind == "html"
    assert isinstance(rule, Rule)
    assert rule.paywall_text[0] == "The material is available only to POZIRK+"
    assert "Матэрыял даступны толькі для POZIRK+" in rule.paywall_text
    assert rule.derive_from_marker is True
    assert rule.item and rule.title and rule.section and rule.date
    assert rule.link is None  # the headline's link, not a section link


def test_profile_names_are_case_insensitive() -> None:
    assert load_profile(" Pozirk ") == load_profile("pozirk")


@pytest.mark.parametrize("name", ["nope", "../pozirk", "pozirk.toml", ""])
def test_unknown_profile_lists_the_available_ones(name: str) -> None:
    with pytest.raises(UnknownProfileError) as raised:
        load_profile(name)
    assert isinstance(raised.value, MonitorError)
    assert isinstance(raised.value, KeyError)
    assert "available profiles: " in str(raised.value)
    assert "pozirk" in str(raised.value)


@pytest.mark.parametrize("name", profile_names())
def test_every_profile_is_valid_toml_with_known_keys(name: str) -> None:
    text = resources.files("monitor.config.profiles").joinpath(f"{name}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    assert set(data) <= {"kind", "description", "rule"}
    kind, rule = load_profile(name)
    assert kind in ("html", "feed")
    if kind == "html":
        assert rule.item or rule.paywall_text


@pytest.mark.parametrize("name", profile_names())
def test_profile_selectors_parse(name: str) -> None:
    from selectolax.lexbor import LexborHTMLParser

    _, rule = load_profile(name)
    tree = LexborHTMLParser("<div><a href='/x'>x</a></div>")
    for selector in (rule.item, rule.title, rule.link, rule.section, rule.date):
        if selector:
            tree.css(selector)  # raises on a selector lexbor cannot parse

"""Built-in site profiles: selectors and paywall markers kept as data (TOML).

A profile is a file ``<name>.toml`` in this package::

    kind = "html"                 # or "feed"
    description = "..."           # optional, for humans
    [rule]                        # any field of monitor.models.Rule
    item = "article.post"
    paywall_text = ["..."]

Example:

    >>> kind, rule = load_profile("pozirk")
    >>> kind, rule.derive_from_marker
    ('html', True)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from importlib import resources
from typing import Any, get_args

from monitor.models import MonitorError, Rule, SourceKind

__all__ = ["ProfileError", "UnknownProfileError", "load_profile", "profile_names"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_RULE_FIELDS = {f.name: f for f in fields(Rule)}
_TOP_KEYS = frozenset({"kind", "description", "rule"})


class ProfileError(MonitorError):
    """A built-in profile file is broken (a bug in the package, not in the config)."""


class UnknownProfileError(MonitorError, KeyError):
    """No profile has this name; the message lists the ones there are."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def profile_names() -> list[str]:
    """Names of the built-in profiles, sorted."""
    root = resources.files(__package__)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in root.iterdir()
        if entry.name.endswith(".toml") and _NAME.match(entry.name.removesuffix(".toml"))
    )


def load_profile(name: str) -> tuple[SourceKind, Rule]:
    """The source kind and Rule of the profile `name` (case-insensitive).

    Raises UnknownProfileError (a MonitorError and a KeyError) naming the profiles
    there are, and ProfileError if the file itself is invalid.
    """
    key = name.strip().lower()
    names = profile_names()
    if key not in names:
        known = ", ".join(names) or "none"
        raise UnknownProfileError(f"unknown profile {name!r}; available profiles: {known}")
    resource = resources.files(__package__).joinpath(f"{key}.toml")
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {key!r}: invalid TOML: {exc}") from exc
    return _kind(key, data), _rule(key, data.get("rule", {}))


def _kind(name: str, data: dict[str, Any]) -> SourceKind:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ProfileError(f"profile {name!r}: unknown keys {sorted(unknown)}")
    kind = data.get("kind", "html")
    if kind not in get_args(SourceKind):
        raise ProfileError(f"profile {name!r}: kind must be html or feed, not {kind!r}")
    return kind  # type: ignore[no-any-return]


def _rule(name: str, table: dict[str, Any]) -> Rule:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _RULE_FIELDS:
            raise ProfileError(f"profile {name!r}: unknown rule key {key!r}")
        if key == "paywall_text":
            value = (value,) if isinstance(value, str) else tuple(value)
            if not all(isinstance(v, str) for v in value):
                raise ProfileError(f"profile {name!r}: paywall_text must be strings")
        elif key == "derive_from_marker":
            if not isinstance(value, bool):
                raise ProfileError(f"profile {name!r}: derive_from_marker must be true or false")
        elif not isinstance(value, str):
            raise ProfileError(f"profile {name!r}: rule.{key} must be a string")
        values[key] = value
    return Rule(**values)

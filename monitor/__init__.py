"""Watch news section pages and feeds; report new, edited, removed and paywalled items.

The public API is what this module offers, and only that::

    from monitor import Monitor

    with Monitor.open("config/monitor.toml") as m:
        for outcome in m.check():            # poll every source once
            print(outcome.source, outcome.status, outcome.error)
        for item in m.items(since="1d"):     # what the database knows
            print(item.title, item.url)

- `Monitor`: the application (`Monitor.open(config)`; `check`, `deliver`, `items`,
  `events`, `status`, `preview`, `discover`, each with an `..._async` form for code inside
  an event loop).
- Data a caller sees: `Item`, `ListedItem`, `Event`, `Change`, `CheckOutcome`, `Source`,
  `Rule`, `Settings`.
- Errors: `MonitorError` and its subclasses `ConfigError`, `FetchError`, `ExtractError`,
  `StoreError`, `UnknownSourceError`.

Every other module (monitor.pipeline, monitor.extract, monitor.alerts, monitor.daemon,
monitor.config, monitor.cli, monitor.demo) is private: it may change in any release.
Names are imported on first use, so `import monitor` loads no HTTP, alerting or scheduling
library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from monitor.app import ListedItem, Monitor, UnknownSourceError
    from monitor.models import (
        Change,
        ConfigError,
        Event,
        ExtractError,
        FetchError,
        Item,
        MonitorError,
        Rule,
        Settings,
        Source,
        StoreError,
    )
    from monitor.pipeline.check import CheckOutcome

# Public name -> the module that defines it.
_PUBLIC = {
    "Monitor": "monitor.app",
    "ListedItem": "monitor.app",
    "UnknownSourceError": "monitor.app",
    "CheckOutcome": "monitor.pipeline.check",
    "Change": "monitor.models",
    "ConfigError": "monitor.models",
    "Event": "monitor.models",
    "ExtractError": "monitor.models",
    "FetchError": "monitor.models",
    "Item": "monitor.models",
    "MonitorError": "monitor.models",
    "Rule": "monitor.models",
    "Settings": "monitor.models",
    "Source": "monitor.models",
    "StoreError": "monitor.models",
}

__all__ = [
    "Change",
    "CheckOutcome",
    "ConfigError",
    "Event",
    "ExtractError",
    "FetchError",
    "Item",
    "ListedItem",
    "Monitor",
    "MonitorError",
    "Rule",
    "Settings",
    "Source",
    "StoreError",
    "UnknownSourceError",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])

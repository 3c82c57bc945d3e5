"""Refuse markup nested so deep that parsing it would hold a worker for minutes.

lexbor (like every HTML5 tree builder) walks the stack of open elements for many start
tags (`<div>`, `<ul>`, `<section>`, ... close an open `<p>` "in button scope"), so a page
of N nested elements costs N² steps: 100,000 nested `<div>` take 17 s to parse, and the
10 MB size cap leaves room for 2,000,000 (hours). Browsers cap the depth instead (Chrome at
512); we refuse such a page with a clear error.

The check is cheap where it does not matter: a body with few tags cannot be slow (N² stays
under a fraction of a second), so only a body with more than `TAG_BUDGET` tags is scanned,
in one pass, for its nesting depth.
"""

from __future__ import annotations

import re
from typing import Any

from monitor.models import ExtractError

# Below this many tags the quadratic worst case stays under ~0.5 s; no scan needed.
TAG_BUDGET = 20_000
# Deeper than this is refused (real pages stay well under 100; Chrome flattens at 512).
MAX_DEPTH = 1_000

_TAG_BYTES = re.compile(rb"<!--|<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>")
_TAG_TEXT = re.compile(r"<!--|<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>")
# Elements whose content is text: tags inside them are not tags.
_RAW_TEXT = ("script", "style", "textarea", "title", "xmp", "noembed", "noframes", "plaintext")
_RAW_END_BYTES = {n: re.compile(rf"</{n}".encode(), re.IGNORECASE) for n in _RAW_TEXT}
_RAW_END_TEXT = {n: re.compile(rf"</{n}", re.IGNORECASE) for n in _RAW_TEXT}
# Elements that never nest: void elements, and those an open one of the same kind (or its
# parent's end) closes implicitly, so unclosed ones do not deepen the tree.
_FLAT = frozenset(
    "area base br col embed hr img input link meta param source track wbr keygen"  # noqa: SIM905
    " p li dt dd option optgroup tr td th thead tbody tfoot caption colgroup"
    " rb rp rt rtc html head body".split()
)


def check_nesting(markup: bytes | str, limit: int = MAX_DEPTH) -> None:
    """Raise ExtractError when `markup` nests elements deeper than `limit`."""
    depth = nesting_depth(markup, limit)
    if depth > limit:
        raise ExtractError(
            f"page nests elements more than {limit} deep: refused (parsing it would take minutes)"
        )


def nesting_depth(markup: bytes | str, stop_at: int | None = None) -> int:
    """Approximate nesting depth of HTML markup, 0 for a body with few tags (see module
    docstring). Stops counting once it exceeds `stop_at`."""
    if isinstance(markup, bytes):
        if markup.count(b"<") <= TAG_BUDGET:
            return 0
        return _depth(markup, _TAG_BYTES, _RAW_END_BYTES, b"-->", stop_at)
    if markup.count("<") <= TAG_BUDGET:
        return 0
    return _depth(markup, _TAG_TEXT, _RAW_END_TEXT, "-->", stop_at)


def _depth(
    markup: Any,
    tag: re.Pattern[Any],
    raw_end: dict[str, re.Pattern[Any]],
    comment_end: Any,
    stop_at: int | None,
) -> int:
    stack: list[str] = []
    open_count: dict[str, int] = {}
    deepest = 0
    pos = 0
    size = len(markup)
    while (match := tag.search(markup, pos)) is not None:
        pos = match.end()
        raw_name = match.group(2)
        if raw_name is None:  # a comment: skip to its end
            end = markup.find(comment_end, pos)
            pos = size if end < 0 else end + 3
            continue
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        name = name.lower()
        closing, self_closing = match.group(1), match.group(3)
        if name in raw_end and not closing:
            end_match = raw_end[name].search(markup, pos)
            pos = size if end_match is None else end_match.start()
            continue
        if name in _FLAT or self_closing:
            continue
        if not closing:
            stack.append(name)
            open_count[name] = open_count.get(name, 0) + 1
            if len(stack) > deepest:
                deepest = len(stack)
                if stop_at is not None and deepest > stop_at:
                    return deepest
        elif open_count.get(name):
            # An end tag closes its element and everything opened inside it.
            while stack:
                top = stack.pop()
                open_count[top] -= 1
                if top == name:
                    break
    return deepest

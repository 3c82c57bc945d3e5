"""Which listing of a page each item block belongs to: pure, no I/O.

One item selector often matches more than one list: the main listing and a "most read" box
after it, a sidebar, a box of teasers per topic. Whether an item that vanished was removed
or merely scrolled off the end of its list can only be told within its own list (see
monitor.pipeline.diff), so each block gets the index of its *run*. Two blocks in a row
belong to one run unless

- a heading stands between them (the title of the next box: "Most read", "Sport"), or
- they hang in the tree in different ways: the elements from their nearest common ancestor
  down to each block differ in tags (`ul > li > article` against `aside > div > article`).

Teasers of one list, a grid's rows, and a teaser's own summary or date between two headline
links keep one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from selectolax.lexbor import LexborNode

_WORD = re.compile(r"\w")
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HEADING_SELECTOR = "h1, h2, h3, h4, h5, h6, [role=heading]"


def listing_runs(blocks: list[LexborNode]) -> list[int]:
    """The run index of each block (blocks in page order): 0 for the first run."""
    runs: list[int] = []
    run = 0
    for index, block in enumerate(blocks):
        if index and _boundary_between(blocks[index - 1], block):
            run += 1
        runs.append(run)
    return runs


def _boundary_between(first: LexborNode, second: LexborNode) -> bool:
    """Does a new run start at `second`, the block after `first`?"""
    ancestors = {node.mem_id for node in _up(first)}
    second_chain: list[LexborNode] = []
    node: LexborNode | None = second
    while node is not None and node.mem_id not in ancestors:
        second_chain.append(node)
        node = node.parent
    if node is None or not second_chain or node.mem_id == first.mem_id:
        return False  # nested blocks: one teaser holds another
    common = node.mem_id
    first_chain: list[LexborNode] = []
    node = first
    while node is not None and node.mem_id != common:
        first_chain.append(node)
        node = node.parent
    if [n.tag for n in first_chain] != [n.tag for n in second_chain]:
        return True
    # Everything after `first` inside each of its ancestors below the common one ...
    if any(_any_heading(_following(link)) for link in first_chain[:-1]):
        return True
    # ... the siblings between the two branches ...
    if _any_heading(_until(_following(first_chain[-1]), second_chain[-1])):
        return True
    # ... and everything before `second` inside each of its ancestors below the common one.
    return any(_any_heading(_preceding(link)) for link in second_chain[:-1])


def _up(node: LexborNode) -> Iterator[LexborNode]:
    current: LexborNode | None = node
    while current is not None:
        yield current
        current = current.parent


def _following(node: LexborNode) -> Iterator[LexborNode]:
    current = node.next
    while current is not None:
        yield current
        current = current.next


def _preceding(node: LexborNode) -> Iterator[LexborNode]:
    current = node.prev
    while current is not None:
        yield current
        current = current.prev


def _until(nodes: Iterator[LexborNode], stop: LexborNode) -> Iterator[LexborNode]:
    for node in nodes:
        if node.mem_id == stop.mem_id:
            return
        yield node


def _any_heading(nodes: Iterator[LexborNode]) -> bool:
    for node in nodes:
        if node.tag in HEADINGS:
            if _WORD.search(node.text(deep=True)):
                return True
        elif not (node.tag or "-").startswith("-") and any(
            _WORD.search(h.text(deep=True)) for h in node.css(HEADING_SELECTOR)
        ):
            return True
    return False

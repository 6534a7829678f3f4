"""Decisions both response codecs make the same way, kept in one place."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rehber.types import Group, WireGeneration
from rehber.wire.actions import LEGACY_SHAPED, Action


def legacy_shaped(action: Action, generation: WireGeneration) -> bool:
    """Whether ``action`` answers in the legacy (wrapped-list) shapes for this account."""
    return generation == "legacy" and action.name in LEGACY_SHAPED


def walk_groups(roots: Sequence[Group]) -> Iterator[tuple[bool, Group, int]]:
    """Pre-order ``(opening, group, depth)`` events over group trees: open, children, close.

    Groups nest to any depth (``spec.md``), so the codecs write trees from this flat event
    stream instead of recursing, which would hit Python's recursion limit (and orjson's nesting
    limit of 254) on a deep enough tree.
    """
    stack: list[tuple[bool, Group, int]] = [(True, group, 0) for group in reversed(roots)]
    while stack:
        event = stack.pop()
        yield event
        opening, group, depth = event
        if opening:
            stack.append((False, group, depth))
            stack.extend((True, child, depth + 1) for child in reversed(group.children))

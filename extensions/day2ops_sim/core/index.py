"""Per-property indexes over an entity collection, so that a `$filter` page over tens of thousands of
entities reads only the entities its conditions can match.

An index holds every entity's value of one property as (key, seq) in sorted order, where seq is the
entity's place in creation order and the key keeps kinds apart as the filter does ('b' for booleans,
'n' for numbers, 's' for text): `eq`, `in`, orderings and `startswith` are then ranges found by
bisection. Missing, null and non-scalar values are left out, since no condition an index answers
matches them. The collection keeps its indexes current on every add, change and removal.
"""

import bisect
import math
from collections.abc import Callable

from .odata import Term, walker

# Above every seq and below every key of the next kind: bounds for bisection.
_LAST = math.inf


def key_of(value: object) -> tuple | None:
    """The index key of a value, or None when no indexed condition can match it."""
    if value is True or value is False:
        return ("b", value)
    if value.__class__ is int or (value.__class__ is float and not math.isnan(value)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    return None


def _literal_key(kind: str, value: object) -> tuple:
    return ({"bool": "b", "num": "n", "str": "s"}[kind], value)


def _after_prefix(prefix: str) -> str | None:
    """The least text greater than every text starting with `prefix`; None when there is none."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


class FieldIndex:
    """One property path's values of every entity, sorted, with each entity's current key."""

    def __init__(self, path: str) -> None:
        self.get: Callable[[dict], object] = walker(tuple(path.split("/")))
        self.keys: dict[int, tuple] = {}
        self.entries: list[tuple[tuple, int]] = []

    def build(self, entities: dict[int, dict]) -> None:
        self.keys = {}
        for seq, entity in entities.items():
            key = key_of(self.get(entity))
            if key is not None:
                self.keys[seq] = key
        self.entries = sorted((key, seq) for seq, key in self.keys.items())

    def put(self, seq: int, entity: dict | None) -> None:
        """The entity at `seq` as it is now (None: removed)."""
        old = self.keys.get(seq)
        new = None if entity is None else key_of(self.get(entity))
        if old == new:
            return
        if old is not None:
            del self.entries[bisect.bisect_left(self.entries, (old, seq))]
            del self.keys[seq]
        if new is not None:
            bisect.insort(self.entries, (new, seq))
            self.keys[seq] = new

    def span(self, term: Term) -> tuple[int, int]:
        """Where the entries `term` matches lie: one range of `entries`, for every term but `in`."""
        entries = self.entries
        if term.op == "startswith":
            prefix = term.values[0][1]
            upper = _after_prefix(prefix)
            hi = (("s", upper),) if upper is not None else (("s\0",),)
            return bisect.bisect_left(entries, (("s", prefix),)), bisect.bisect_left(entries, hi)
        key = _literal_key(*term.values[0])
        kind_start, kind_end = ((key[0],),), ((key[0] + "\0",),)
        if term.op == "eq":
            return bisect.bisect_left(entries, (key,)), bisect.bisect_right(entries, (key, _LAST))
        if term.op in ("gt", "ge"):
            lo = (
                bisect.bisect_right(entries, (key, _LAST))
                if term.op == "gt"
                else bisect.bisect_left(entries, (key,))
            )
            return lo, bisect.bisect_left(entries, kind_end)
        hi = (
            bisect.bisect_left(entries, (key,))
            if term.op == "lt"
            else bisect.bisect_right(entries, (key, _LAST))
        )
        return bisect.bisect_left(entries, kind_start), hi

    def spans(self, term: Term) -> list[tuple[int, int]]:
        if term.op != "in":
            return [self.span(term)]
        keys = sorted({_literal_key(kind, value) for kind, value in term.values})
        return [
            (bisect.bisect_left(self.entries, (key,)), bisect.bisect_right(self.entries, (key, _LAST)))
            for key in keys
        ]

    def count(self, term: Term) -> int:
        return sum(hi - lo for lo, hi in self.spans(term))

    def seqs(self, term: Term) -> list[int]:
        """The entities `term` matches, in creation order."""
        spans = self.spans(term)
        out = [seq for lo, hi in spans for _key, seq in self.entries[lo:hi]]
        # One key's entries are already in creation order; several keys' are merged here.
        if len(spans) > 1 or term.op != "eq":
            out.sort()
        return out

    def matcher(self, term: Term) -> Callable[[int], bool]:
        """Whether the entity at a seq matches `term`, from its key alone."""
        keys = self.keys
        if term.op == "startswith":
            prefix = term.values[0][1]
            return lambda seq: (k := keys.get(seq)) is not None and k[0] == "s" and k[1].startswith(prefix)
        if term.op == "in":
            wanted = {_literal_key(kind, value) for kind, value in term.values}
            return lambda seq: keys.get(seq) in wanted
        key = _literal_key(*term.values[0])
        kind = key[0]
        if term.op == "eq":
            return lambda seq: keys.get(seq) == key
        compare = {"gt": tuple.__gt__, "ge": tuple.__ge__, "lt": tuple.__lt__, "le": tuple.__le__}[term.op]
        return lambda seq: (k := keys.get(seq)) is not None and k[0] == kind and compare(k, key)

"""An entity collection with Prism's ETag discipline: every completed mutation changes the ETag."""

import base64
import itertools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator

from .errors import missing_etag, stale_etag
from .index import FieldIndex

# Rendered entities kept (a few pages' worth of every view), so memory stays bounded at any scale.
RENDERED_MAX = 4096
# Selections (a filter and an order's matches) kept until the next change, the oldest dropped first.
SELECTIONS_MAX = 32


class Collection:
    """Entities of one kind in their wire shape (camelCase dicts), keyed by extId, in creation order.

    Entities are changed in place and then `touch`ed, which keeps the ETag, the per-property indexes
    and the cached selections and renderings current.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, dict] = {}
        self._versions: dict[str, int] = {}
        self._seqs: dict[str, int] = {}
        self._by_seq: dict[int, dict] = {}
        self._indexes: dict[str, FieldIndex] = {}
        self._selections: dict[Hashable, list[int]] = {}
        self._next_seq = itertools.count()
        # Never restarted, so that a rendering cached before a clear can never pass for a later one.
        self._next_revision = itertools.count()
        self._revisions: dict[str, int] = {}
        self._rendered: OrderedDict[tuple, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.items.values())

    def __contains__(self, ext_id: str) -> bool:
        return ext_id in self.items

    def get(self, ext_id: str) -> dict | None:
        return self.items.get(ext_id)

    def add(self, entity: dict) -> dict:
        ext_id = entity["extId"]
        # A re-added extId keeps its place in creation order, as the dict of items does.
        seq = self._seqs.get(ext_id)
        if seq is None:
            seq = self._seqs[ext_id] = next(self._next_seq)
        self.items[ext_id] = entity
        self._by_seq[seq] = entity
        self._versions[ext_id] = 1
        self._changed(seq, entity)
        return entity

    def remove(self, ext_id: str) -> dict | None:
        self._versions.pop(ext_id, None)
        seq = self._seqs.pop(ext_id, None)
        if seq is not None:
            del self._by_seq[seq]
            self._changed(seq, None)
        return self.items.pop(ext_id, None)

    def touch(self, ext_id: str) -> None:
        self._versions[ext_id] = self._versions.get(ext_id, 0) + 1
        if ext_id in self._seqs:
            self._changed(self._seqs[ext_id], self.items[ext_id])

    def _changed(self, seq: int, entity: dict | None) -> None:
        if entity is not None:
            self._revisions[entity["extId"]] = next(self._next_revision)
        self._selections.clear()
        for index in self._indexes.values():
            index.put(seq, entity)

    def etag(self, ext_id: str) -> str:
        raw = f"{self.kind}:{ext_id}:{self._versions.get(ext_id, 0)}".encode()
        return base64.b64encode(raw).decode()

    def check_if_match(self, ext_id: str, if_match: str | None) -> None:
        """Prism requires the ETag of a fresh GET on updates and actions; `*` is no wildcard there."""
        if if_match is None or not if_match.strip():
            raise missing_etag()
        # Clients differ on quoting; the value itself must match.
        if if_match.strip().strip('"').removeprefix("W/").strip('"') != self.etag(ext_id):
            raise stale_etag()

    def clear(self) -> None:
        self.items.clear()
        self._versions.clear()
        self._seqs.clear()
        self._by_seq.clear()
        self._indexes.clear()
        self._selections.clear()
        self._revisions.clear()
        self._rendered.clear()

    def rendered(self, entity: dict, view: Hashable, render: Callable[[dict], str]) -> str:
        """`render(entity)`, cached for that `view` (what else the rendering depends on) until the
        entity changes."""
        key = (entity["extId"], self._revisions.get(entity["extId"]), view)
        text = self._rendered.get(key)
        if text is None:
            text = self._rendered[key] = render(entity)
            if len(self._rendered) > RENDERED_MAX:
                self._rendered.popitem(last=False)
        else:
            self._rendered.move_to_end(key)
        return text

    # -- listing -------------------------------------------------------------------------------

    def index(self, path: str) -> FieldIndex:
        """The index of a property path, built on first use and kept current from then on."""
        index = self._indexes.get(path)
        if index is None:
            index = self._indexes[path] = FieldIndex(path)
            index.build(self._by_seq)
        return index

    def select(
        self,
        predicate: Callable[[dict], bool] | None,
        order: Callable[[list[dict]], list[dict]] | None,
        key: tuple[str | None, str],
        start: int,
        stop: int,
    ) -> tuple[int, list[dict]]:
        """How many entities match `predicate` (None: all), and those from `start` to `stop` of them
        in `order` (None: creation order). `key` is the filter's and the order's text: its matches
        are kept until the next change, so paging through them costs a page each time."""
        seqs = self._selections.get(key)
        if seqs is None:
            seqs = self._selected(predicate, order)
            if len(self._selections) >= SELECTIONS_MAX:
                del self._selections[next(iter(self._selections))]
            self._selections[key] = seqs
        by_seq = self._by_seq
        return len(seqs), [by_seq[seq] for seq in seqs[start:stop]]

    def _selected(
        self,
        predicate: Callable[[dict], bool] | None,
        order: Callable[[list[dict]], list[dict]] | None,
    ) -> list[int]:
        seqs = self._matching(predicate) if predicate is not None else list(self._by_seq)
        if order is None:
            return seqs
        by_seq, ids = self._by_seq, self._seqs
        return [ids[entity["extId"]] for entity in order([by_seq[seq] for seq in seqs])]

    def _matching(self, predicate: Callable[[dict], bool]) -> list[int]:
        terms = getattr(predicate, "terms", ())
        if not terms:
            return [seq for seq, entity in self._by_seq.items() if predicate(entity)]
        ranked = sorted(((self.index(t.path), t) for t in terms), key=lambda pair: pair[0].count(pair[1]))
        index, term = ranked[0]
        seqs = index.seqs(term)
        for index, term in ranked[1:]:
            matches = index.matcher(term)
            seqs = [seq for seq in seqs if matches(seq)]
        if not getattr(predicate, "exact", False):
            by_seq = self._by_seq
            seqs = [seq for seq in seqs if predicate(by_seq[seq])]
        return seqs

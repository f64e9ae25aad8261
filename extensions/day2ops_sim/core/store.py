"""An entity collection with Prism's ETag discipline: every completed mutation changes the ETag."""

import base64
from collections.abc import Iterator

from .errors import missing_etag, stale_etag


class Collection:
    """Entities of one kind in their wire shape (camelCase dicts), keyed by extId, in creation order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: dict[str, dict] = {}
        self._versions: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.items.values())

    def __contains__(self, ext_id: str) -> bool:
        return ext_id in self.items

    def get(self, ext_id: str) -> dict | None:
        return self.items.get(ext_id)

    def add(self, entity: dict) -> dict:
        self.items[entity["extId"]] = entity
        self._versions[entity["extId"]] = 1
        return entity

    def remove(self, ext_id: str) -> dict | None:
        self._versions.pop(ext_id, None)
        return self.items.pop(ext_id, None)

    def touch(self, ext_id: str) -> None:
        self._versions[ext_id] = self._versions.get(ext_id, 0) + 1

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

"""Checkpoints of the chain's head, kept outside the database.

One JSON line per checkpoint: seq, entry_hash, at, key_id and an HMAC over them. The checkpoint file
holds the latest (replaced atomically), the log (`<file>.log`) every one, appended. `day2ops audit
verify --checkpoint` checks that the chain still holds each checkpointed (seq, entry_hash) and reaches
the latest: a chain cut short with its head rewritten, or recomputed wholesale (even by someone who has
the key, after the fact), no longer does. Ship the log off the host to keep it out of that someone's
reach.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from day2ops_app import private
from day2ops_app.audit.keys import KeySource, UnknownKey
from day2ops_app.db.tables import ChainEntry, ChainHead, utcnow

log = logging.getLogger("day2ops.audit")

# Writes are throttled to one a second; the end of a run forces one.
INTERVAL_SECONDS = 1.0
FIELDS = ("seq", "entry_hash", "at", "key_id")


def _message(point: dict) -> str:
    return "checkpoint|" + "|".join(str(point[f]) for f in FIELDS)


def log_path(path: Path) -> Path:
    return path.with_name(path.name + ".log")


class Checkpoints:
    def __init__(self, path: Path, keys: KeySource):
        self.path = path
        self.keys = keys
        self._lock = threading.Lock()
        self._last_write = float("-inf")
        self._written_seq = 0

    def offer(self, seq: int, entry_hash: str, force: bool = False) -> None:
        """A head that was just committed: checkpointed unless one was written less than a second ago."""
        with self._lock:
            if seq <= self._written_seq or (
                not force and time.monotonic() - self._last_write < INTERVAL_SECONDS
            ):
                return
            try:
                self._write(seq, entry_hash)
            except (OSError, ValueError) as error:
                # The commit stands; a later checkpoint covers it. Never fail a run for this.
                log.warning("audit checkpoint of entry %d not written to %s: %s", seq, self.path, error)
                return
            self._last_write = time.monotonic()
            self._written_seq = seq

    def _write(self, seq: int, entry_hash: str) -> None:
        keyring = self.keys.keyring()
        point = {"seq": seq, "entry_hash": entry_hash, "at": utcnow().isoformat(), "key_id": keyring.current}
        point["mac"] = keyring.mac(keyring.current, _message(point))
        line = json.dumps(point, separators=(",", ":"))
        private.append_line(log_path(self.path), line)
        # Another process may have checkpointed a later head meanwhile: the file keeps the latest.
        if _latest_seq(self.path) < seq:
            private.replace(self.path, line + "\n")


def _latest_seq(path: Path) -> int:
    try:
        return int(json.loads(path.read_text())["seq"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def check(session: Session, path: Path, keys: KeySource, problem) -> int:
    """Report through `problem` every checkpoint in `path` (the file or its log) that the chain does not
    bear out; returns how many checkpoints were read."""
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except OSError as error:
        problem(f"checkpoint file {path} cannot be read ({error.strerror}): pass the file or log to check")
        return 0
    if not lines:
        problem(f"checkpoint file {path} holds no checkpoint")
        return 0
    keyring = keys.keyring()
    points = []
    for number, line in enumerate(lines, 1):
        try:
            point = json.loads(line)
            valid = keyring.mac(point["key_id"], _message(point)) == point["mac"]
            point["seq"] = int(point["seq"])
        except UnknownKey as error:
            problem(f"{path} line {number}: {error}")
            continue
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            problem(f"{path} line {number} is not a checkpoint signed with the audit key: it was forged")
            continue
        points.append(point)
    found = _entry_hashes(session, [p["seq"] for p in points])
    for point in points:
        when = datetime.fromisoformat(point["at"]).strftime("%Y-%m-%d %H:%M:%S")
        seq = point["seq"]
        if seq not in found:
            problem(
                f"chain entry {seq}, checkpointed at {when}, is gone: entries were removed from the end "
                "and the head rewritten"
            )
        elif found[seq] != point["entry_hash"]:
            problem(f"chain entry {seq} differs from its checkpoint of {when}: the chain was rewritten")
    head = session.get(ChainHead, 1)
    latest = max((p["seq"] for p in points), default=0)
    if head is None or head.seq < latest:
        problem(f"the chain ends at entry {head.seq if head else 0} but was checkpointed at entry {latest}")
    return len(lines)


def _entry_hashes(session: Session, seqs: list[int], chunk: int = 1000) -> dict[int, str]:
    found: dict[int, str] = {}
    unique = sorted(set(seqs))
    for start in range(0, len(unique), chunk):
        rows = session.execute(
            select(ChainEntry.seq, ChainEntry.entry_hash).where(
                ChainEntry.seq.in_(unique[start : start + chunk])
            )
        )
        found.update({seq: entry_hash for seq, entry_hash in rows})
    return found

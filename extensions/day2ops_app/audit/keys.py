"""The audit chain's keys: HMAC-SHA256 keys kept outside the database, each with an id.

Write access to the database alone is then not enough to recompute the chain after a forgery. The key
file (JSON, 0600) keeps every key the chain was made with and names the current one, so entries made
before a rotation keep verifying. DAY2OPS_AUDIT_KEY, when set (from a secret manager, say), is the
current key instead; the file's keys still verify older entries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from day2ops_app import private
from day2ops_app.db.tables import utcnow

KEY_BYTES = 32
MIN_ENV_KEY = 32


class UnknownKey(Exception):
    def __init__(self, key_id: str, path: Path):
        super().__init__(
            f"audit key {key_id!r} is not in {path}: restore that key file from its backup "
            "(or set DAY2OPS_AUDIT_KEY_FILE to it)"
        )
        self.key_id = key_id


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    current: str
    path: Path

    def mac(self, key_id: str, message: str) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise UnknownKey(key_id, self.path)
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _new_key_id() -> str:
    return f"{utcnow():%Y%m%d}-{secrets.token_hex(4)}"


def _env_key_id(key: str) -> str:
    return "env-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class KeySource:
    """Where the keys are: the key file, created on first use, and the optional key from the
    environment. The keyring is read again when the file changes (a rotation by `day2ops audit
    rotate-key` reaches a running app at its next write)."""

    def __init__(self, path: Path, env_key: str = "", create: bool = True):
        """create: make the key file if it is missing (the app); a check of a store (`audit verify`)
        must not invent a key."""
        if env_key and len(env_key) < MIN_ENV_KEY:
            raise ValueError(
                f"DAY2OPS_AUDIT_KEY is {len(env_key)} characters: give at least {MIN_ENV_KEY}, "
                "for example the output of `openssl rand -base64 32`"
            )
        self.path = path
        self.env_key = env_key
        self.create = create
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._keyring: Keyring | None = None

    def keyring(self) -> Keyring:
        with self._lock:
            if not self.env_key and not self.path.exists():
                if not self.create:
                    raise ValueError(
                        f"no audit key file at {self.path}: set DAY2OPS_AUDIT_KEY_FILE to the app's key file"
                    )
                self._create()
            stat = self.path.stat() if self.path.exists() else None
            seen = (stat.st_mtime_ns, stat.st_size) if stat else None
            if self._keyring is None or seen != self._seen:
                self._keyring = self._read()
                self._seen = seen
            return self._keyring

    def _create(self) -> None:
        key_id = _new_key_id()
        private.write_new(self.path, _dump(key_id, {key_id: secrets.token_bytes(KEY_BYTES)}))

    def _stored(self) -> tuple[str | None, dict[str, bytes]]:
        if not self.path.exists():
            return None, {}
        try:
            data = json.loads(self.path.read_text())
            keys = {k: base64.b64decode(v) for k, v in data["keys"].items()}
            return data["current"], keys
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{self.path} is not a day2ops audit key file ({error})") from None

    def _read(self) -> Keyring:
        current, keys = self._stored()
        if self.env_key:
            current = _env_key_id(self.env_key)
            keys[current] = self.env_key.encode()
        if current not in keys:
            raise ValueError(f"{self.path} names current key {current!r} but does not hold it")
        return Keyring(keys, current, self.path)

    def rotate(self) -> str:
        """Add a key and make it current; returns its id. With DAY2OPS_AUDIT_KEY set, that key is kept
        in the file instead (its entries keep verifying once the variable changes)."""
        with self._lock:
            current, keys = self._stored()
            if self.env_key:
                key_id = _env_key_id(self.env_key)
                keys[key_id] = self.env_key.encode()
                current = current or key_id
            else:
                key_id = current = _new_key_id()
                keys[key_id] = secrets.token_bytes(KEY_BYTES)
            private.replace(self.path, _dump(current, keys))
            self._keyring = None
            return key_id


def _dump(current: str, keys: dict[str, bytes]) -> str:
    encoded = {k: base64.b64encode(v).decode() for k, v in keys.items()}
    return json.dumps({"current": current, "keys": encoded}, indent=2) + "\n"

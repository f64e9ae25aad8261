"""How the store finds the audit key and the checkpoint file.

The app and the CLI hand them to their Database, whose sessions carry them. A Database made without
them (the audit callback inside ansible-playbook, scripts) reads the same DAY2OPS_* settings: the same
key file, and checkpoints only where DAY2OPS_AUDIT_CHECKPOINT_FILE names a file, since a checkpoint
belongs to one database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from day2ops_app.audit.checkpoint import Checkpoints
from day2ops_app.audit.keys import KeySource

if TYPE_CHECKING:
    from day2ops_app.settings import Settings


@dataclass
class AuditContext:
    keys: KeySource
    checkpoints: Checkpoints | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, own_store: bool = True, create_key: bool = True
    ) -> AuditContext:
        """own_store: the settings' database is the one written to, so it is checkpointed (by default
        in data_dir); otherwise only to a checkpoint file named explicitly."""
        keys = KeySource(
            settings.audit_key_file or settings.data_dir / "audit.key",
            settings.audit_key.get_secret_value(),
            create=create_key,
        )
        path = settings.audit_checkpoint_file
        if path is None and own_store:
            path = settings.data_dir / "audit.checkpoint"
        return cls(keys, Checkpoints(path, keys) if path else None)


def of(session: Session) -> AuditContext:
    return session.info.get("audit") or _from_environment()


@cache
def _from_environment() -> AuditContext:
    from day2ops_app.settings import Settings

    return AuditContext.from_settings(Settings(), own_store=False)

"""The working tree as `ansible_collections/day2ops/ahv`, so tests import and run the source itself."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / "build" / "test-collections"


def collections_path() -> Path:
    """A directory holding `ansible_collections/day2ops/ahv` -> the repository (a symlink)."""
    link = COLLECTIONS / "ansible_collections" / "day2ops" / "ahv"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    return COLLECTIONS


def importable() -> None:
    """Make `import ansible_collections.day2ops.ahv...` resolve to the working tree."""
    path = str(collections_path())
    if path not in sys.path:
        sys.path.insert(0, path)


def ansible_env(tmp_path: Path, env: dict | None = None) -> dict:
    """The environment of an ansible-playbook run: this collection, a private ANSIBLE_HOME, no colour."""
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        **(env or {}),
    }

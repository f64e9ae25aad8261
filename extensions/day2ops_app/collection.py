"""The collection as Ansible and Python see it: `ansible_collections/day2ops/ahv` -> this repository."""

from __future__ import annotations

import sys
from pathlib import Path

from day2ops_app.settings import REPO


def collections_path(data_dir: Path) -> Path:
    link = data_dir / "collections" / "ansible_collections" / "day2ops" / "ahv"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(REPO, target_is_directory=True)
    return data_dir / "collections"


def importable(data_dir: Path) -> None:
    """The app uses the collection's own Prism client: one place for every HTTP detail of Prism."""
    path = str(collections_path(data_dir))
    if path not in sys.path:
        sys.path.insert(0, path)

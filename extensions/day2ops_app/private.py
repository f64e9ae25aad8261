"""Files only the app's user may read: the store, its key, checkpoints, run directories.

Modes are set explicitly, not left to the umask: a 0022 umask would make them readable by everyone.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.engine import make_url


def private_dir(path: Path) -> Path:
    """The app's own directory (data_dir, runs): created 0700, and tightened to 0700 if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create the file empty if it is missing; either way, only its owner may read it."""
    _parent(path)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    _tighten(path, 0o600)
    return path


def _parent(path: Path) -> None:
    # A missing parent is made 0700; an existing one (/tmp, /var/lib) is not the app's to change.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)


def _tighten(path: Path, mode: int) -> None:
    if path.stat().st_uid == os.getuid():
        path.chmod(mode)


def write_new(path: Path, text: str) -> bool:
    """Write a 0600 file only if no file is there yet (two processes starting at once keep one);
    True if this call wrote it."""
    _parent(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    _write(temporary, text)
    try:
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink()


def replace(path: Path, text: str) -> None:
    """Write a 0600 file atomically: readers see the old or the new content, never half of it."""
    _parent(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    _write(temporary, text)
    os.replace(temporary, path)


def _write(path: Path, text: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


def append_line(path: Path, line: str) -> None:
    """One line, in one write to an O_APPEND file: lines from several processes do not interleave."""
    _parent(path)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line.rstrip("\n") + "\n").encode())
    finally:
        os.close(fd)


def private_sqlite(url: str) -> None:
    """A SQLite store is created 0600 in a 0700 directory before SQLite opens it; SQLite gives its
    -wal and -shm files the database file's mode. An existing store is tightened the same way."""
    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    private_file(path)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            _tighten(companion, 0o600)

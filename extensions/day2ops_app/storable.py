"""Text the store cannot hold: PostgreSQL refuses NUL in any text, and neither driver encodes a lone
surrogate (which JSON's \\ud800 escapes can make). Such input is a 422 naming the field, not a 500."""

from __future__ import annotations

import re

INVALID = re.compile("[\x00\ud800-\udfff]")
WHY = "holds a NUL character or a lone surrogate, which no text can store; remove it"


def unstorable(value) -> bool:
    """True if a string in `value` (a JSON value: strings, lists and dicts, keys too) cannot be stored."""
    pending = [value]
    while pending:  # a loop, not recursion: a deeply nested body must not exhaust the stack
        current = pending.pop()
        if isinstance(current, str):
            if INVALID.search(current):
                return True
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list | tuple):
            pending.extend(current)
    return False

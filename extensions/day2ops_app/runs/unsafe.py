"""User values as Ansible's unsafe text: a YAML dumper that tags them `!unsafe`.

Ansible templates every extra var it is given, so a form value of `{{ lookup('pipe', 'id') }}` would run
on this machine. Values tagged `!unsafe` are never templated (ansible-core's own marking; AWX writes the
launch-time extra vars of a job the same way). Mapping keys stay plain: they are the catalog's variable
names, never a user's.
"""

from __future__ import annotations

import yaml


class Unsafe(str):
    """A string Ansible must keep as it is."""


class UnsafeDumper(yaml.SafeDumper):
    pass


UnsafeDumper.add_representer(Unsafe, lambda dumper, value: dumper.represent_scalar("!unsafe", str(value)))


def untemplated(value):
    """The value with every string in it made Unsafe; other scalars as they are. An empty string stays
    plain: there is nothing in it to template, and ansible-core 2.19 reads `!unsafe ''` as null."""
    if isinstance(value, str):
        return Unsafe(value) if value else value
    if isinstance(value, dict):
        return {k: untemplated(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [untemplated(v) for v in value]
    return value

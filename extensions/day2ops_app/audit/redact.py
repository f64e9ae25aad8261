"""Secrets out of everything stored: inputs declared secret, and any secret value wherever it shows."""

from __future__ import annotations

MASK = "********"


class Redactor:
    def __init__(self, secrets: list[str] | None = None):
        # Longest first, so a secret containing another is masked whole. Tiny values would mask noise.
        self.secrets = sorted(
            {s for s in (secrets or []) if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True
        )

    def text(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        return value

    def scrub(self, value):
        if not self.secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


def redact_inputs(inputs: dict, secret_names: set[str]) -> dict:
    return {k: (MASK if k in secret_names and v not in (None, "") else v) for k, v in inputs.items()}

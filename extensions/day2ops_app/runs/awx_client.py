"""The AWX API v2 as the AWX backend uses it: Bearer token, JSON, paged lists, and retries that honour
Retry-After. Errors carry the method, the path, AWX's status and its detail, never the token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urljoin

import requests

# AWX answers 429 when throttled and 503 while it starts or upgrades: the request did not happen. A
# gateway's 502/504 or a dropped connection may hide a request that did, so only reads retry those.
RETRY_ALWAYS = frozenset({429, 503})
RETRY_READS = frozenset({502, 504})
BACKOFF_CAP_SECONDS = 30.0
RETRY_AFTER_CAP_SECONDS = 120.0


class AwxError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # AWX's HTTP status; None when AWX did not answer


class AwxClient:
    def __init__(self, url: str, token: str, verify: bool, attempts: int = 6, timeout: float = 30.0):
        self.base = url.rstrip("/") + "/"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.session.verify = verify
        self.attempts = attempts
        self.timeout = timeout

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict | None = None) -> dict:
        return self._call("POST", path, json=body or {})

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every result of a list, following its `next` links."""
        page = self.get(path, params)
        while True:
            yield from page.get("results", [])
            if not page.get("next"):
                return
            page = self.get(page["next"])

    def find(self, kind: str, name: str) -> dict | None:
        """The one object of a kind (`job_templates`) with that exact name, or None."""
        found = list(self.pages(f"/api/v2/{kind}/", {"name": name}))
        if len(found) > 1:
            raise AwxError(f"AWX has {len(found)} {kind} named {name!r}; the names must be unique")
        return found[0] if found else None

    def _call(self, method: str, path: str, **kwargs) -> dict:
        # The collection's own backoff and Retry-After reading (importable once the app has started).
        from ansible_collections.day2ops.ahv.plugins.module_utils._http import (
            backoff_seconds,
            retry_after_seconds,
        )

        url = urljoin(self.base, path.lstrip("/"))
        retryable = RETRY_ALWAYS | (RETRY_READS if method == "GET" else frozenset())
        attempt = 0
        while True:
            attempt += 1
            last = attempt == self.attempts
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                if method != "GET" or last:
                    raise AwxError(f"AWX {method} {path}: {error.__class__.__name__}: {error}") from None
                time.sleep(backoff_seconds(attempt, cap=BACKOFF_CAP_SECONDS))
                continue
            if response.status_code in retryable and not last:
                waited = retry_after_seconds(response.headers.get("Retry-After"))
                backoff = backoff_seconds(attempt, cap=BACKOFF_CAP_SECONDS)
                time.sleep(min(waited, RETRY_AFTER_CAP_SECONDS) if waited is not None else backoff)
                continue
            if response.status_code >= 400:
                raise AwxError(
                    f"AWX {method} {path}: {response.status_code} {_detail(response)}", response.status_code
                )
            return response.json() if response.content else {}


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return str(body.get("detail", body) if isinstance(body, dict) else body)[:300]

"""The AWX API v2 as the AWX backend uses it: Bearer token, JSON and paged lists, over the collection's
transport (its retries, backoff and Retry-After). Errors carry the method, the path, AWX's status and its
detail, never the token."""

from __future__ import annotations

from collections.abc import Iterator

import requests

from day2ops_app.collection import ApiError, BearerAuth, Transport


class AwxError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # AWX's HTTP status; None when AWX did not answer


class AwxClient:
    def __init__(self, url: str, token: str, verify: bool, timeout: float = 30.0):
        self.transport = Transport(
            url, BearerAuth(token), ("DAY2OPS_AWX_URL",), validate_certs=verify, timeout=timeout
        )

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict | None = None) -> dict:
        return self._call("POST", path, body=body or {})

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
        # AWX keeps no request ids to replay: a launch whose answer was lost is not sent again (the
        # transport resends a POST only when AWX surely did not act).
        try:
            response = self.transport.request(method, path, f"call AWX {method} {path}", **kwargs)
        except ApiError as error:
            raise AwxError(str(error)) from None
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

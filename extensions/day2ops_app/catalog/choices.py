"""Form choices read live from Prism Central through the collection's own client."""

from __future__ import annotations

import threading

from cachetools import TTLCache

from day2ops_app.collection import (
    ApiError,
    CategoryIndex,
    PrismClient,
    is_prism_central,
    list_clusters,
    list_templates,
    list_vm_names,
    read_template,
    recovery_points_of_vm,
    smoke_failed_ext_ids,
    template_versions,
    unless_gone,
)
from day2ops_app.settings import Settings

CACHE_SECONDS = 30.0
FRESH_SOURCES = frozenset({"recovery_points", "template_versions"})
SMOKE_FAILED_LABEL = " — failed smoke test"


class ChoicesUnavailable(Exception):
    """Prism could not be asked: the form says so instead of offering stale or empty choices."""


class PrismChoices:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = None
        # Bounded by time and by count: one list per `?parent=` a caller makes up would otherwise stay.
        self._cache: TTLCache[tuple, list[dict]] = TTLCache(settings.choices_cache_size, CACHE_SECONDS)
        self._lock = threading.Lock()

    def client(self):
        """The collection's Prism client, configured from the app's settings (one per app)."""
        return self._prism()

    def _prism(self):
        if self._client is None:
            s = self.settings
            if not s.prism_host:
                raise ChoicesUnavailable(
                    "Prism Central is not configured: set DAY2OPS_PRISM_HOST and credentials"
                )
            self._client = PrismClient.from_options(
                {
                    "nutanix_host": s.prism_host,
                    "nutanix_port": s.prism_port,
                    "nutanix_username": s.prism_username or None,
                    "nutanix_password": s.prism_password.get_secret_value() or None,
                    "nutanix_api_key": s.prism_api_key.get_secret_value() or None,
                    "validate_certs": s.prism_validate_certs,
                    "ca_path": s.prism_ca_path or None,
                    "max_retries": 2,
                }
            )
        return self._client

    def choices(
        self, source: str, key: str | None = None, parent: str | None = None, odata: str | None = None
    ):
        """[{value, label}] for one source; cached briefly so a form's dropdowns cost Prism little."""
        # `parent` is no part of the key: the sources that read it are never cached (FRESH_SOURCES), and a
        # `?parent=` made up per request must not keep one more copy of the same list each time.
        cache_key = (source, key, odata)
        with self._lock:  # TTLCache is not thread-safe
            hit = self._cache.get(cache_key)
        if hit is not None:
            return hit
        try:
            values = self._read(source, key, parent, odata)
        except ApiError as error:
            raise ChoicesUnavailable(str(error)) from None
        # A recovery point taken a moment ago must be offered at once; the other lists change slowly.
        if source not in FRESH_SOURCES:
            with self._lock:
                self._cache[cache_key] = values
        return values

    def _read(self, source, key, parent, odata):
        """`parent`: the chosen VM for recovery_points, the chosen template for template_versions.
        Every Prism path and OData expression is the collection's (its module_utils helpers)."""
        client = self._prism()
        reader = READERS.get(source)
        if reader is None:
            raise ChoicesUnavailable(f"unknown choices source {source}")
        return reader(client, key, parent, odata)


def _clusters(client, key, parent, odata):
    names = sorted(c["name"] for c in list_clusters(client) if not is_prism_central(c))
    return [{"value": n, "label": n} for n in names]


def _category_values(client, key, parent, odata):
    return [{"value": v, "label": v} for v in CategoryIndex.load(client, keys=[key]).values(key)]


def _vms(client, key, parent, odata):
    return [{"value": v["extId"], "label": v.get("name") or v["extId"]} for v in list_vm_names(client, odata)]


def _recovery_points(client, key, parent, odata):
    """The points of the chosen VM, newest first; none before a VM is chosen."""
    return [
        {"value": p["extId"], "label": f"{p.get('name') or p['extId']} ({p.get('creationTime', '')[:16]})"}
        for p in (recovery_points_of_vm(client, parent) if parent else [])
    ]


def _templates(client, key, parent, odata):
    return [
        {"value": t["extId"], "label": t.get("templateName") or t["extId"]} for t in list_templates(client)
    ]


def _template_versions(client, key, parent, odata):
    """Newest first, the active one marked: a rollback picks the one before it. A version the
    template_release role recorded as failed in its smoke test says so: it is activated only on request."""
    # No template chosen yet, or one Prism does not know: nothing to offer, and no outage.
    template = (parent and unless_gone(lambda: read_template(client, parent)[0], False)) or None
    versions = (template and template_versions(client, parent)) or []
    failed = set(smoke_failed_ext_ids(template.get("templateDescription"))) if template else set()
    return [
        {
            "value": v["extId"],
            "label": (v.get("versionName") or v["extId"])
            + (" (active)" if v.get("isActiveVersion") else "")
            + (SMOKE_FAILED_LABEL if v["extId"] in failed else ""),
        }
        for v in reversed(versions)
    ]


# choice source -> reader(client, key, parent, odata) -> [{value, label}]
READERS = {
    "clusters": _clusters,
    "category_values": _category_values,
    "vms": _vms,
    "recovery_points": _recovery_points,
    "templates": _templates,
    "template_versions": _template_versions,
}

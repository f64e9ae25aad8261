"""Form choices read live from Prism Central through the collection's own client."""

from __future__ import annotations

import threading

from cachetools import TTLCache

from day2ops_app.settings import Settings

CACHE_SECONDS = 30.0
FRESH_SOURCES = frozenset({"recovery_points", "template_versions"})


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
        from ansible_collections.day2ops.ahv.plugins.module_utils._prism import PrismClient

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
        from ansible_collections.day2ops.ahv.plugins.module_utils._http import ApiError

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
        from ansible_collections.day2ops.ahv.plugins.module_utils import (
            _lookup,
            _recovery_points,
            _templates,
            _vms,
        )

        client = self._prism()
        if source == "clusters":
            clusters = _lookup.list_clusters(client)
            names = sorted(
                c["name"]
                for c in clusters
                if "PRISM_CENTRAL" not in ((c.get("config") or {}).get("clusterFunction") or [])
            )
            return [{"value": n, "label": n} for n in names]
        if source == "category_values":
            values = _lookup.CategoryIndex.load(client, keys=[key]).values(key)
            return [{"value": v, "label": v} for v in values]
        if source == "vms":
            vms = _vms.list_vm_names(client, odata)
            return [{"value": v["extId"], "label": v.get("name") or v["extId"]} for v in vms]
        if source == "recovery_points":
            if not parent:
                return []
            points = _recovery_points.of_vm(client, parent)
            return [
                {
                    "value": p["extId"],
                    "label": f"{p.get('name') or p['extId']} ({p.get('creationTime', '')[:16]})",
                }
                for p in points
            ]
        if source == "templates":
            templates = _templates.list_templates(client)
            return [{"value": t["extId"], "label": t.get("templateName") or t["extId"]} for t in templates]
        if source == "template_versions":
            # No template chosen yet, or one Prism does not know: nothing to offer, and no outage.
            versions = (
                parent and _lookup.unless_gone(lambda: _templates.versions(client, parent), False)
            ) or []
            # Newest first, the active one marked: a rollback picks the one before it.
            return [
                {
                    "value": v["extId"],
                    "label": (v.get("versionName") or v["extId"])
                    + (" (active)" if v.get("isActiveVersion") else ""),
                }
                for v in reversed(versions)
            ]
        raise ChoicesUnavailable(f"unknown choices source {source}")

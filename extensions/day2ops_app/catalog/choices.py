"""Form choices read live from Prism Central through the collection's own client."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import yaml
from cachetools import TTLCache
from fastapi.responses import JSONResponse

from day2ops_app.collection import (
    ApiError,
    CategoryIndex,
    PrismClient,
    is_prism_central,
    list_clusters,
    list_templates,
    list_vm_names,
    read_template,
    read_vm,
    recovery_points_of_vm,
    smoke_failed_ext_ids,
    template_versions,
    unless_gone,
)
from day2ops_app.settings import Settings

CACHE_SECONDS = 30.0
# A wave file is read again on every ask: a wave added a moment ago is offered at once.
FRESH_SOURCES = frozenset({"recovery_points", "template_versions", "waves"})
SMOKE_FAILED_LABEL = " — failed smoke test"


class ChoiceList(list):
    """[{value, label}], with its JSON encoded once for every request that reads the cached list."""

    @cached_property
    def json(self) -> bytes:
        return JSONResponse(list(self)).body


class ChoicesUnavailable(Exception):
    """Prism could not be asked: the form says so instead of offering stale or empty choices."""


def offered_by(source: str) -> str:
    """Who offers a source's choices, for the messages that say they could not be read or checked."""
    return "the site's wave file" if source == "waves" else "Prism"


class PrismChoices:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = None
        # Bounded by time and by count: one list per `?parent=` a caller makes up would otherwise stay.
        self._cache: TTLCache[tuple, ChoiceList] = TTLCache(settings.choices_cache_size, CACHE_SECONDS)
        # Values found missing right after a fresh read: asking again for them must not cost Prism a read
        # per page poll (a drill VM deleted at clean-up stays unknown).
        self._missing: TTLCache[tuple, bool] = TTLCache(settings.choices_cache_size, CACHE_SECONDS)
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
        self,
        source: str,
        key: str | None = None,
        parent: str | None = None,
        odata: str | None = None,
        expected: frozenset[str] = frozenset(),
    ) -> ChoiceList:
        """[{value, label}] for one source; cached briefly so a form's dropdowns cost Prism little.
        `expected`: values the caller knows exist (a VM a run just created); a cached list without one of
        them is read again, once per value in CACHE_SECONDS."""
        # `parent` is no part of the key: the sources that read it are never cached (FRESH_SOURCES), and a
        # `?parent=` made up per request must not keep one more copy of the same list each time.
        cache_key = (source, key, odata)
        with self._lock:  # TTLCache is not thread-safe
            hit = self._cache.get(cache_key)
            stale = hit is not None and self._unseen(cache_key, hit, expected)
        if hit is not None and not stale:
            return hit
        try:
            values = ChoiceList(self._read(source, key, parent, odata))
        except ApiError as error:
            raise ChoicesUnavailable(str(error)) from None
        # A recovery point taken a moment ago must be offered at once; the other lists change slowly.
        if source not in FRESH_SOURCES:
            with self._lock:
                self._cache[cache_key] = values
                for value in expected - {c["value"] for c in values}:
                    self._missing[(cache_key, value)] = True
        return values

    def cached(self, source: str, key: str | None = None, odata: str | None = None) -> ChoiceList | None:
        """The list choices() would answer from its cache now; None when it would read (or always reads)."""
        with self._lock:
            return self._cache.get((source, key, odata))

    def _unseen(self, cache_key: tuple, hit: list[dict], expected: frozenset[str]) -> bool:
        """Whether `expected` holds a value the cached list lacks and no fresh read has missed lately."""
        if not expected:
            return False
        lacking = expected - {c["value"] for c in hit}
        return any((cache_key, value) not in self._missing for value in lacking)

    def _read(self, source, key, parent, odata):
        """`parent`: the chosen VM for recovery_points, the chosen template for template_versions.
        Every Prism path and OData expression is the collection's (its module_utils helpers)."""
        if source == "waves":
            return _waves(self.settings)
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
    """The points of the chosen VM, newest first; none before a VM is chosen. A replica has the name and
    creation time of its source, so each label says where the point lives and whether it is the source."""
    points = recovery_points_of_vm(client, parent) if parent else []
    if not points:
        return []
    vm = unless_gone(lambda: read_vm(client, parent)[0], None) or {}
    home = (vm.get("cluster") or {}).get("extId")
    names = {c["extId"]: c.get("name") or c["extId"] for c in list_clusters(client)}
    return [_point_choice(p, home, names) for p in points]


def _point_choice(point: dict, home: str | None, names: dict) -> dict:
    """`created` for the form to show in the reader's local time; the label says it in UTC."""
    where = [ref.get("locationExtId") for ref in point.get("locationReferences") or []]
    # Prism 4.2+ names the source (sourceLocation); before that the source lives with the VM.
    source = set((point.get("sourceLocation") or {}).get("clusterExtIds") or ([home] if home else []))
    role = "" if not (source and where) else " (source)" if source & set(where) else " (replica)"
    created = point.get("creationTime") or ""
    parts = [
        point.get("name") or point["extId"],
        _utc_minute(created),
        f"on {', '.join(names.get(w, w) for w in where)}{role}" if where else "",
    ]
    return {"value": point["extId"], "label": " · ".join(p for p in parts if p), "created": created}


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


def _utc_minute(iso: str) -> str:
    """2026-05-04 07:00 UTC; the form shows the same minute in the reader's own time."""
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def _waves(settings: Settings) -> list[dict]:
    """The waves of the site's wave file (migration_wave_file in DAY2OPS_SITE_VARS_FILE), in file order,
    each with its window and how many groups it has; the migration_wave role checks the wave itself."""
    site = _yaml(settings.site_vars_file, "DAY2OPS_SITE_VARS_FILE") if settings.site_vars_file else {}
    path = site.get("migration_wave_file") if isinstance(site, dict) else None
    if not path:
        raise ChoicesUnavailable("no wave file: set migration_wave_file in DAY2OPS_SITE_VARS_FILE")
    document = _yaml(Path(path), "the wave file")
    waves = document.get("waves") if isinstance(document, dict) else None
    defaults = (document.get("defaults") if isinstance(document, dict) else None) or {}
    if not isinstance(waves, list):
        raise ChoicesUnavailable(f"{path} has no list of waves")
    return [
        {"value": str(w["name"]), "label": _wave_label(w, defaults)}
        for w in waves
        if isinstance(w, dict) and w.get("name")
    ]


def _yaml(path: Path, what: str):
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ChoicesUnavailable(f"cannot read {what} {path}: {error}") from None


def _wave_label(wave: dict, defaults: dict) -> str:
    window = wave.get("window") or (defaults.get("window") if isinstance(defaults, dict) else None)
    groups = wave.get("groups") if isinstance(wave.get("groups"), list) else []
    when = "any time"
    if isinstance(window, dict):
        start, end = (_utc_minute(str(window.get(k, "…"))) for k in ("start", "end"))
        when = f"window {start} to {end}"
    return f"{wave['name']} · {when} · {len(groups)} group{'' if len(groups) == 1 else 's'}"


# choice source -> reader(client, key, parent, odata) -> [{value, label}]
READERS = {
    "clusters": _clusters,
    "category_values": _category_values,
    "vms": _vms,
    "recovery_points": _recovery_points,
    "templates": _templates,
    "template_versions": _template_versions,
}

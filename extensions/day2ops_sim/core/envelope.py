"""The v4 response envelope: `data`, `metadata`, `$objectType`, `$reserved` on every body and object."""

from collections.abc import Iterable
from urllib.parse import urlencode

from .errors import ApiError

# Flag and link objects come from the shared `common.v1` models, stamped v1.r0 by every SDK.
COMMON_FV = {"$fv": "v1.r0"}


def fv(version: str) -> dict:
    """`$reserved` for a namespace version: v4.2 -> {"$fv": "v4.r2"}."""
    major, minor = version.lstrip("v").split(".")[:2]
    return {"$fv": f"v{major}.r{minor}"}


def link(href: str, rel: str) -> dict:
    return {"href": href, "rel": rel, "$objectType": "common.v1.response.ApiLink", "$reserved": COMMON_FV}


def flag(name: str, value: bool) -> dict:
    return {"name": name, "value": value, "$objectType": "common.v1.config.Flag", "$reserved": COMMON_FV}


def metadata(
    self_href: str,
    *,
    paginated: bool = False,
    error: bool = False,
    total: int | None = None,
    extra_links: Iterable[dict] = (),
) -> dict:
    meta = {
        "flags": [flag("hasError", error), flag("isPaginated", paginated)],
        "links": [link(self_href, "self"), *extra_links],
        "$objectType": "common.v1.response.ApiResponseMetadata",
        "$reserved": COMMON_FV,
    }
    if total is not None:
        meta["totalAvailableResults"] = total
    return meta


def body(response_type: str, version: str, data, meta: dict) -> dict:
    # No `$dataItemDiscriminator`/`$errorItemDiscriminator`: the SDKs' response models have no
    # such field, and every list item carries its own `$objectType`, which is what they resolve on.
    out: dict = {}
    if data is not None:
        out["data"] = data
    out["metadata"] = meta
    out["$objectType"] = response_type
    out["$reserved"] = fv(version)
    return out


class Fragment(str):
    """An object already in its segment's shape and as JSON text: shaping passes it by, and the
    dispatcher writes it into the body as it is."""


def stamp(obj: dict, object_type: str, version: str) -> dict:
    """Mark an object with its type and version, as Prism does on every object it returns."""
    obj["$objectType"] = object_type
    obj["$reserved"] = fv(version)
    return obj


def paging_links(base_url: str, query: dict[str, str], page: int, limit: int, total: int) -> list[dict]:
    last = max((total - 1) // limit, 0)

    def href(p: int) -> str:
        return f"{base_url}?{urlencode({**query, '$page': p, '$limit': limit})}"

    links = [link(href(0), "first"), link(href(last), "last")]
    if page > 0:
        links.append(link(href(min(page - 1, last)), "prev"))
    if page < last:
        links.append(link(href(page + 1), "next"))
    return links


def error_body(
    err: ApiError, ns: str, version: str, response_type: str, self_href: str, path: str, now_iso: str
) -> dict:
    if err.flat:
        return {"code": err.code, "message": err.message} if err.code else {"message": err.message}
    if err.field_errors:
        detail = {
            "timestamp": now_iso,
            "statusCode": err.status,
            "error": "Bad Request",
            "path": path,
            "validationErrorMessages": [
                {
                    "location": fe.location,
                    "message": fe.message,
                    "attributePath": fe.attribute_path,
                    "$objectType": f"{ns}.v4.error.SchemaValidationErrorMessage",
                    "$reserved": fv(version),
                }
                for fe in err.field_errors
            ],
            "$objectType": f"{ns}.v4.error.SchemaValidationError",
            "$reserved": fv(version),
        }
        error_field: dict | list = detail
    else:
        error_field = [
            {
                "code": err.code,
                "message": err.message,
                "severity": "ERROR",
                "locale": "en_US",
                "argumentsMap": err.arguments,
                "$objectType": f"{ns}.v4.error.AppMessage",
                "$reserved": fv(version),
            }
        ]
    data = {
        "error": error_field,
        "$objectType": f"{ns}.v4.error.ErrorResponse",
        "$reserved": fv(version),
    }
    return body(response_type, version, data, metadata(self_href, error=True))

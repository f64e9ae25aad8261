"""The one exception the simulator raises for anything Prism would refuse, and its wire shapes.

Prism answers in two shapes. Services answer with the v4 error envelope: `data` is a
`<ns>.v4.error.ErrorResponse` whose `error` is a list of AppMessage, or one SchemaValidationError
for malformed requests. The API gateway in front of them answers flat `{"code", "message"}`
bodies, e.g. 412 `PLAT-10005 Invalid eTag header` (nutanix.ansible#706) and the 404 for an
API version the Prism Central does not serve (terraform-provider-nutanix#906).

Service error codes below are the simulator's own choice unless marked attested: Prism's
catalogue is not public, so clients must key on the HTTP status, never on these codes.
"""

from dataclasses import dataclass, field

GATEWAY_NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually please check "
    "your spelling and try again."
)

# One prefix per namespace, as Prism's own codes read (VMM-…, PRISM-…).
CODE_PREFIX = {
    "vmm": "VMM",
    "prism": "PRISM",
    "clustermgmt": "CLU",
    "dataprotection": "DATAPROTECTION",
}


@dataclass
class FieldError:
    message: str
    attribute_path: str = ""
    location: str = "body"


@dataclass
class ApiError(Exception):
    status: int
    message: str
    code: str = ""
    flat: bool = False
    field_errors: list[FieldError] = field(default_factory=list)
    arguments: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code} {self.message}"


def code(ns: str, number: int) -> str:
    return f"{CODE_PREFIX.get(ns, ns.upper())}-{number}"


def not_found(ns: str, entity: str, ext_id: str) -> ApiError:
    return ApiError(
        404, f"{entity} with extId '{ext_id}' does not exist.", code(ns, 20005), arguments={"extId": ext_id}
    )


def bad_request(ns: str, message: str, attribute_path: str = "", location: str = "body") -> ApiError:
    """A malformed request: Prism's SchemaValidationError naming the offending attribute."""
    return schema_error(ns, [FieldError(message, attribute_path, location)])


def schema_error(ns: str, field_errors: list[FieldError]) -> ApiError:
    """A malformed request: one SchemaValidationError naming every offending attribute."""
    return ApiError(400, field_errors[0].message, code(ns, 40000), field_errors=list(field_errors))


def invalid_argument(ns: str, message: str) -> ApiError:
    """A well-formed request Prism refuses for what it asks (AppMessage list, not schema)."""
    return ApiError(400, message, code(ns, 40001))


def conflict(ns: str, message: str) -> ApiError:
    return ApiError(409, message, code(ns, 40900))


def missing_etag() -> ApiError:
    # PLAT-10004 is attested (nutanix.ansible); its HTTP status is not: 428 Precondition Required
    # is what RFC 6585 defines for a missing conditional header.
    return ApiError(428, "Missing eTag header", "PLAT-10004", flat=True)


def stale_etag() -> ApiError:
    # Attested: 412 with a flat PLAT-10005 body, also for `If-Match: *` (nutanix.ansible#706).
    return ApiError(412, "Invalid eTag header", "PLAT-10005", flat=True)


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "Authentication required: send HTTP basic credentials or the X-ntnx-api-key header.",
        "PLAT-10001",
        flat=True,
        headers={"WWW-Authenticate": 'Basic realm="Prism Central"'},
    )


def version_not_served() -> ApiError:
    return ApiError(404, GATEWAY_NOT_FOUND, flat=True)

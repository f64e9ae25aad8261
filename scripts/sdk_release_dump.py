"""Dump one official SDK release's operations and models as JSON on stdout.

Run by gen_sdk_operations.py in a subprocess whose PYTHONPATH holds exactly one release of
`ntnx_<namespace>_py_client` (releases share module names, so one process per release):
    python scripts/sdk_release_dump.py vmm
Operations come from the API modules' source (path, method, body model and whether it is
required, the OData fields each query option's docstring lists); models from the model classes
themselves (`attribute_map`, `swagger_types`, the setters that refuse None, enum members, oneOf maps).
"""

import importlib
import importlib.util
import inspect
import json
import pathlib
import pkgutil
import re
import sys

CALL = re.compile(
    r"_call_api\(\s*'(?P<path>/api/[^']+)', '(?P<method>[A-Z]+)'.*?response_type='(?P<rtype>[^']+)'", re.S
)
DEF = re.compile(r"\n    def (?P<op>[a-z][a-z_0-9]*)\(self")
BODY = re.compile(
    r":type body:\s*:class:`~ntnx_\w+_py_client\.models\.(?P<type>[\w.]+)`(?P<required>, required)?"
)
# `:param _filter: ... the following fields: - a - b/c ` (the list runs to the end of the line).
QUERY_DOC = re.compile(r":param _(?P<option>filter|orderby|select|expand): (?P<doc>[^\n]*)")
FIELD = re.compile(r" - ([A-Za-z$][\w/$]*)")
HIDDEN = {"_reserved", "_object_type", "_unknown_fields"}
NOT_MEMBERS = {"$UNKNOWN", "$REDACTED"}


def operations(package: str) -> list[dict]:
    api_dir = pathlib.Path(importlib.util.find_spec(package).origin).parent / "api"
    out = []
    for src in sorted(api_dir.glob("*_api.py")):
        text = src.read_text()
        starts = [(m.start(), m["op"]) for m in DEF.finditer(text)]
        for (start, op), (end, _next) in zip(starts, [*starts[1:], (len(text), "")], strict=True):
            chunk = text[start:end]
            call = CALL.search(chunk)
            if op.startswith("_") or call is None:
                continue
            body = BODY.search(chunk)
            query = {}
            for doc in QUERY_DOC.finditer(chunk):
                # Later releases stopped listing the fields: None, and the generator inherits them.
                query["$" + doc["option"]] = sorted(set(FIELD.findall(doc["doc"]))) or None
            for option in re.findall(r"query_params\.append\(\('([^']+)'", chunk):
                query.setdefault(option, None)
            out.append(
                {
                    "operation": op,
                    "api": src.stem,
                    "method": call["method"],
                    "path": re.sub(r"^/api/([a-z]+)/v4\.\d+/", r"/api/\1/{version}/", call["path"]),
                    "segment": re.match(r"^/api/[a-z]+/(v4\.\d+)/", call["path"])[1],
                    "responseType": call["rtype"],
                    "body": body["type"] if body else None,
                    "bodyRequired": bool(body and body["required"]),
                    "query": query,
                }
            )
    return out


def _required(cls, attr: str) -> bool:
    """The SDK's setter refuses None only for required properties."""
    try:
        setattr(cls(), attr, None)
    except ValueError as err:
        return "must not be `None`" in str(err)
    except Exception:  # a setter with other checks: no required marker
        return False
    return False


def model(cls) -> dict | None:
    if hasattr(cls, "discriminator_value_class_map"):
        return {"oneOf": sorted(set(cls.discriminator_value_class_map.values()))}
    if hasattr(cls, "swagger_types"):
        fields = {
            cls.attribute_map[attr]: kind for attr, kind in cls.swagger_types.items() if attr not in HIDDEN
        }
        required = sorted(
            cls.attribute_map[a] for a in cls.swagger_types if a not in HIDDEN and _required(cls, a)
        )
        return {"fields": fields, "required": required}
    members = [
        value
        for name, value in vars(cls).items()
        if isinstance(value, str) and not name.startswith("__") and name.upper() == name
    ]
    if members:
        return {"enum": sorted(set(members) - NOT_MEMBERS)}
    return None


def models(package: str) -> dict[str, dict]:
    root = importlib.import_module(package + ".models")
    out = {}
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        name = info.name.rsplit(".", 1)[1]
        cls = getattr(module, name, None)
        if not inspect.isclass(cls):
            continue
        described = model(cls)
        if described is not None:
            # The name the SDK uses in swagger_types: `vmm.v4.ahv.config.Vm`, `OneOfvmm.v4...`.
            out[info.name[len(root.__name__) + 1 :]] = described
    return out


def main(namespace: str) -> None:
    package = f"ntnx_{namespace}_py_client"
    print(json.dumps({"operations": operations(package), "models": models(package)}))


if __name__ == "__main__":
    main(sys.argv[1])

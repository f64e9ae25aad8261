"""What the simulator serves and how sure it is (/_sim/coverage), and what clients sent it
(/_sim/conformance)."""

from fastapi import APIRouter

from .. import conformance, evidence, operations
from ..routes import move, vcenter
from ..routes.common import HANDLERS
from .common import Sim

router = APIRouter()


def coverage() -> list[dict]:
    """Every SDK operation; for served ones, each version segment serving it, the SDK release that
    segment validates against, and the OData field lists it inherits (strict where Prism may be looser)."""
    tables = [conformance.spec(ns, version) for ns, version in conformance.segments()]
    out = []
    for op in sorted(operations.all_operations(), key=lambda o: (o.namespace, o.template, o.method)):
        served = (op.namespace, op.name) in HANDLERS
        versions = {}
        for table in tables:
            spec = (
                table.operation(op.method, op.template)
                if served and table.namespace == op.namespace
                else None
            )
            if spec is not None:
                versions[table.version] = {"sdk": table.sdk, "inheritedQuery": list(spec.inherited_query)}
        out.append(
            {
                "namespace": op.namespace,
                "operation": op.name,
                "method": op.method,
                "path": op.template,
                "served": served,
                "versions": versions,
            }
        )
    return out


@router.get("/coverage")
def served(state: Sim):
    return {
        "sdkVersions": operations.sdk_versions(),
        "strictWithoutSource": list(conformance.STRICT_WITHOUT_SOURCE),
        "operations": coverage(),
        # How sure each modelled Move and vCenter behaviour is; `served` read off their routers.
        "move": evidence.report(evidence.MOVE, move.router(state)),
        "vcenter": evidence.report(evidence.VCENTER, vcenter.router(state)),
    }


@router.get("/conformance")
def conformance_report(state: Sim):
    """Requests per client, operation and version since the simulator started, and those refused
    as not conforming to that version's SDK models (kept across /_sim/reset)."""
    return state.conformance.report()

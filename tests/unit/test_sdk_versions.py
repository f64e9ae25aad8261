"""The per-segment SDK tables cover the simulator: every handled operation is in the newest segment
of its namespace, and every segment the simulator serves has a table."""

from day2ops_sim import conformance, dispatcher  # noqa: F401  (dispatcher registers the handlers)
from day2ops_sim.operations import all_operations
from day2ops_sim.routes.common import HANDLERS
from day2ops_sim.state import NEWEST, versions_upto


def test_every_served_segment_has_its_sdk_table():
    for namespace, newest in NEWEST.items():
        for version in versions_upto(newest):
            spec = conformance.spec(namespace, version)
            assert spec is not None, f"run scripts/gen_sdk_operations.py: no table for {namespace} {version}"
            assert spec.sdk.startswith(f"ntnx-{namespace}-py-client==4.{version.split('.')[1]}.")


def test_every_handler_is_in_the_newest_segment_table():
    routes = {(op.namespace, op.name): op for op in all_operations()}
    for namespace, operation in HANDLERS:
        op = routes[(namespace, operation)]
        spec = conformance.spec(namespace, NEWEST[namespace])
        assert spec.operation(op.method, op.template), f"regenerate: {operation} is not in {namespace} tables"


def test_a_model_field_type_is_checked_the_way_the_sdk_declares_it():
    spec = conformance.spec("dataprotection", "v4.0")
    op = spec.operation(
        "POST", "/api/dataprotection/{version}/config/recovery-points/{extId}/$actions/set-expiration-time"
    )
    assert [p.attribute_path for p in spec.check_request(op, {}, {"expirationTime": True})] == [
        "expirationTime"
    ]
    assert spec.check_request(op, {}, {"expirationTime": "2030-01-01T00:00:00.5+02:00"}) == []
    assert next(p.message for p in spec.check_request(op, {"$orderby": "name"}, None)).startswith(
        "Query option $orderby"
    )

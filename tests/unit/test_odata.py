"""OData query options as Prism applies them: each case a real entity, a real expression, a result."""

import pytest
from day2ops_sim.core import odata

VM = {
    "extId": "11111111-1111-4111-8111-111111111111",
    "name": "fin-erp-prd-web-001",
    "powerState": "ON",
    "memorySizeBytes": 8 * 1024**3,
    "numSockets": 4,
    "isAgentVm": False,
    "description": "it's here",
    "cluster": {"extId": "c-prod"},
    "nics": [{"networkInfo": {"subnet": {"extId": "s1"}}}],
    "categories": [{"extId": "cat-1"}, {"extId": "cat-2"}],
    "createTime": "2025-01-10T09:00:00.100000Z",
}
CLUSTER = {"name": "pc-01", "config": {"clusterFunction": ["PRISM_CENTRAL"], "hypervisorTypes": ["AHV"]}}


@pytest.mark.parametrize(
    ("expr", "entity", "expected"),
    [
        ("name eq 'fin-erp-prd-web-001'", VM, True),
        ("name ne 'fin-erp-prd-web-001'", VM, False),
        ("memorySizeBytes gt 4294967296", VM, True),
        ("memorySizeBytes le 4294967296", VM, False),
        ("4294967296 lt memorySizeBytes", VM, True),
        ("numSockets ge 4 and numSockets lt 5", VM, True),
        ("numSockets eq 2 or name eq 'x'", VM, False),
        ("not (numSockets eq 2)", VM, True),
        ("numSockets eq 2 or numSockets eq 4 and name eq 'x'", VM, False),  # and binds tighter
        ("(numSockets eq 2 or numSockets eq 4) and startswith(name,'fin-')", VM, True),
        ("startswith(name,'fin-') and endswith(name,'-001') and contains(name,'erp')", VM, True),
        ("startswith(name,'FIN-')", VM, False),
        ("startswith(tolower(name),'fin-')", VM, True),
        ("toupper(name) eq 'FIN-ERP-PRD-WEB-001'", VM, True),
        ("powerState eq Vmm.Ahv.Config.PowerState'ON'", VM, True),
        ("powerState eq 'OFF'", VM, False),
        ("powerState in (Vmm.Ahv.Config.PowerState'OFF', Vmm.Ahv.Config.PowerState'ON')", VM, True),
        ("numSockets in (1, 2)", VM, False),
        ("cluster/extId eq 'c-prod'", VM, True),
        ("host/extId eq 'h1'", VM, False),
        ("host eq null", VM, True),
        ("description eq 'it''s here'", VM, True),
        ("isAgentVm eq false", VM, True),
        ("createTime gt 2025-01-01T00:00:00Z", VM, True),
        ("createTime lt 2025-01-10T09:00:00.000+00:00", VM, False),
        ("categories/any(c:c/extId eq 'cat-2')", VM, True),
        ("categories/all(c:startswith(c/extId,'cat-'))", VM, True),
        ("categories/all(c:c/extId eq 'cat-1')", VM, False),
        ("categories/any()", VM, True),
        ("nics/any(n:n/networkInfo/subnet/extId eq 's1')", VM, True),
        (
            "config/clusterFunction/any(t:t eq Clustermgmt.Config.ClusterFunctionRef'PRISM_CENTRAL')",
            CLUSTER,
            True,
        ),
        ("config/hypervisorTypes/any(t:t eq 'ESX')", CLUSTER, False),
        ("name gt 5", VM, False),  # incomparable types are false, never an error
    ],
)
def test_filter_evaluates(expr, entity, expected):
    assert odata.compile_filter(expr)(entity) is expected


FILTERABLE = frozenset(
    {"name", "powerState", "cluster/extId", "entitiesAffected/extId", "config/clusterFunction"}
)


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("", "empty"),
        ("name eq", "position 7"),
        ("name eq 'open", "unterminated string"),
        ("(name eq 'a'", "expected ')'"),
        ("name eq 'a')", "unexpected ')'"),
        ("name like 'a'", "comparison operator"),
        ("name eq 'a' and", "end of the expression"),
        ("frobnicate(name,'a')", "unknown function 'frobnicate'"),
        ("description eq 'x'", "'description' is not filterable"),
        ("startswith(memorySizeBytes,'1')", "'memorySizeBytes' is not filterable"),
        ("powerState eq Vmm.Ahv.Config.MachineType'PC'", "takes Vmm.Ahv.Config.PowerState literals"),
        ("name eq 'a' # x", "unexpected character '#'"),
        ("startswith('a', name)", "takes a property first"),
    ],
)
def test_bad_filters_are_refused_with_a_readable_message(expr, fragment):
    with pytest.raises(odata.ODataError) as err:
        odata.compile_filter(expr, FILTERABLE, {"powerState": "Vmm.Ahv.Config.PowerState"})
    assert err.value.option == "$filter"
    assert fragment in err.value.message


def test_filterable_lists_the_allowed_fields():
    with pytest.raises(odata.ODataError) as err:
        odata.compile_filter("memorySizeBytes gt 1", frozenset({"name", "powerState"}))
    assert "filterable fields: name, powerState" in err.value.message


def test_lambda_fields_are_judged_by_their_collection():
    pred = odata.compile_filter("entitiesAffected/any(a:a/extId eq 'x')", FILTERABLE)
    assert pred({"entitiesAffected": [{"extId": "x"}]})
    assert not pred({"entitiesAffected": []})
    with pytest.raises(odata.ODataError):
        odata.compile_filter("subTasks/any(a:a/extId eq 'x')", FILTERABLE)


def test_filter_over_fifty_thousand_entities():
    vms = [
        {"name": f"vm-{i:05d}", "powerState": "ON" if i % 3 else "OFF", "numSockets": i % 8 + 1}
        for i in range(50000)
    ]
    pred = odata.compile_filter(
        "powerState eq Vmm.Ahv.Config.PowerState'OFF' and numSockets in (1, 2) and startswith(name,'vm-1')"
    )
    expected = sum(1 for i in range(50000) if i % 3 == 0 and i % 8 in (0, 1) and f"{i:05d}".startswith("1"))
    assert sum(1 for vm in vms if pred(vm)) == expected > 0


@pytest.mark.parametrize(
    ("clause", "names"),
    [
        ("name", ["a", "b", "c", "n"]),
        ("name desc", ["n", "c", "b", "a"]),
        ("size desc, name", ["c", "a", "b", "n"]),
        ("size, name desc", ["n", "b", "a", "c"]),
    ],
)
def test_orderby(clause, names):
    items = [{"name": "b", "size": 1}, {"name": "c", "size": 2}, {"name": "a", "size": 1}, {"name": "n"}]
    assert [i["name"] for i in odata.compile_orderby(clause)(items)] == names


@pytest.mark.parametrize(
    ("clause", "fragment"), [("name sideways", "use 'field'"), ("powerState", "not sortable")]
)
def test_bad_orderby(clause, fragment):
    with pytest.raises(odata.ODataError) as err:
        odata.compile_orderby(clause, frozenset({"name"}))
    assert err.value.option == "$orderby" and fragment in err.value.message


def test_select_and_project():
    assert odata.parse_select("*") is None
    fields = odata.parse_select("name, cluster/extId", frozenset({"name", "cluster/extId"}))
    assert odata.project({**VM, "$objectType": "vmm.v4.ahv.config.Vm"}, fields) == {
        "extId": VM["extId"],
        "$objectType": "vmm.v4.ahv.config.Vm",
        "name": VM["name"],
        "cluster": {"extId": "c-prod"},
    }
    with pytest.raises(odata.ODataError) as err:
        odata.parse_select("name,secret", frozenset({"name"}))
    assert err.value.option == "$select" and "'secret'" in err.value.message


@pytest.mark.parametrize(
    ("page", "limit", "expected"),
    [(None, None, (0, 50)), ("2", "100", (2, 100)), ("0", "1", (0, 1))],
)
def test_paging(page, limit, expected):
    assert odata.parse_paging(page, limit) == expected


@pytest.mark.parametrize(
    ("page", "limit", "option"),
    [("-1", None, "$page"), ("x", None, "$page"), (None, "0", "$limit"), (None, "101", "$limit")],
)
def test_paging_bounds(page, limit, option):
    with pytest.raises(odata.ODataError) as err:
        odata.parse_paging(page, limit)
    assert err.value.option == option

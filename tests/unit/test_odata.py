"""OData query options as Prism applies them: real wire-shape entities, real expressions, exact results."""

import copy
import random

import pytest
from day2ops_sim.core import odata

VM = {
    "$objectType": "vmm.v4.ahv.config.Vm",
    "extId": "5a3c6b9e-0d7f-4c1e-9a2b-3f4e5d6c7b8a",
    "name": "web01",
    "description": "It's the Web tier",
    "powerState": "ON",
    "machineType": "PC",
    "memorySizeBytes": 4294967296,
    "numSockets": 2,
    "cpuLoad": 0.75,
    "isAgentVm": False,
    "isLiveMigrateCapable": True,
    "host": None,
    "cluster": {
        "$objectType": "vmm.v4.ahv.config.ClusterReference",
        "extId": "0005f1a2-b3c4-d5e6-f708-192a3b4c5d6e",
        "name": "prod-1",
    },
    "nics": [
        {
            "extId": "nic-1",
            "networkInfo": {"subnet": {"extId": "sub-a"}, "ipv4Addresses": [{"value": "10.0.0.5"}]},
        },
        {"extId": "nic-2", "networkInfo": {"subnet": {"extId": "sub-b"}, "ipv4Addresses": []}},
    ],
    "categories": [{"extId": "cat-env-prod"}, {"extId": "cat-app-web"}],
    "tags": ["blue", "green"],
    "createTime": "2025-01-10T09:00:00.100000Z",
}
TASK = {
    "extId": "ZXJnb24=:7d5b0c2e-1f3a-4b6c-8d9e-0a1b2c3d4e5f",
    "status": "RUNNING",
    "progressPercentage": 40,
    "createdTime": "2025-01-10T09:00:00.100000Z",
    "entitiesAffected": [
        {"extId": "vm-1", "rel": "vmm:ahv:config:vm"},
        {"extId": "cl-1", "rel": "clustermgmt:config:cluster"},
    ],
}
CLUSTER = {
    "extId": "00061de4-5c8b-4e2d-9f3a-1b2c3d4e5f60",
    "name": "PC",
    "config": {"clusterFunction": ["AOS", "ONE_NODE"], "hypervisorTypes": ["AHV"], "isAvailable": True},
}
VM_ENUMS = {"powerState": "Vmm.Ahv.Config.PowerState", "machineType": "Vmm.Ahv.Config.MachineType"}
CLUSTER_ENUMS = {
    "config/clusterFunction": "Clustermgmt.Config.ClusterFunctionRef",
    "config/hypervisorTypes": "Clustermgmt.Config.HypervisorType",
}


def matches(expr: str, entity: dict = VM, **options) -> bool:
    return odata.compile_filter(expr, **options)(entity)


def filter_error(expr: str, **options) -> odata.ODataError:
    with pytest.raises(odata.ODataError) as caught:
        odata.compile_filter(expr, **options)
    assert caught.value.option == "$filter"
    return caught.value


# --- $filter: what matches --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("name eq 'web01'", True),
        ("name eq 'web02'", False),
        ("name eq 'WEB01'", False),
        ("name ne 'web02'", True),
        ("name ne 'web01'", False),
        ("name gt 'web00'", True),
        ("name gt 'web01'", False),
        ("name ge 'web01'", True),
        ("name lt 'web02'", True),
        ("name le 'web00'", False),
        ("numSockets eq 2", True),
        ("numSockets eq 3", False),
        ("numSockets ne 3", True),
        ("numSockets gt 1", True),
        ("numSockets gt 2", False),
        ("numSockets ge 2", True),
        ("numSockets lt 2", False),
        ("numSockets le 2", True),
        ("memorySizeBytes eq 4294967296", True),
        ("memorySizeBytes ge 8589934592", False),
        # Literal on the left: the operator is mirrored.
        ("4294967296 eq memorySizeBytes", True),
        ("1 lt numSockets", True),
        ("3 lt numSockets", False),
        ("2 ge numSockets", True),
        ("1 ge numSockets", False),
        ("'web00' lt name", True),
    ],
)
def test_comparison_operators(expr, expected):
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # and binds tighter than or: web01 or (x and false) -> true; (web01 or x) and false would be false.
        ("name eq 'web01' or name eq 'x' and numSockets eq 99", True),
        ("(name eq 'web01' or name eq 'x') and numSockets eq 99", False),
        ("name eq 'x' or name eq 'web01'", True),
        ("name eq 'x' or name eq 'y'", False),
        ("name eq 'web01' and numSockets eq 2", True),
        ("name eq 'web01' and numSockets eq 3", False),
        # not binds tighter than and/or: (not web01) and ... -> false; not (web01 and false) would be true.
        ("not name eq 'web01' and numSockets eq 99", False),
        ("not name eq 'web01' or numSockets eq 2", True),
        ("not (name eq 'web01' and numSockets eq 99)", True),
        ("not (numSockets eq 2)", False),
        ("not not (numSockets eq 2)", True),
        ("not(numSockets eq 3)", True),
        ("((((name eq 'web01'))))", True),
        ("(name eq 'x' or (numSockets eq 2 and (powerState eq 'ON' or powerState eq 'OFF')))", True),
        ("(name eq 'x' or (numSockets eq 2 and (powerState eq 'PAUSED' or powerState eq 'OFF')))", False),
        ("name eq 'x' or name eq 'y' or name eq 'z' or name eq 'web01'", True),
        ("name eq 'web01' and numSockets eq 2 and powerState eq 'ON' and cpuLoad lt 1", True),
        ("name eq 'web01' and numSockets eq 2 and powerState eq 'ON' and cpuLoad gt 1", False),
        # Whitespace is free, including none around parentheses and commas.
        ("  name   eq\t'web01'\n and(numSockets eq 2)  ", True),
        ("startswith(name,'web')and endswith(name,'01')", True),
    ],
)
def test_logic_and_precedence(expr, expected):
    assert matches(expr) is expected


def test_long_flat_chains_do_not_deepen_the_stack():
    # 5,000 terms would overflow the stack if and/or were compiled as a left-deep tree of closures.
    ors = odata.compile_filter(
        " or ".join(f"numSockets eq {i}" for i in range(3, 5003)) + " or numSockets eq 2"
    )
    ands = odata.compile_filter(" and ".join(f"numSockets ne {i}" for i in range(3, 5003)))
    assert ors(VM) is True
    assert ors({**VM, "numSockets": 1}) is False
    assert ands(VM) is True
    assert ands({**VM, "numSockets": 4000}) is False


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("startswith(name,'web')", True),
        ("startswith(name,'WEB')", False),
        ("startswith(name,'eb')", False),
        ("endswith(name,'01')", True),
        ("endswith(name,'0')", False),
        ("contains(name,'eb0')", True),
        ("contains(name,'EB')", False),
        ("contains(name,'')", True),
        ("contains(description,'web tier')", False),
        ("contains(tolower(description),'web tier')", True),
        ("startswith(toupper(description),'IT''S')", True),
        ("toupper(name) eq 'WEB01'", True),
        ("tolower(name) eq 'WEB01'", False),
        ("tolower(name) eq tolower('WEB01')", True),
        ("'WEB01' eq toupper(name)", True),
        ("tolower(powerState) in ('on', 'off')", True),
        ("tolower(powerState) in ('ON', 'OFF')", False),
        # Functions over non-text values are false, never an error.
        ("startswith(memorySizeBytes,'4')", False),
        ("contains(categories,'cat')", False),
        ("tolower(numSockets) eq 2", True),
        # A condition may be compared with true/false.
        ("startswith(name,'web') eq true", True),
        ("startswith(name,'web') eq false", False),
        ("startswith(name,'web') ne true", False),
        ("contains(name,'zz') ne true", True),
        ("categories/any(c: c/extId eq 'cat-app-web') eq false", False),
        ("not startswith(name,'db')", True),
    ],
)
def test_string_functions(expr, expected):
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "entity", "expected"),
    [
        ("powerState in ('OFF','ON')", VM, True),
        ("powerState in ('OFF', 'PAUSED')", VM, False),
        ("powerState in ( 'ON' )", VM, True),
        ("numSockets in (1, 2)", VM, True),
        ("numSockets in (1, 3)", VM, False),
        ("numSockets in (2.0)", VM, True),
        ("cpuLoad in (0.75, 1)", VM, True),
        # true is not 1, and false is not 0.
        ("isAgentVm in (0, 'false')", VM, False),
        ("isAgentVm in (false)", VM, True),
        ("host in (null, 'h1')", VM, True),
        ("host in ('h1')", VM, False),
        ("missing in ('a', 1)", VM, False),
        ("numSockets in ('2')", VM, False),
        ("powerState in (Vmm.Ahv.Config.PowerState'OFF', Vmm.Ahv.Config.PowerState'ON')", VM, True),
        ("cluster/extId in ('0005f1a2-b3c4-d5e6-f708-192a3b4c5d6e', 'other')", VM, True),
        ("createdTime in (2025-01-10T10:00:00.1+01:00, 2020-01-01T00:00:00Z)", TASK, True),
        ("createdTime in (2025-01-10T09:00:00Z)", TASK, False),
        ("status in ('QUEUED', 'RUNNING') and progressPercentage lt 50", TASK, True),
    ],
)
def test_in_operator(expr, entity, expected):
    assert matches(expr, entity) is expected


@pytest.mark.parametrize(
    ("expr", "entity", "expected"),
    [
        # Lists of dicts.
        ("categories/any(c:c/extId eq 'cat-app-web')", VM, True),
        ("categories/any(c:c/extId eq 'cat-db')", VM, False),
        ("categories/all(c:startswith(c/extId,'cat-'))", VM, True),
        ("categories/all(c:c/extId eq 'cat-env-prod')", VM, False),
        ("categories/any( c : c/extId eq 'cat-app-web' )", VM, True),
        ("categories/any()", VM, True),
        ("categories/any()", {"categories": []}, False),
        ("categories/any()", {}, False),
        ("nics/any(n: n/networkInfo/subnet/extId eq 'sub-b')", VM, True),
        ("nics/all(n: n/networkInfo/subnet/extId eq 'sub-b')", VM, False),
        ("entitiesAffected/any(a: a/rel eq 'vmm:ahv:config:vm' and a/extId eq 'vm-1')", TASK, True),
        ("entitiesAffected/any(a: a/rel eq 'vmm:ahv:config:vm' and a/extId eq 'cl-1')", TASK, False),
        # all() over an empty list holds; any()/all() over a missing or non-list value do not.
        ("nics/all(n: n/extId eq 'zzz')", {"nics": []}, True),
        ("nics/all(n: n/extId eq 'zzz')", {}, False),
        ("nics/any(n: n/extId ne null)", {"nics": {"extId": "nic-1"}}, False),
        ("nics/any(n: n/extId eq 'nic-1')", {"nics": [None, 7, "nic-1", {"extId": "nic-1"}]}, True),
        # Nested lambdas, an outer variable inside the inner body, and the root entity inside a body.
        ("nics/any(n: n/networkInfo/ipv4Addresses/any(ip: ip/value eq '10.0.0.5'))", VM, True),
        ("nics/any(n: n/networkInfo/ipv4Addresses/any(ip: ip/value eq '10.0.0.6'))", VM, False),
        (
            "nics/any(n: n/networkInfo/ipv4Addresses/any(ip: ip/value eq '10.0.0.5' and n/extId eq 'nic-1'))",
            VM,
            True,
        ),
        (
            "nics/any(n: n/networkInfo/ipv4Addresses/any(ip: ip/value eq '10.0.0.5' and n/extId eq 'nic-2'))",
            VM,
            False,
        ),
        ("categories/any(c: c/extId eq 'cat-app-web' and name eq 'web01')", VM, True),
        ("categories/any(c: c/extId eq 'cat-app-web' and name eq 'db01')", VM, False),
        # The innermost variable wins; a variable may shadow a root property's name.
        ("nics/any(x: x/networkInfo/ipv4Addresses/any(x: x/value eq '10.0.0.5'))", VM, True),
        ("categories/any(name: name/extId eq 'cat-app-web')", VM, True),
        # Lists of scalars: the bare variable is the element.
        ("config/clusterFunction/any(t:t eq 'AOS')", CLUSTER, True),
        ("config/clusterFunction/any(t:t eq 'PRISM_CENTRAL')", CLUSTER, False),
        ("config/hypervisorTypes/all(t: t eq 'AHV')", CLUSTER, True),
        ("config/clusterFunction/all(t: t eq 'AOS')", CLUSTER, False),
        ("config/clusterFunction/any(t: t in ('ONE_NODE', 'TWO_NODE'))", CLUSTER, True),
        ("config/clusterFunction/any(t: t/value eq 'AOS')", CLUSTER, False),
        ("tags/any(t: startswith(t, 'gr'))", VM, True),
        ("tags/all(t: contains(t, 'e'))", VM, True),
        ("tags/all(t: contains(t, 'r'))", VM, False),
        ("flags/any(f: f)", {"flags": [False, True]}, True),
        ("flags/all(f: f)", {"flags": [False, True]}, False),
    ],
)
def test_lambdas(expr, entity, expected):
    assert matches(expr, entity) is expected


@pytest.mark.parametrize(
    ("expr", "entity", "expected"),
    [
        # '' is a quote inside a string.
        ("description eq 'It''s the Web tier'", VM, True),
        ("description eq 'Its the Web tier'", VM, False),
        ("q eq ''''", {"q": "'"}, True),
        ("q eq ''''", {"q": "''"}, False),
        ("q eq ''", {"q": ""}, True),
        ("q eq ''", {"q": "x"}, False),
        ("q eq 'a''''b'", {"q": "a''b"}, True),
        ("q eq 'and or not eq ( ) , :'", {"q": "and or not eq ( ) , :"}, True),
        ("q eq 'héllo wörld'", {"q": "héllo wörld"}, True),
        # Numbers: integers, decimals, exponents, signs; an int equals the same float.
        ("cpuLoad eq 0.75", VM, True),
        ("cpuLoad gt 0.5", VM, True),
        ("cpuLoad lt 7.5e-1", VM, False),
        ("memorySizeBytes eq 4.294967296E9", VM, True),
        ("numSockets gt -1", VM, True),
        ("numSockets eq +2", VM, True),
        ("delta lt -0.5", {"delta": -1}, True),
        # Booleans: a bare property is a condition; true is never 1.
        ("isAgentVm eq false", VM, True),
        ("isAgentVm eq true", VM, False),
        ("isAgentVm ne true", VM, True),
        ("isLiveMigrateCapable", VM, True),
        ("isAgentVm", VM, False),
        ("not isAgentVm", VM, True),
        ("isLiveMigrateCapable and not isAgentVm", VM, True),
        ("isLiveMigrateCapable eq 1", VM, False),
        ("flag eq true", {"flag": 1}, False),
        ("flag eq 0", {"flag": False}, False),
        ("isLiveMigrateCapable gt false", VM, True),
        # GUIDs, quoted or not, are plain text.
        ("extId eq '5a3c6b9e-0d7f-4c1e-9a2b-3f4e5d6c7b8a'", VM, True),
        ("extId eq 5a3c6b9e-0d7f-4c1e-9a2b-3f4e5d6c7b8a", VM, True),
        ("cluster/extId eq 0005f1a2-b3c4-d5e6-f708-192a3b4c5d6e", VM, True),
        ("cluster/extId eq 0005f1a2-b3c4-d5e6-f708-192a3b4c5d6f", VM, False),
    ],
)
def test_literals(expr, entity, expected):
    assert matches(expr, entity) is expected


@pytest.mark.parametrize(
    ("expr", "entity", "expected"),
    [
        # 09:00:00.1 is after 09:00:00: a text comparison of these two would say the opposite.
        ("createdTime gt 2025-01-10T09:00:00Z", TASK, True),
        ("createdTime lt 2025-01-10T09:00:00Z", TASK, False),
        ("createdTime lt 2025-01-10T09:00:00.2Z", TASK, True),
        ("createdTime gt 2025-01-10T09:00:00.100001Z", TASK, False),
        ("createdTime eq 2025-01-10T09:00:00.1Z", TASK, True),
        # The same instant written with another offset is equal.
        ("createdTime eq 2025-01-10T10:00:00.100+01:00", TASK, True),
        ("createdTime eq 2025-01-10T09:00:00.100+01:00", TASK, False),
        ("createdTime ne 2025-01-10T04:00:00.1-05:00", TASK, False),
        ("createdTime ge 2025-01-10T09:00:00.100000+00:00", TASK, True),
        ("createdTime le 2025-01-10T09:00:00.099999+00:00", TASK, False),
        ("createdTime gt 2025-01-10T09:00Z", TASK, True),
        ("createdTime gt 2025-01-10T08:00:00z", TASK, True),
        ("2025-01-01T00:00:00Z lt createdTime", TASK, True),
        ("createdTime gt 2025-01-01T00:00:00Z and createdTime lt 2025-02-01T00:00:00Z", TASK, True),
        # An entity timestamp without an offset is taken as UTC.
        ("t eq 2025-01-10T09:00:00Z", {"t": "2025-01-10T09:00:00"}, True),
        # Entity values that are not timestamps never match a datetime literal.
        ("t gt 2020-01-01T00:00:00Z", {"t": "yesterday"}, False),
        ("t ne 2020-01-01T00:00:00Z", {"t": "yesterday"}, True),  # not a datetime, so not equal to one
        ("t gt 2020-01-01T00:00:00Z", {"t": 1736499600}, False),
        ("t eq 2020-01-01T00:00:00Z", {}, False),
        # A quoted timestamp is text and compares as text.
        ("createdTime eq '2025-01-10T09:00:00.100000Z'", TASK, True),
        ("createdTime eq '2025-01-10T09:00:00.1Z'", TASK, False),
    ],
)
def test_datetimes(expr, entity, expected):
    assert matches(expr, entity) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("host eq null", True),
        ("missingField eq null", True),
        ("host/extId eq null", True),
        ("host ne null", False),
        ("cluster ne null", True),
        ("cluster eq null", False),
        ("null eq host", True),
        ("numSockets gt null", False),
        ("numSockets le null", False),
        # A missing or null property never satisfies a comparison with a value, ne included.
        ("missingField eq 'x'", False),
        ("missingField ne 'x'", True),  # OData: ne is the negation of eq
        ("host/extId ne 'h1'", True),
        ("missingField gt 1", False),
        ("missingField lt 1", False),
        ("not (missingField eq 'x')", True),
        ("startswith(missingField, 'x')", False),
        ("name/first eq 'x'", False),
        # Values of different kinds never compare.
        ("name gt 5", False),
        ("name lt 5", False),
        ("name ne 5", True),
        ("numSockets eq '2'", False),
        ("numSockets gt '1'", False),
        ("memorySizeBytes eq true", False),
        ("categories eq 'cat-env-prod'", False),
        ("cluster gt 1", False),
        ("tags eq 'blue'", False),
    ],
)
def test_missing_null_and_mismatched_kinds(expr, expected):
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "entity", "expected"),
    [
        ("powerState eq Vmm.Ahv.Config.PowerState'ON'", VM, True),
        ("powerState eq Vmm.Ahv.Config.PowerState'OFF'", VM, False),
        ("powerState ne Vmm.Ahv.Config.PowerState'OFF'", VM, True),
        # The type name is compared without regard to case.
        ("powerState eq vmm.ahv.config.powerstate'ON'", VM, True),
        # A plain string is accepted for an enum property.
        ("powerState eq 'ON'", VM, True),
        ("machineType eq Vmm.Ahv.Config.MachineType'PC'", VM, True),
        ("Vmm.Ahv.Config.PowerState'ON' eq powerState", VM, True),
        # A property without a declared enum type takes any typed literal, as its plain value.
        ("name eq Some.Other.Type'web01'", VM, True),
        ("q eq Some.Type'it''s'", {"q": "it's"}, True),
        ("config/clusterFunction/any(t: t eq Clustermgmt.Config.ClusterFunctionRef'AOS')", CLUSTER, True),
        (
            "config/clusterFunction/any(t: t eq Clustermgmt.Config.ClusterFunctionRef'PRISM_CENTRAL')",
            CLUSTER,
            False,
        ),
        ("config/hypervisorTypes/any(t: t in (Clustermgmt.Config.HypervisorType'AHV'))", CLUSTER, True),
    ],
)
def test_enum_literals(expr, entity, expected):
    assert matches(expr, entity, enum_types={**VM_ENUMS, **CLUSTER_ENUMS}) is expected


@pytest.mark.parametrize(
    ("expr", "position", "fragments"),
    [
        (
            "powerState eq Vmm.Ahv.Config.MachineType'ON'",
            14,
            ["'powerState'", "Vmm.Ahv.Config.PowerState", "not Vmm.Ahv.Config.MachineType"],
        ),
        (
            "powerState in ('ON', Vmm.Ahv.Config.MachineType'PC')",
            21,
            ["'powerState'", "Vmm.Ahv.Config.PowerState"],
        ),
        ("startswith(powerState, Other.Type'O')", 23, ["'powerState'", "Vmm.Ahv.Config.PowerState"]),
        (
            "config/clusterFunction/any(t: t eq Clustermgmt.Config.HypervisorType'AOS')",
            35,
            ["'config/clusterFunction'", "Clustermgmt.Config.ClusterFunctionRef"],
        ),
    ],
)
def test_enum_literal_of_the_wrong_type_is_refused(expr, position, fragments):
    err = filter_error(expr, enum_types={**VM_ENUMS, **CLUSTER_ENUMS})
    assert err.message.startswith(f"Invalid $filter at position {position}: ")
    for fragment in fragments:
        assert fragment in err.message


# --- $filter: which properties may be used ---------------------------------------------------------

VM_FILTERABLE = frozenset({"name", "powerState", "cluster/extId", "nics", "categories/extId", "isAgentVm"})
VM_FILTERABLE_LIST = "categories/extId, cluster/extId, isAgentVm, name, nics, powerState"


@pytest.mark.parametrize(
    "expr",
    [
        "name eq 'web01' and powerState eq 'ON' and cluster/extId ne null and isAgentVm eq false",
        "not isAgentVm",
        "tolower(name) eq 'web01'",
        # The collection is in the set: anything under it is allowed.
        "nics/any(n: n/networkInfo/subnet/extId eq 'sub-a')",
        "nics/any(n: n/networkInfo/ipv4Addresses/any(ip: ip/value eq '10.0.0.5'))",
        # The sub-path is in the set.
        "categories/any(c: c/extId eq 'cat-app-web')",
        "categories/any()",
        "categories/any(c: c/extId eq 'cat-app-web' and name eq 'web01')",
    ],
)
def test_filterable_accepts_allowed_paths(expr):
    assert odata.compile_filter(expr, VM_FILTERABLE)(VM) is True


@pytest.mark.parametrize(
    ("expr", "position", "named"),
    [
        ("description eq 'x'", 0, "'description'"),
        ("name eq 'web01' and cluster/name eq 'prod-1'", 20, "'cluster/name'"),
        ("startswith(description,'x')", 11, "'description'"),
        ("tolower(description) eq 'x'", 8, "'description'"),
        ("description in ('a', 'b')", 0, "'description'"),
        ("'x' eq description", 7, "'description'"),
        ("categories/any(c: c/name eq 'x')", 18, "'c/name' (that is, 'categories/name')"),
        ("disks/any(d: d/extId eq 'x')", 0, "'disks'"),
        ("disks/any()", 0, "'disks'"),
        # A root property used inside a lambda is still a root property.
        ("categories/any(c: description eq 'x')", 18, "'description'"),
        ("not (isAgentVm or numSockets gt 1)", 18, "'numSockets'"),
    ],
)
def test_filterable_refuses_other_paths_naming_them(expr, position, named):
    err = filter_error(expr, filterable=VM_FILTERABLE)
    assert err.message == (
        f"Invalid $filter at position {position}: {named} is not a filterable property; "
        f"filterable properties: {VM_FILTERABLE_LIST}."
    )


@pytest.mark.parametrize(
    ("filterable", "expr", "entity"),
    [
        (frozenset({"entitiesAffected"}), "entitiesAffected/any(a:a/extId eq 'vm-1')", TASK),
        (frozenset({"entitiesAffected/extId"}), "entitiesAffected/any(a:a/extId eq 'vm-1')", TASK),
        (frozenset({"config/clusterFunction"}), "config/clusterFunction/any(t:t eq 'AOS')", CLUSTER),
    ],
)
def test_lambda_paths_are_allowed_by_collection_or_sub_path(filterable, expr, entity):
    assert odata.compile_filter(expr, filterable)(entity) is True


@pytest.mark.parametrize(
    ("filterable", "expr", "named"),
    [
        (
            frozenset({"entitiesAffected/extId"}),
            "entitiesAffected/any(a:a/rel eq 'x')",
            "entitiesAffected/rel",
        ),
        (
            frozenset({"config/clusterFunction"}),
            "config/hypervisorTypes/any(t:t eq 'AHV')",
            "config/hypervisorTypes",
        ),
        (frozenset({"status"}), "entitiesAffected/any(a:a/extId eq 'vm-1')", "entitiesAffected"),
    ],
)
def test_lambda_paths_outside_the_set_are_refused(filterable, expr, named):
    err = filter_error(expr, filterable=filterable)
    assert f"'{named}'" in err.message
    assert f"filterable properties: {', '.join(sorted(filterable))}." in err.message


def test_an_empty_filterable_set_allows_nothing():
    err = filter_error("name eq 'x'", filterable=frozenset())
    assert "'name' is not a filterable property; filterable properties: (none)." in err.message


# --- $filter: refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "position", "fragment"),
    [
        ("", 0, "the expression is empty"),
        ("   ", 3, "the expression is empty"),
        # Missing operands.
        ("name eq", 7, "expected a value after 'eq', found the end of the expression"),
        ("name eq 'web01' and", 19, "found the end of the expression"),
        ("name eq 'web01' or ()", 20, "found ')'"),
        ("eq 'x'", 0, "found the keyword 'eq'"),
        ("not", 3, "found the end of the expression"),
        ("name eq and", 8, "found the keyword 'and'"),
        # Strings.
        ("name eq 'web", 8, "unterminated string literal"),
        ("name eq 'it''s", 8, "unterminated string literal"),
        ("name eq 'a''", 8, "unterminated string literal"),
        ("powerState eq Vmm.Ahv.Config.PowerState'ON", 39, "unterminated string literal"),
        # Parentheses.
        ("(name eq 'web01'", 16, "unbalanced parentheses: expected ')' to close the '(' at position 0"),
        ("((name eq 'web01')", 18, "to close the '(' at position 0"),
        ("name eq 'web01')", 15, "unbalanced parentheses: this ')' has no matching '('"),
        # Trailing garbage and stray characters.
        ("name eq 'web01' numSockets eq 2", 16, "found 'numSockets' after a complete expression"),
        ("name eq 'web01' 'x'", 16, "found the value 'x' after a complete expression"),
        ("name eq 'a' # x", 12, "unexpected '#'"),
        ("name eq 'a' && numSockets eq 2", 12, "unexpected '&&'"),
        ("numSockets eq 2x", 14, "unexpected '2x'"),
        ('name eq "web01"', 8, "unexpected '\"web01\"'"),
        # Operators and keywords.
        ("name like 'a'", 5, "expected a comparison operator (eq, ne, gt, ge, lt, le) or 'in' after 'name'"),
        ("name EQ 'a'", 5, "(OData keywords are lowercase: eq)"),
        ("name eq 'a' AND numSockets eq 2", 12, "(OData keywords are lowercase: and)"),
        ("name eq numSockets", 5, "comparing two properties ('name' and 'numSockets') is not supported"),
        ("'a' eq 'b'", 4, "needs a property on one side; found two values"),
        # Functions.
        ("frobnicate(name,'a')", 0, "unknown function 'frobnicate'; supported functions: contains, endswith"),
        ("name eq 'a' and length(name) eq 3", 16, "unknown function 'length'"),
        ("length(name) eq 3", 0, "unknown function 'length'"),
        ("categories/some(c: c/extId eq 'x')", 0, "'some' is not a lambda operator"),
        ("startswith('web', name)", 11, "takes a property as its first argument"),
        ("startswith(name, 5)", 17, "takes a quoted text as its second argument"),
        ("startswith(name 'x')", 16, "expected ',' between the arguments of startswith()"),
        ("startswith(name, 'x'", 20, "expected ')' to close startswith("),
        ("tolower(name eq 'x'", 13, "expected ')' to close tolower("),
        ("tolower(5) eq 'x'", 8, "tolower() takes text"),
        ("startswith(name,'a') eq 5", 24, "can only be compared with true or false"),
        ("name eq startswith(name,'a')", 8, "is a condition, not a value"),
        # in.
        ("name in ()", 9, "'in' needs at least one value"),
        ("name in ('a' 'b')", 13, "expected ',' or ')' in the 'in' list"),
        ("name in 'a'", 8, "expected '(' after 'in'"),
        ("name in ('a', description)", 14, "'in' takes values only"),
        ("'a' in ('a')", 4, "'in' needs a property on its left"),
        # Lambdas.
        ("categories/any(c c/extId eq 'x')", 17, "expected ':' after the lambda variable 'c'"),
        ("categories/all()", 15, "all() needs a condition"),
        ("categories/any(eq: eq eq 1)", 15, "expected a lambda variable name"),
        ("categories/any(c/x: c eq 1)", 15, "expected a lambda variable name"),
        ("categories/any eq 1", 0, "is a lambda operator; write categories/any(x: <condition>)"),
        ("categories/any(c: c/extId eq 'x'", 32, "expected ')' to close categories/any("),
        # Datetimes.
        ("createTime gt 2025-01-01", 14, "'2025-01-01' is not a valid datetime"),
        ("createTime gt 2025-13-01T00:00:00Z", 14, "'2025-13-01T00:00:00Z' is not a valid datetime"),
        ("createTime gt 2025-01-01T00:00:00+0x:00", 14, "is not a valid datetime"),
    ],
)
def test_malformed_filters_are_refused_with_position(expr, position, fragment):
    err = filter_error(expr)
    assert err.message.startswith(f"Invalid $filter at position {position}: "), err.message
    assert fragment in err.message


def test_nesting_is_bounded():
    ok = "(" * 60 + "name eq 'web01'" + ")" * 60
    assert odata.compile_filter(ok)(VM) is True
    err = filter_error("(" * 65 + "name eq 'web01'" + ")" * 65)
    assert err.message.startswith("Invalid $filter at position 64: the expression nests deeper than 64")
    err = filter_error("not " * 70 + "isAgentVm")
    assert err.message.startswith("Invalid $filter at position 256: ")
    deep_lambda = "".join(f"l{i}/any(x{i}: " for i in range(70)) + "x69 eq 1" + ")" * 70
    assert "nests deeper" in filter_error(deep_lambda).message


def test_error_type_carries_option_and_message():
    err = filter_error("name eq")
    assert isinstance(err, ValueError)
    assert str(err) == err.message
    assert odata.ODataError("$limit", "too big").option == "$limit"


# --- $filter: robustness and scale ------------------------------------------------------------------

COMPLEX = (
    "(name eq 'web01' or startswith(tolower(name),'db')) and not (powerState in "
    "(Vmm.Ahv.Config.PowerState'OFF', 'PAUSED')) and nics/any(n: n/networkInfo/ipv4Addresses/any(ip: "
    "ip/value eq '10.0.0.5')) and createTime gt 2025-01-01T00:00:00Z and memorySizeBytes ge 1.5e9 "
    "and host eq null and categories/all(c: contains(c/extId, '-'))"
)


def test_complex_filter_matches_and_its_variants_do_not():
    assert matches(COMPLEX) is True
    assert matches(COMPLEX, {**VM, "powerState": "OFF"}) is False
    assert matches(COMPLEX, {**VM, "host": {"extId": "h1"}}) is False
    assert matches(COMPLEX, {**VM, "createTime": "2024-12-31T23:59:59Z"}) is False


@pytest.mark.parametrize(
    "entity",
    [
        {},
        {"name": ["web01"], "powerState": {"x": 1}, "nics": "nic-1", "categories": [None, 3, "x"]},
        {"nics": [{"networkInfo": "x"}, {"networkInfo": {"ipv4Addresses": [None, "10.0.0.5"]}}]},
        {"createTime": 12, "memorySizeBytes": "big", "host": 0, "categories": {"extId": "a"}},
        {"name": "web01", "createTime": "not-a-time", "memorySizeBytes": float("inf")},
        None,
        [],
        "web01",
        7,
    ],
)
def test_predicate_never_raises_on_odd_entities(entity):
    assert odata.compile_filter(COMPLEX)(entity) is False


def test_every_prefix_and_mutation_of_a_filter_compiles_or_is_refused_cleanly():
    rng = random.Random(20250110)
    candidates = [COMPLEX[:n] for n in range(len(COMPLEX) + 1)]
    alphabet = "()',:/ abeqnot0-9.TZ'\"$"
    for _ in range(1500):
        chars = list(COMPLEX)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(chars))
            choice = rng.random()
            if choice < 0.4:
                del chars[pos]
            elif choice < 0.7:
                chars.insert(pos, rng.choice(alphabet))
            else:
                chars[pos] = rng.choice(alphabet)
        candidates.append("".join(chars))
    compiled = 0
    for text in candidates:
        try:
            predicate = odata.compile_filter(text, enum_types=VM_ENUMS)
        except odata.ODataError as err:
            assert err.option == "$filter"
            assert err.message.startswith("Invalid $filter")
            continue
        compiled += 1
        assert predicate(VM) in (True, False)
        assert predicate({}) in (True, False)
    assert compiled > 1  # the full text, at least, and some harmless mutations


def test_compound_filter_over_fifty_thousand_entities():
    vms = [
        {
            "extId": f"vm-{i:05d}",
            "name": f"vm-{i:05d}",
            "powerState": "ON" if i % 3 else "OFF",
            "numSockets": i % 8 + 1,
            "memorySizeBytes": (i % 16 + 1) * 1024**3,
            "cluster": {"extId": f"cluster-{i % 4}"},
            "categories": [{"extId": f"cat-{i % 10}"}, {"extId": "cat-all"}],
            "createTime": f"2025-01-{i % 28 + 1:02d}T12:00:00.000000Z",
        }
        for i in range(50_000)
    ]
    predicate = odata.compile_filter(
        "powerState eq Vmm.Ahv.Config.PowerState'OFF' and numSockets in (1, 2, 3) "
        "and (cluster/extId eq 'cluster-0' or cluster/extId eq 'cluster-2') "
        "and categories/any(c: c/extId eq 'cat-4') and memorySizeBytes ge 4294967296 "
        "and createTime lt 2025-01-15T00:00:00Z and not startswith(name, 'vm-1')",
        VM_FILTERABLE | {"numSockets", "categories", "memorySizeBytes", "createTime"},
        VM_ENUMS,
    )
    expected = sum(
        1
        for i in range(50_000)
        if i % 3 == 0
        and i % 8 + 1 in (1, 2, 3)
        and i % 4 in (0, 2)
        and i % 10 == 4
        and i % 16 + 1 >= 4
        and i % 28 + 1 < 15
        and not f"{i:05d}".startswith("1")
    )
    assert expected > 0
    assert sum(1 for vm in vms if predicate(vm)) == expected


# --- $orderby ----------------------------------------------------------------------------------------

ITEMS = [
    {"extId": "a", "name": "delta", "size": 2, "created": "2025-01-10T09:00:00Z", "cluster": {"name": "c2"}},
    {
        "extId": "b",
        "name": "alpha",
        "size": 1,
        "created": "2025-01-10T09:00:00.5Z",
        "cluster": {"name": "c1"},
    },
    {"extId": "c", "name": "charlie", "size": 2, "created": "2025-01-10T08:59:59.999999Z"},
    {"extId": "d", "name": "bravo", "created": "2025-01-10T10:00:00+02:00", "cluster": {"name": "c1"}},
    {"extId": "e", "name": "echo", "size": None, "cluster": {"name": "c2"}},
]


@pytest.mark.parametrize(
    ("clause", "order"),
    [
        ("name", "bdcae"),
        ("name asc", "bdcae"),
        ("name desc", "eacdb"),
        # Missing and null sort first ascending, last descending; ties keep their input order.
        ("size", "debac"),
        ("size desc", "acbde"),
        ("size desc, name", "cabde"),
        ("size, name desc", "edbac"),
        ("cluster/name, name desc", "cdbea"),
        ("  cluster/name   desc ,name  ", "aebdc"),
        # Timestamps sort as instants: 10:00+02:00 is 08:00Z, and 09:00:00.5 is after 09:00:00.
        ("created", "edcab"),
        ("created desc", "bacde"),
        ("", "abcde"),
    ],
)
def test_orderby(clause, order):
    items = copy.deepcopy(ITEMS)
    ordered = odata.compile_orderby(clause)(items)
    assert "".join(i["extId"] for i in ordered) == order
    assert items == ITEMS  # sorted into a new list, the input untouched
    assert ordered is not items


def test_orderby_compares_mixed_kinds_without_error():
    values = [3, "x", True, None, 1.5, [1], {"a": 1}, "2025-01-01T00:00:00Z", False, "a"]
    items = [{"i": i, "v": v} for i, v in enumerate(values)] + [{"i": len(values)}]
    ordered = odata.compile_orderby("v")(items)
    # null/missing, then booleans, numbers, timestamps, other text, and lists/dicts in input order.
    assert [i["i"] for i in ordered] == [3, 10, 8, 2, 4, 0, 7, 9, 1, 5, 6]
    assert [i["i"] for i in odata.compile_orderby("v desc")(items)] == [5, 6, 1, 9, 7, 0, 4, 2, 8, 3, 10]


def test_orderby_is_stable_over_many_ties():
    items = [{"k": i % 3, "seq": i} for i in range(300)]
    ordered = odata.compile_orderby("k desc")(items)
    assert [i["k"] for i in ordered] == [2] * 100 + [1] * 100 + [0] * 100
    for key in (0, 1, 2):
        seqs = [i["seq"] for i in ordered if i["k"] == key]
        assert seqs == sorted(seqs)


@pytest.mark.parametrize(
    ("clause", "position", "fragment"),
    [
        ("name sideways", 5, "unknown sort direction 'sideways' after 'name'; use asc or desc"),
        ("name DESC", 5, "unknown sort direction 'DESC'"),
        ("name desc extra", 10, "unexpected 'extra' after 'name desc'"),
        ("name,", 5, "empty sort clause"),
        (",name", 0, "empty sort clause"),
        ("name, ,size", 5, "empty sort clause"),
        ("1abc", 0, "'1abc' is not a property path"),
        ("name, size-1", 6, "'size-1' is not a property path"),
    ],
)
def test_bad_orderby_is_refused_with_position(clause, position, fragment):
    with pytest.raises(odata.ODataError) as caught:
        odata.compile_orderby(clause)
    assert caught.value.option == "$orderby"
    assert caught.value.message.startswith(f"Invalid $orderby at position {position}: ")
    assert fragment in caught.value.message


@pytest.mark.parametrize(("clause", "position"), [("powerState", 0), ("name, powerState desc", 6)])
def test_orderby_refuses_unsortable_fields_naming_them(clause, position):
    with pytest.raises(odata.ODataError) as caught:
        odata.compile_orderby(clause, frozenset({"name", "memorySizeBytes"}))
    assert caught.value.option == "$orderby"
    assert caught.value.message == (
        f"Invalid $orderby at position {position}: 'powerState' is not a sortable property; "
        "sortable properties: memorySizeBytes, name."
    )


def test_orderby_accepts_sortable_fields():
    ordered = odata.compile_orderby("cluster/name desc", frozenset({"cluster/name"}))(ITEMS)
    assert [i["extId"] for i in ordered] == ["a", "e", "b", "d", "c"]


# --- $select and projection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("*", None),
        ("", None),
        ("   ", None),
        ("name,*", None),
        ("name", ["name"]),
        (" name , cluster/extId ", ["name", "cluster/extId"]),
        ("name,name,extId", ["name", "extId"]),
        ("$objectType", ["$objectType"]),
    ],
)
def test_parse_select(text, fields):
    assert odata.parse_select(text) == fields


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("name,,extId", 5, "empty property name"),
        ("name,", 5, "empty property name"),
        ("name desc", 0, "'name desc' is not a property path"),
        ("name, cluster/", 6, "'cluster/' is not a property path"),
    ],
)
def test_bad_select_is_refused_with_position(text, position, fragment):
    with pytest.raises(odata.ODataError) as caught:
        odata.parse_select(text)
    assert caught.value.option == "$select"
    assert caught.value.message.startswith(f"Invalid $select at position {position}: ")
    assert fragment in caught.value.message


def test_select_refuses_unselectable_fields_naming_them():
    with pytest.raises(odata.ODataError) as caught:
        odata.parse_select("name, secret", frozenset({"name", "extId"}))
    assert caught.value.option == "$select"
    assert caught.value.message == (
        "Invalid $select at position 6: 'secret' is not a selectable property; "
        "selectable properties: extId, name."
    )
    assert odata.parse_select("name,cluster/extId", frozenset({"name", "cluster/extId"})) == [
        "name",
        "cluster/extId",
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ([], {"$objectType": "vmm.v4.ahv.config.Vm", "extId": VM["extId"]}),
        (
            ["name", "cluster/extId"],
            {
                "$objectType": "vmm.v4.ahv.config.Vm",
                "extId": VM["extId"],
                "name": "web01",
                "cluster": {
                    "$objectType": "vmm.v4.ahv.config.ClusterReference",
                    "extId": VM["cluster"]["extId"],
                },
            },
        ),
        (
            ["cluster/name"],
            {
                "$objectType": "vmm.v4.ahv.config.Vm",
                "extId": VM["extId"],
                "cluster": {
                    "$objectType": "vmm.v4.ahv.config.ClusterReference",
                    "extId": VM["cluster"]["extId"],
                    "name": "prod-1",
                },
            },
        ),
        # Through a list, each element is projected.
        (
            ["nics/networkInfo/subnet"],
            {
                "$objectType": "vmm.v4.ahv.config.Vm",
                "extId": VM["extId"],
                "nics": [
                    {"extId": "nic-1", "networkInfo": {"subnet": {"extId": "sub-a"}}},
                    {"extId": "nic-2", "networkInfo": {"subnet": {"extId": "sub-b"}}},
                ],
            },
        ),
        # The whole value wins over a part of it, whichever comes first.
        (
            ["cluster/extId", "cluster"],
            {"$objectType": VM["$objectType"], "extId": VM["extId"], "cluster": VM["cluster"]},
        ),
        (
            ["cluster", "cluster/extId"],
            {"$objectType": VM["$objectType"], "extId": VM["extId"], "cluster": VM["cluster"]},
        ),
        (
            ["tags", "numSockets"],
            {
                "$objectType": VM["$objectType"],
                "extId": VM["extId"],
                "numSockets": 2,
                "tags": ["blue", "green"],
            },
        ),
        # A null stays null; absent properties and paths through plain values are left out.
        (
            ["host/extId", "missing", "name/first"],
            {"$objectType": VM["$objectType"], "extId": VM["extId"], "host": None},
        ),
    ],
)
def test_project(fields, expected):
    entity = copy.deepcopy(VM)
    assert odata.project(entity, fields) == expected
    assert entity == VM


def test_project_keeps_the_entity_key_order():
    out = odata.project(VM, ["tags", "name", "powerState"])
    assert list(out) == ["$objectType", "extId", "name", "powerState", "tags"]


# --- $page and $limit --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "limit", "options", "expected"),
    [
        (None, None, {}, (0, 50)),
        ("", "", {}, (0, 50)),
        ("3", "25", {}, (3, 25)),
        ("0", "1", {}, (0, 1)),
        (None, "100", {}, (0, 100)),
        (" 2 ", None, {}, (2, 50)),
        (None, None, {"default_limit": 20}, (0, 20)),
        ("1", "500", {"max_limit": 500}, (1, 500)),
    ],
)
def test_paging(page, limit, options, expected):
    assert odata.parse_paging(page, limit, **options) == expected


@pytest.mark.parametrize(
    ("page", "limit", "option", "fragment"),
    [
        ("-1", None, "$page", "Invalid $page '-1'"),
        ("1.5", None, "$page", "Invalid $page '1.5'"),
        ("abc", "10", "$page", "Invalid $page 'abc'"),
        ("\u0663", None, "$page", "Invalid $page"),
        (None, "0", "$limit", "Invalid $limit '0': use a whole number from 1 to 100"),
        (None, "101", "$limit", "Invalid $limit '101': use a whole number from 1 to 100"),
        (None, "-3", "$limit", "from 1 to 100"),
        (None, "ten", "$limit", "Invalid $limit 'ten'"),
        (None, "2.0", "$limit", "Invalid $limit '2.0'"),
    ],
)
def test_paging_bounds(page, limit, option, fragment):
    with pytest.raises(odata.ODataError) as caught:
        odata.parse_paging(page, limit)
    assert caught.value.option == option
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    "entity",
    [{}, {"name": None}, {"name": 5}, {"name": "a"}, {"name": "b"}, {"name": ["a"]}],
)
def test_ne_is_always_the_negation_of_eq(entity):
    eq = odata.compile_filter("name eq 'a'")
    ne = odata.compile_filter("name ne 'a'")
    assert ne(entity) is (not eq(entity))

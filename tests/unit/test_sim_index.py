"""Index-backed listing (Collection.select) against the naive evaluation: the same entities, the same
order, the same total, on random estates and random filters, also after changes and removals."""

import random

import pytest
from day2ops_sim.core import odata
from day2ops_sim.core.store import Collection

NAMES = ("fin-", "hr-", "web-", "fin", "", "Fin-", "db-é", "x\U0010ffff")
STATES = ("ON", "OFF", "PAUSED")


def random_vm(rng: random.Random, n: int) -> dict:
    vm = {"extId": f"vm-{n:05d}"}
    # Missing, null and odd-kind values too: an index must agree with the filter on every one.
    choices = {
        "name": lambda: rng.choice(NAMES) + str(rng.randrange(30)),
        "powerState": lambda: rng.choice(STATES),
        "numSockets": lambda: rng.choice((1, 2, 4, 8, 4.0, True, "4")),
        "memorySizeBytes": lambda: rng.choice((2, 4, 8, 16, 32)) * 1024**3,
        "isAgentVm": lambda: rng.choice((True, False, 1, 0)),
        "cluster": lambda: {"extId": rng.choice(("c1", "c2", "c3"))},
    }
    for key, make in choices.items():
        roll = rng.random()
        if roll < 0.05:
            vm[key] = None
        elif roll < 0.1:
            vm[key] = [1]
        elif roll < 0.95:
            vm[key] = make()
    return vm


def random_term(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: f"startswith(name,'{rng.choice(NAMES)}')",
            lambda: f"name eq '{rng.choice(NAMES)}{rng.randrange(30)}'",
            lambda: f"name {rng.choice(('gt', 'ge', 'lt', 'le'))} '{rng.choice(NAMES)}{rng.randrange(30)}'",
            lambda: f"powerState eq Vmm.Ahv.Config.PowerState'{rng.choice(STATES)}'",
            lambda: f"powerState in ('{rng.choice(STATES)}', '{rng.choice(STATES)}')",
            lambda: (
                f"numSockets {rng.choice(('eq', 'gt', 'ge', 'lt', 'le', 'ne'))} {rng.choice((1, 2, 4, 4.0))}"
            ),
            lambda: f"numSockets in ({rng.choice((1, 2, 4))}, {rng.choice((8, 'true', 2.0, 'null'))})",
            lambda: f"memorySizeBytes {rng.choice(('ge', 'lt'))} {rng.choice((4, 16)) * 1024**3}",
            lambda: rng.choice(("isAgentVm", "isAgentVm eq false", "not isAgentVm", "isAgentVm eq 1")),
            lambda: f"cluster/extId eq '{rng.choice(('c1', 'c2'))}'",
            lambda: f"tolower(name) eq '{rng.choice(NAMES).lower()}1'",
            lambda: "name eq null",
        ]
    )()


def random_filter(rng: random.Random) -> str:
    joined = f" {rng.choice(('and', 'and', 'or'))} ".join(random_term(rng) for _ in range(rng.randint(1, 3)))
    return joined if rng.random() < 0.8 else f"({joined}) and {random_term(rng)}"


def naive(entities: list[dict], text: str | None, order_text: str | None) -> list[dict]:
    matched = [e for e in entities if odata.compile_filter(text)(e)] if text else list(entities)
    return odata.compile_orderby(order_text)(matched) if order_text else matched


def assert_same(store: Collection, text: str | None, order_text: str | None) -> None:
    expected = naive(list(store), text, order_text)
    predicate = odata.compile_filter(text) if text else None
    order = odata.compile_orderby(order_text) if order_text else None
    for _cached in range(2):
        total, window = store.select(predicate, order, (text, order_text or ""), 0, len(store) + 1)
        assert total == len(expected), text
        assert [e["extId"] for e in window] == [e["extId"] for e in expected], (text, order_text)
    total, window = store.select(predicate, order, (text, order_text or ""), 3, 9)
    assert total == len(expected) and window == expected[3:9]


@pytest.mark.parametrize("seed", range(6))
def test_indexed_listing_equals_the_naive_one(seed):
    rng = random.Random(seed)
    store = Collection("vm")
    for n in range(400):
        store.add(random_vm(rng, n))
    for round_ in range(60):
        text = random_filter(rng)
        order_text = rng.choice((None, None, "name", "name desc", "numSockets desc, name"))
        assert_same(store, text, order_text)
        # Changes in place, removals and re-adds between queries: the indexes must follow them.
        for _ in range(rng.randint(0, 8)):
            vm = rng.choice(list(store))
            action = rng.random()
            if action < 0.6:
                vm.update(random_vm(rng, 0) | {"extId": vm["extId"]})
                store.touch(vm["extId"])
            elif action < 0.8:
                store.remove(vm["extId"])
            else:
                store.add(random_vm(rng, 1000 + round_))
    assert_same(store, None, "name desc")
    assert_same(store, None, None)


def test_filters_carry_the_terms_an_index_answers():
    hinted = odata.compile_filter("startswith(name,'a') and powerState eq 'ON' and numSockets in (2, 4)")
    assert hinted.exact
    assert [t.op for t in hinted.terms] == ["startswith", "eq", "in"]
    partial = odata.compile_filter("powerState eq 'ON' and tolower(name) eq 'a'")
    assert not partial.exact
    assert [t.path for t in partial.terms] == ["powerState"]
    polled = odata.compile_filter("extId eq 'a' or extId eq 'b' or extId eq 'c'")
    assert polled.exact and polled.terms[0].op == "in" and len(polled.terms[0].values) == 3
    for unhinted in ("name ne 'a'", "name eq 'a' or powerState eq 'ON'", "nics/any(n: n/extId eq 'a')"):
        assert not odata.compile_filter(unhinted).terms


PAGES = [
    {"$limit": 50},
    {"$filter": "startswith(name,'fin-') and powerState eq Vmm.Ahv.Config.PowerState'ON'", "$limit": 100},
    {
        "$filter": "memorySizeBytes ge 17179869184 and numSockets in (4, 8)",
        "$select": "name,memorySizeBytes,powerState",
        "$orderby": "name desc",
        "$limit": 100,
    },
    {"$filter": "powerState eq Vmm.Ahv.Config.PowerState'ON'", "$page": 3, "$limit": 20},
    {"$orderby": "memorySizeBytes desc,name", "$select": "name,nics", "$page": 1, "$limit": 7},
]


def test_list_pages_read_the_same_as_the_unindexed_unrendered_ones(monkeypatch):
    """Indexed selection and cached renderings change no byte of a list page, at any version, also
    after a VM changed (its cached rendering must not be served)."""
    from day2ops_sim.app import create_app
    from day2ops_sim.routes import vmm
    from day2ops_sim.routes.common import HANDLERS, list_reply
    from day2ops_sim.state import SimState
    from fastapi.testclient import TestClient

    state = SimState(vm_count=300)
    client = TestClient(create_app(state), base_url="https://testserver")

    def naive_list_vms(call):
        items = list(call.state.vmm.vms)
        return list_reply(call, items, vmm.VM_TYPE, vmm.VM_LISTING, vmm.VMS, shape=vmm.with_typed_nics)

    def pages() -> list[bytes]:
        return [
            client.get(
                f"/api/vmm/{version}/ahv/config/vms", params=page, auth=("admin", "Nutanix.123")
            ).content
            for version in ("v4.0", "v4.3")
            for page in PAGES
        ]

    def both() -> tuple[list[bytes], list[bytes]]:
        indexed = pages()
        assert pages() == indexed  # the second time from cached renderings
        with monkeypatch.context() as m:
            m.setitem(HANDLERS, ("vmm", "list_vms"), naive_list_vms)
            return indexed, pages()

    indexed, naive_pages = both()
    assert indexed == naive_pages
    assert all(b'"data":[' in page for page in indexed)
    vm = next(v for v in state.vmm.vms if v["name"].startswith("fin-") and v["powerState"] == "ON")
    vm["name"] = "fin-renamed"
    state.vmm.changed(vm)
    indexed, naive_pages = both()
    assert indexed == naive_pages
    assert any(b"fin-renamed" in page for page in indexed)

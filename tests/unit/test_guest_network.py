"""`day2ops sim --guest-network loopback`: every VM address on 127.0.0.0/8, a lease for a VM that powers on
without an address of its own; off by default, where the estate keeps its 10.x plan."""

import ipaddress

from day2ops_sim.state import SimState


def learned(vm: dict) -> list[str]:
    return [
        address["value"]
        for nic in vm["nics"]
        for address in (nic["networkInfo"].get("ipv4Info") or {}).get("learnedIpAddresses") or []
    ]


def running(state: SimState) -> dict:
    return next(vm for vm in state.vmm.vms if vm["powerState"] == "ON" and learned(vm))


def test_by_default_the_estate_keeps_its_10_x_addresses():
    state = SimState(vm_count=40)
    addresses = [a for vm in state.vmm.vms for a in learned(vm)]
    assert addresses and all(ipaddress.ip_address(a) in ipaddress.ip_network("10.0.0.0/8") for a in addresses)


def test_loopback_maps_the_same_plan_onto_127():
    plain, loopback = SimState(vm_count=40), SimState(vm_count=40, guest_network="loopback")
    for vm, twin in zip(plain.vmm.vms, loopback.vmm.vms, strict=True):
        assert vm["extId"] == twin["extId"]
        assert ["127." + a.split(".", 1)[1] for a in learned(vm)] == learned(twin)


def test_a_copy_next_to_its_source_and_a_vm_without_an_address_lease_one_when_powered_on():
    state = SimState(vm_count=40, guest_network="loopback")
    source = running(state)
    dr = next(c for c in state.clusters.clusters if c["name"] == "dr-ahv-01")
    restored = state.vmm.add_restored("11111111-1111-4111-8111-111111111111", source, dr["extId"], {})
    state.vmm.set_power(restored, "ON")
    deployed = state.vmm.add_deployed("22222222-2222-4222-8222-222222222222", source, dr["extId"], {})
    assert learned(deployed) == []  # no address until it runs
    state.vmm.set_power(deployed, "ON")
    addresses = learned(source) + learned(restored) + learned(deployed)
    assert len(set(addresses)) == 3 and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    assert learned(restored)[0].startswith("127.99.") and learned(deployed)[0].startswith("127.99.")
    # The control API lists each running guest's address for the guest gateway.
    assert {g["address"] for g in guest_list(state)} >= set(addresses)


def guest_list(state: SimState) -> list[dict]:
    from day2ops_sim.control.guests import guest_addresses

    return guest_addresses(state)

"""What runs inside each simulated VM: OS patch level, the application's health, boots.

Prism does not see inside a guest; this is the simulator's stand-in for the machine an Ansible
play reaches over SSH. Recovery points capture it, revert and restore bring it back, and the
control API patches, reboots and probes it (a package-manager stand-in on the SSH side calls
those). Nothing here is served under /api/.
"""

import copy
from dataclasses import asdict, dataclass

from ..core.clock import Clock
from ..core.errors import ApiError
from ..core.ids import IdFactory


@dataclass
class Guest:
    os_version: str
    patch_level: int = 0
    app_healthy: bool = True
    reboot_required: bool = False
    boot_id: str = ""
    boot_time: str = ""
    # Test levers, never captured in a recovery point: they describe the next patch, not the disk.
    break_next_patch: bool = False
    next_patch_requires_reboot: bool = False

    def captured(self) -> dict:
        """What a recovery point keeps: the disk's view of the guest."""
        return {
            "os_version": self.os_version,
            "patch_level": self.patch_level,
            "app_healthy": self.app_healthy,
            "reboot_required": self.reboot_required,
        }

    def wire(self) -> dict:
        return asdict(self)


class GuestBackend:
    def __init__(self, clock: Clock, ids: IdFactory) -> None:
        self.clock = clock
        self.ids = ids
        self.guests: dict[str, Guest] = {}

    def reset(self) -> None:
        self.guests.clear()

    def dump(self) -> dict:
        return {ext_id: guest.wire() for ext_id, guest in self.guests.items()}

    def load(self, guests: dict) -> None:
        self.guests = {ext_id: Guest(**fields) for ext_id, fields in guests.items()}

    def of(self, vm: dict) -> Guest:
        """The guest of a VM, made on first sight from what Prism knows of its OS."""
        guest = self.guests.get(vm["extId"])
        if guest is None:
            os_version = (
                (vm.get("guestTools") or {}).get("guestOsVersion") or vm.get("description") or "unknown"
            )
            guest = Guest(
                os_version=os_version.rsplit(":", 1)[-1], boot_id=self.ids.uuid(), boot_time=self.clock.iso()
            )
            self.guests[vm["extId"]] = guest
        return guest

    def restore(self, vm: dict, captured: dict) -> None:
        """After a revert or restore the disk is the recovery point's and the guest boots afresh."""
        guest = self.of(vm)
        for key, value in captured.items():
            setattr(guest, key, copy.deepcopy(value))
        self.boot(vm)

    def boot(self, vm: dict) -> Guest:
        guest = self.of(vm)
        guest.boot_id = self.ids.uuid()
        guest.boot_time = self.clock.iso()
        guest.reboot_required = False
        return guest

    def _running(self, vm: dict) -> Guest:
        if vm.get("powerState") != "ON":
            raise ApiError(
                409, f"VM '{vm['name']}' is {vm.get('powerState')}: nothing runs inside it.", "SIM-40900"
            )
        return self.of(vm)

    def reboot(self, vm: dict) -> Guest:
        """A reboot from inside the guest (`shutdown -r`): the VM stays on, the guest boots again."""
        self._running(vm)
        return self.boot(vm)

    def health(self, vm: dict) -> tuple[bool, dict]:
        """What the VM's application health URL answers: (healthy, body)."""
        guest = self.of(vm)
        if vm.get("powerState") != "ON":
            return False, {"status": "DOWN", "reason": f"VM is {vm.get('powerState')}"}
        if not guest.app_healthy:
            reason = f"application failed after patch level {guest.patch_level}"
            return False, {"status": "DOWN", "reason": reason, "patch_level": guest.patch_level}
        return True, {"status": "UP", "patch_level": guest.patch_level, "boot_id": guest.boot_id}

    def patch(self, vm: dict) -> Guest:
        """One OS update as a package manager would run it inside a running guest."""
        guest = self._running(vm)
        guest.patch_level += 1
        if guest.break_next_patch:
            guest.app_healthy = False
            guest.break_next_patch = False
        if guest.next_patch_requires_reboot:
            guest.reboot_required = True
            guest.next_patch_requires_reboot = False
        return guest

    def copy_to(self, source: dict, target_ext_id: str, captured: dict) -> None:
        """A VM made from a recovery point starts with that point's guest."""
        guest = Guest(os_version=captured.get("os_version") or self.of(source).os_version)
        for key, value in captured.items():
            setattr(guest, key, copy.deepcopy(value))
        guest.boot_id = self.ids.uuid()
        guest.boot_time = self.clock.iso()
        self.guests[target_ext_id] = guest

"""The guests' network in demo mode (`day2ops sim --guest-network loopback`): every VM address is in
127.0.0.0/8, so a demo that reaches its VMs (SSH, health probes) never leaves the machine.

The estate's 10.x plan maps onto 127.x (10.10.0.7 becomes 127.10.0.7). A VM that powers on without an
address (a template deploy, a clone) or with one a running VM already holds (a restored copy next to its
source) leases the next free one, as the subnet's IPAM would hand it out; Prism reports it in
ipv4Info.learnedIpAddresses. Off by default: the simulated estate keeps its 10.x addresses.
"""

LOOPBACK = "loopback"
MODES = ("", LOOPBACK)


def on_loopback(address: str) -> str:
    """10.10.0.7 -> 127.10.0.7: the same plan, one octet moved onto loopback."""
    return "127." + address.split(".", 1)[1]


class GuestNetwork:
    def __init__(self, mode: str = "") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown guest network {mode!r}; one of {', '.join(m for m in MODES if m)}")
        self.mode = mode
        self._next = 0

    @property
    def loopback(self) -> bool:
        return self.mode == LOOPBACK

    def reset(self) -> None:
        self._next = 0

    def lease(self, taken: set[str]) -> str:
        """The next address of the lease pool (127.99.0.0/16) that no running VM holds."""
        while True:
            n = self._next
            self._next += 1
            address = f"127.99.{n // 250 % 256}.{n % 250 + 2}"
            if address not in taken:
                return address

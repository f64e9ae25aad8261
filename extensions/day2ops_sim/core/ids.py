"""Deterministic identifiers: the same seed gives the same estate and the same extIds."""

import random
import uuid

# base64("ergon"): the Prism task service prefix every v4 task extId carries.
TASK_PREFIX = "ZXJnb24="


class IdFactory:
    def __init__(self, seed: int = 0) -> None:
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def task_id(self) -> str:
        return f"{TASK_PREFIX}:{self.uuid()}"

    def mac(self) -> str:
        # 50:6b:8d is the prefix AHV assigns to virtual NICs.
        tail = self._rng.getrandbits(24)
        return f"50:6b:8d:{tail >> 16:02x}:{(tail >> 8) & 0xFF:02x}:{tail & 0xFF:02x}"

    @property
    def rng(self) -> random.Random:
        return self._rng

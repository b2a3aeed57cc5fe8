"""The behaviour of Object 4 Connectivity Monitoring: a plausible cellular link per device.

Each device gets, from its own random stream when its tree is built, a serving cell (Cell
ID, network codes), a base signal strength between -110 and -60 dBm and its bearer (LTE FDD,
with GSM available). Radio Signal Strength (``/4/0/2``) and Link Quality (``/4/0/3``) are
worked out on every read: the base with a few dB of fading, and the link quality following
the signal (an RSRQ-like 0..34 scale). IP Addresses (``/4/0/4``) start as the loopback
address; the client sets them to its socket's address when it binds (:func:`note_address`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fleet.device.behaviour import Behaviour
from fleet.device.store import DeviceStore
from fleet.model.definitions import ObjectModel
from fleet.model.path import Path

CONNECTIVITY: Final = 4
BEARER, AVAILABLE, SIGNAL, QUALITY, ADDRESSES, ROUTERS, CELL = 0, 1, 2, 3, 4, 5, 8
LTE_FDD, GSM = 6, 0
FADING_DB: Final = 3


class ConnectivityBehaviour(Behaviour):
    """Object 4: generated radio values (see the module docstring)."""

    object_id = CONNECTIVITY
    computed = frozenset({SIGNAL, QUALITY})
    has_ready = True

    def defaults(self, model: ObjectModel) -> Mapping[int, object]:
        return {
            BEARER: LTE_FDD,
            AVAILABLE: [LTE_FDD, GSM],
            SIGNAL: -85,
            QUALITY: 0,
            ADDRESSES: ["127.0.0.1"],
            ROUTERS: ["127.0.0.1"],
            6: 5,  # Link Utilization, %
            7: ["iot.fleet.example"],
            CELL: 0,
            9: 1,  # SMNC
            10: 262,  # SMCC
        }

    def ready(self, tree: DeviceStore, instance_id: int) -> None:
        rng = tree.rng
        if tree.stored(CONNECTIVITY, instance_id, CELL) == 0:
            tree.store(CONNECTIVITY, instance_id, CELL, rng.randrange(1, 1 << 28))
        tree.store(CONNECTIVITY, instance_id, SIGNAL, rng.randint(-110, -60))

    def accept(
        self, tree: DeviceStore, instance_id: int, resource_id: int, value: object
    ) -> object:
        return value  # read-only resources: only the device sets them

    def compute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, stored: object
    ) -> object:
        base = tree.stored(CONNECTIVITY, instance_id, SIGNAL, raw=True)
        rssi = (base if isinstance(base, int) else -85) + tree.rng.randint(-FADING_DB, FADING_DB)
        if resource_id == SIGNAL:
            return rssi
        return max(0, min(34, (rssi + 120) // 2))


def note_address(tree: DeviceStore, host: str) -> None:
    """The device's socket is bound to ``host``: ``/4/0/4`` IP Addresses says so."""
    if tree.stored(CONNECTIVITY, 0, ADDRESSES) is not None:
        tree.set_value(Path(CONNECTIVITY, 0, ADDRESSES), [host])

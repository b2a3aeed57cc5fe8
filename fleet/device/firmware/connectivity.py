"""The behaviour of Object 4 Connectivity Monitoring: a plausible cellular link per device.

Each device draws, from its own random stream when its tree is built (the runner's seeded
per-device stream, so a fleet is the same run after run), its link: the bearer in use
(``/4/0/0``: 6 LTE-FDD for three devices in four, else 7 NB-IoT) and the bearers available
(``/4/0/1``: that one and 0 GSM), a serving network (``/4/0/10`` SMCC, ``/4/0/9`` SMNC: one
of :data:`NETWORKS`), a serving cell (``/4/0/8``: an LTE E-UTRAN cell identity, 28 bits) and
a base signal strength between -110 and -60 dBm. Radio Signal Strength (``/4/0/2``, RSRP on
LTE, NRSRP on NB-IoT: reported in -140..-44 dBm, 3GPP TS 36.133) and Link Quality
(``/4/0/3``, RSRQ as its report index 0..34) are worked out on every read: the base with a
few dB of fading, and the quality following the signal; both are observable like any
resource. IP Addresses (``/4/0/4``) start as the loopback address; the client sets them to
its socket's address when it binds (:func:`note_address`; the address toward the server
when the socket is bound to a wildcard), and Router IP Addresses (``/4/0/5``) to one router
of the same family and subnet per address (:func:`router_of`). APN (``/4/0/7``) is
``iot.fleet.example`` unless the layout's initial values say otherwise.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Final

from fleet.device.behaviour import Behaviour
from fleet.device.store import DeviceStore
from fleet.model.definitions import ObjectModel
from fleet.model.path import Path

CONNECTIVITY: Final = 4
BEARER, AVAILABLE, SIGNAL, QUALITY, ADDRESSES, ROUTERS = 0, 1, 2, 3, 4, 5
UTILIZATION, APN, CELL, SMNC, SMCC = 6, 7, 8, 9, 10
GSM, LTE_FDD, NB_IOT = 0, 6, 7
BEARER_DRAW: Final = (LTE_FDD, LTE_FDD, LTE_FDD, NB_IOT)
"""The bearer in use, drawn per device: LTE-FDD three times in four, else NB-IoT."""
NETWORKS: Final = ((262, 1), (262, 2), (234, 15), (208, 1), (310, 410), (440, 10))
"""(MCC, MNC) pairs a device's serving network is drawn from."""
FADING_DB: Final = 3
BASE_DBM: Final = (-110, -60)
RSRP_DBM: Final = (-140, -44)
"""The reporting range of RSRP / NRSRP (3GPP TS 36.133), where a read value stays."""
RSRQ_INDEX: Final = (0, 34)
CELL_BITS: Final = 28
LOOPBACK: Final = "127.0.0.1"


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
            ADDRESSES: [LOOPBACK],
            ROUTERS: [router_of(LOOPBACK)],
            UTILIZATION: 5,
            APN: ["iot.fleet.example"],
            CELL: 0,
            SMNC: 1,
            SMCC: 262,
        }

    def ready(self, tree: DeviceStore, instance_id: int) -> None:
        rng = tree.rng
        if tree.stored(CONNECTIVITY, instance_id, CELL) == 0:
            tree.store(CONNECTIVITY, instance_id, CELL, rng.randrange(1, 1 << CELL_BITS))
        tree.store(CONNECTIVITY, instance_id, SIGNAL, rng.randint(*BASE_DBM))
        bearer = BEARER_DRAW[rng.randrange(len(BEARER_DRAW))]
        tree.store(CONNECTIVITY, instance_id, BEARER, bearer)
        tree.store(CONNECTIVITY, instance_id, AVAILABLE, [bearer, GSM])
        mcc, mnc = NETWORKS[rng.randrange(len(NETWORKS))]
        tree.store(CONNECTIVITY, instance_id, SMCC, mcc)
        tree.store(CONNECTIVITY, instance_id, SMNC, mnc)

    def accept(
        self, tree: DeviceStore, instance_id: int, resource_id: int, value: object
    ) -> object:
        return value  # read-only resources: only the device sets them

    def compute(
        self, tree: DeviceStore, instance_id: int, resource_id: int, stored: object
    ) -> object:
        base = tree.stored(CONNECTIVITY, instance_id, SIGNAL, raw=True)
        rssi = (base if isinstance(base, int) else -85) + tree.rng.randint(-FADING_DB, FADING_DB)
        rssi = max(RSRP_DBM[0], min(RSRP_DBM[1], rssi))
        if resource_id == SIGNAL:
            return rssi
        return max(RSRQ_INDEX[0], min(RSRQ_INDEX[1], (rssi + 120) // 2))


def router_of(host: str) -> str:
    """The next-hop router of an interface with address ``host``: the first address of its
    /24 (IPv4) or /64 (IPv6) subnet, or the last but one when that is ``host`` itself."""
    address = ipaddress.ip_address(host)
    prefix = 24 if address.version == 4 else 64
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    router = network.network_address + 1
    if router == address:
        router = network.network_address + 254
    return str(router)


def outgoing_address(host: str, toward: tuple[str, int] | None) -> str:
    """``host``, or for a wildcard (``0.0.0.0``, ``::``) the address the system would send from
    toward ``toward`` (a connected UDP socket sends nothing), else the loopback address."""
    try:
        if not ipaddress.ip_address(host).is_unspecified:
            return host
    except ValueError:
        return host
    if toward is not None:
        family = socket.AF_INET6 if ":" in toward[0] else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect(toward)
                return str(probe.getsockname()[0])
        except OSError:
            pass
    return "::1" if ":" in host else LOOPBACK


def note_address(tree: DeviceStore, host: str, toward: tuple[str, int] | None = None) -> None:
    """The device's socket is bound to ``host``: ``/4/0/4`` IP Addresses says so, and
    ``/4/0/5`` Router IP Addresses names its router (``toward``: the server, for a wildcard)."""
    if tree.stored(CONNECTIVITY, 0, ADDRESSES) is not None:
        address = outgoing_address(host, toward)
        tree.set_value(Path(CONNECTIVITY, 0, ADDRESSES), [address])
        if tree.stored(CONNECTIVITY, 0, ROUTERS) is not None:
            tree.set_value(Path(CONNECTIVITY, 0, ROUTERS), [router_of(address)])

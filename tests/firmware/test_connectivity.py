"""Object 4 Connectivity Monitoring read over real UDP and judged against its definition.

Every resource of ``/4/0`` is read by the embedded server from a device on IPv4 (127.0.0.1)
and on IPv6 (::1) and checked against our DDF ``objects/4.xml`` (type, multiplicity, range,
the Network Bearer codes its description enumerates) and the OMA registry's copy (a later
object version: the codes we use must mean the same there): the bearer and the available
bearers are defined codes and the bearer in use is among the available ones; the signal is an
RSRP in its reporting range (3GPP TS 36.133: -140..-44 dBm), the link quality an RSRQ index
(0..34); the cell id an LTE cell identity (28 bits); IP Addresses is the device socket's own
address and Router IP Addresses one router of the same family and subnet; the APN a valid
APN (3GPP TS 23.003 labels). The values are the device's own (seeded: the same seed and index
give the same link, other indexes other links) and observable: Radio Signal Strength notifies
with pmax on the ManualClock, every value in range.
"""

from __future__ import annotations

import ipaddress
import pathlib
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.device.firmware.connectivity import outgoing_address, router_of
from fleet.device.generators import device_compact_rng
from fleet.model.path import Path
from fleet.model.shipped import shipped_registry
from fleet.model.types import ResourceType
from fleet.server import Lwm2mServer

from .conftest import FIRMWARE_LAYOUT, DeviceFactory, within

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGISTRY_4 = ROOT.parent / "shared" / "oma-registry" / "4.xml"
MODEL = shipped_registry().get(4)
RSRP, RSRQ = range(-140, -43), range(0, 35)
APN_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")


def bearer_codes(description: str) -> dict[int, str]:
    """``0 GSM, 1 TD-SCDMA, ...`` (ours) or ``0: GSM cellular network`` (OMA's) -> codes."""
    found = re.findall(r"(?<![\d-])(\d{1,2}):? ([A-Za-z][\w.-]*(?: [\w.-]+)?)", description)
    return {int(code): name for code, name in found}


def by_resource(values: dict[Path, object]) -> dict[int, object]:
    """A read of /4/0 as resource -> value (multiple resources: their instances' values)."""
    grouped: dict[int, object] = {}
    for path, value in sorted(values.items(), key=lambda item: tuple(item[0])):
        if len(path) == 4:
            listed = grouped.setdefault(path[2], [])
            assert isinstance(listed, list)
            listed.append(value)
        else:
            grouped[path[2]] = value
    return grouped


def check_against_the_definition(resources: dict[int, object]) -> None:
    assert set(resources) == {r.id for r in MODEL.resources.values()}
    for rid, value in resources.items():
        definition = MODEL.resource(rid)
        values = value if definition.multiple else [value]
        assert isinstance(values, list) and values, (rid, value)
        for one in values:
            if definition.type is ResourceType.INTEGER:
                assert isinstance(one, int), (rid, one)
            else:
                assert definition.type is ResourceType.STRING and isinstance(one, str)
            if definition.range.intervals:
                assert any(one in interval for interval in definition.range.intervals), (rid, one)
    ours = bearer_codes(MODEL.resource(0).description)
    assert {0: "GSM", 6: "LTE-FDD", 7: "NB-IoT", 21: "WLAN", 41: "Ethernet"}.items() <= {
        k: v.split()[0] for k, v in ours.items()
    }.items()
    bearer, available = resources[0], resources[1]
    assert bearer in ours and isinstance(available, list) and set(available) <= set(ours)
    assert bearer in available
    if REGISTRY_4.exists():  # the registry's later version means the same by these codes
        item = ET.parse(REGISTRY_4).getroot().find("./Object/Resources/Item[@ID='0']")
        assert item is not None
        oma = bearer_codes(item.findtext("Description") or "")
        for code in {bearer, *available}:
            assert isinstance(code, int)
            assert oma[code].split()[0] == ours[code].split()[0], (code, oma[code])
    assert resources[2] in RSRP and resources[3] in RSRQ
    cell = resources[8]
    assert isinstance(cell, int) and 0 < cell < 1 << 28
    (apn,) = resources[7]  # type: ignore[misc]
    assert len(apn) <= 100 and all(APN_LABEL.match(label) for label in apn.split("."))


@pytest_asyncio.fixture(params=["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
async def family_server(request: pytest.FixtureRequest) -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(host=request.param, request_timeout=10.0) as server:
        yield server


@pytest.mark.asyncio
async def test_object_4_over_udp_against_the_definition(family_server: Lwm2mServer) -> None:
    server = family_server
    devices = [
        Device(DeviceConfig(f"link-{i}", server=server.uri, layout=FIRMWARE_LAYOUT))
        for i in range(3)
    ]
    try:
        for device in devices:
            await device.start()
            await within(device.registered.wait())
        cells = set()
        for device in devices:
            read = await server.read(device.name, "/4/0")
            assert read.code == "2.05"
            resources = by_resource(dict(read.values))
            check_against_the_definition(resources)
            endpoint = device.endpoint
            assert endpoint is not None
            socket_host = endpoint.address[0]  # its socket's getsockname()
            assert resources[4] == [socket_host] == [server.address[0]]  # loopback: the same
            seen = server.registration(device.name)
            assert seen is not None and seen.address[0] == socket_host  # where it sends from
            (router,) = resources[5]  # type: ignore[misc]
            mine, theirs = ipaddress.ip_address(socket_host), ipaddress.ip_address(router)
            assert theirs.version == mine.version and theirs != mine
            prefix = 24 if mine.version == 4 else 64
            assert theirs in ipaddress.ip_network(f"{mine}/{prefix}", strict=False)
            write = await server.write(device.name, "/4/0/0", 1)
            assert write.code == "4.05"  # R only, per the definition
            cells.add(resources[8])
        assert len(cells) == len(devices)  # each device its own cell
    finally:
        for device in devices:
            await within(device.stop(deregister=False))


def test_routers_and_wildcards() -> None:
    assert router_of("10.1.2.3") == "10.1.2.1"
    assert router_of("10.1.2.1") == "10.1.2.254"
    assert router_of("127.0.0.1") == "127.0.0.254"
    assert router_of("2001:db8::42") == "2001:db8::1"
    assert router_of("::1") == "::fe"
    assert outgoing_address("127.0.0.5", ("127.0.0.1", 5683)) == "127.0.0.5"
    assert outgoing_address("0.0.0.0", ("127.0.0.1", 5683)) == "127.0.0.1"
    assert outgoing_address("::", ("::1", 5683)) == "::1"


def link(seed: int, index: int) -> dict[int, object]:
    device = Device(
        DeviceConfig(f"sim-{index}", server="coap://127.0.0.1:5683", layout=FIRMWARE_LAYOUT),
        clock=ManualClock(),
        rng=device_compact_rng(seed, index, "device"),
    )
    tree = device.tree
    return {rid: tree.value(f"/4/0/{rid}") for rid in (0, 1, 8, 9, 10)} | {
        2: tree.stored(4, 0, 2, raw=True)  # the base the reads fade around
    }


def test_values_are_seeded_per_device() -> None:
    assert link(7, 3) == link(7, 3)  # the same run again: the same link
    links = [link(7, index) for index in range(40)]
    assert len({str(one[8]) for one in links}) == 40  # cells differ
    assert len({str(one[2]) for one in links}) > 10  # base signals spread over -110..-60
    assert {one[0] for one in links} == {6, 7}  # both bearers drawn
    assert len({(one[10], one[9]) for one in links}) > 1  # several networks
    assert link(8, 3) != link(7, 3)  # another seed: another fleet
    clock = ManualClock()
    named = [Device(DeviceConfig(f"d{i}", layout=FIRMWARE_LAYOUT), clock=clock) for i in range(2)]
    assert named[0].tree.value("/4/0/8") != named[1].tree.value("/4/0/8")  # no rng: by name
    again = Device(DeviceConfig("d0", layout=FIRMWARE_LAYOUT), clock=clock)
    assert again.tree.value("/4/0/8") == named[0].tree.value("/4/0/8")


@pytest.mark.asyncio
async def test_signal_strength_is_observable(
    clock: ManualClock, server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    await make_device("obs-4")
    attrs = await server.write_attributes("obs-4", "/4/0/2", pmin=1, pmax=5)
    assert attrs.code == "2.04"
    handle = await server.observe("obs-4", "/4/0/2")
    try:
        assert handle.result is not None and handle.result.value in RSRP
        seen = []
        for _ in range(6):
            note = within(handle.next())
            await clock.advance(5.0)
            got = await note
            assert got.code == "2.05"
            seen.append(got.value)
        assert all(value in RSRP for value in seen), seen
        assert len(set(seen)) > 1  # fading: the reads differ
    finally:
        handle.cancel_by_reset()

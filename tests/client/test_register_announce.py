"""What a Register announces: ``</>;ct=`` a strict server accepts, object versions of the
device's LwM2M version.

Core 1.1 §6.2.1: the root link's ``ct`` names the content format the client prefers; a
server assumes TLV when it is absent, and knows SenML JSON (110), SenML CBOR (112) and
LwM2M JSON (11543); LwM2M CBOR (11544) is a 1.2 format. Some servers refuse a Register
naming another format, so nothing else is announced. LwM2M 1.0 defines Security, Server
and Device at version 1.0 only: a 1.0 device gives them no ``ver``.
"""

from __future__ import annotations

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.codec import ContentFormat, parse_links
from fleet.codec.negotiation import announced_format
from fleet.model.nodes import ObjectInstance

F = ContentFormat


@pytest.mark.parametrize(
    ("version", "preferred", "announced"),
    [
        ("1.1", None, F.SENML_CBOR),  # a 1.1 device's default preference
        ("1.1", F.SENML_CBOR, F.SENML_CBOR),
        ("1.1", F.SENML_JSON, F.SENML_JSON),
        ("1.1", F.LWM2M_JSON, F.LWM2M_JSON),
        ("1.1", F.TLV, None),  # assumed when absent
        ("1.1", F.TEXT, None),  # not a format for objects: nothing to announce
        ("1.1", F.CBOR, None),
        ("1.2", F.LWM2M_CBOR, F.LWM2M_CBOR),
        ("1.2", None, F.SENML_CBOR),
        ("1.0", None, None),  # TLV
        ("1.0", F.LWM2M_JSON, None),  # a 1.0 Register has no ct
    ],
)
def test_the_announced_format(
    version: str, preferred: ContentFormat | None, announced: ContentFormat | None
) -> None:
    assert announced_format(version, preferred) == announced


def _links(**settings: object) -> dict[str, dict[str, str | None]]:
    device = Device(DeviceConfig("a", **settings), clock=ManualClock())  # type: ignore[arg-type]
    return {link.target: dict(link.attributes) for link in parse_links(device.register_payload())}


def test_a_device_preferring_senml_cbor_says_ct_112() -> None:
    assert _links(content_format=F.SENML_CBOR)["/"] == {"ct": "112"}
    assert _links(content_format=F.SENML_JSON)["/"] == {"ct": "110"}


def test_a_device_preferring_tlv_says_no_ct() -> None:
    assert "/" not in _links(content_format=F.TLV)
    assert "/" not in _links(lwm2m_version="1.0")


def test_a_1_0_device_gives_its_core_objects_no_version() -> None:
    links = _links(lwm2m_version="1.0")
    # Server 1.0 and Device 1.0: only their instances, no ver (1.0 is implied)
    assert "/1" not in links and "/3" not in links
    assert links["/1/0"] == {} and links["/3/0"] == {}
    assert links["/3303"] == {"ver": "1.1"}  # an IPSO object keeps its own version
    assert _links(lwm2m_version="1.1")["/1"] == {"ver": "1.1"}


def test_like_devices_share_one_payload_until_their_instances_differ() -> None:
    first = Device(DeviceConfig("a", lifetime=60), clock=ManualClock())
    second = Device(DeviceConfig("b", lifetime=90), clock=ManualClock())
    assert first.register_payload() is second.register_payload()  # built once
    first.tree.create(3303, ObjectInstance(4, {}))
    links = {link.target for link in parse_links(first.register_payload())}
    assert "/3303/4" in links and "/3303/0" in links
    assert "/3303/4" not in {link.target for link in parse_links(second.register_payload())}
    older = Device(DeviceConfig("c", lwm2m_version="1.0"), clock=ManualClock())
    assert older.register_payload() != second.register_payload()  # the version is a key
    first.tree.delete("/3303/4")
    assert first.register_payload() is second.register_payload()

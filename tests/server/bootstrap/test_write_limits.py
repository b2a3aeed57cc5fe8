"""Bootstrap-Write is range-checked like every other write (issue 21).

A Bootstrap-Server may write what no LwM2M Server may (the Security object, whole objects,
instances that do not exist yet, LwM2M 1.1 Core 5.2.7.4), but not a value outside what the
object definition's ``<RangeEnumeration>`` or the specification allows: those are 4.00 Bad
Request with the limit in the diagnostic, and nothing of the write is applied (no instance
created either). The writes go over real UDP from the embedded Bootstrap-Server to a device
waiting for Bootstrap-Finish, in each format a 1.2 device reads, at each level a
Bootstrap-Write may target; after them Finish still registers the device with what it had.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.codec import ContentFormat, encode
from fleet.errors import NotFound
from fleet.model.nodes import (
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    ResourceInstance,
    SingleResource,
)
from fleet.model.path import Path
from fleet.server.events import EventKind
from tests.client.test_write_limits import VALUES, _registry

from .helpers import device_address, waiting_device

pytestmark = pytest.mark.asyncio
F = ContentFormat
LIFETIME = 300  # what the Bootstrap-Server's account writes (bootstrap_pair's default)


def _layout() -> object:
    from fleet.device import DeviceLayout

    return DeviceLayout.of({0: [0], 1: [0], 3: [0], 3442: [0], 32769: [0]}, values=VALUES)


def _percent(value: object, iid: int = 0) -> ObjectInstance:
    return ObjectInstance(iid, {1: SingleResource(1, value)})  # type: ignore[arg-type]


# (what, path, node, the words of the diagnostic)
BAD: list[tuple[str, Path, Node, str]] = [
    ("resource above its range", Path(32769, 0, 1), SingleResource(1, 101), "outside 0..100"),
    ("enumeration", Path(32769, 0, 5), SingleResource(5, "MAYBE"), "not one of ON, OFF"),
    ("string too long", Path(32769, 0, 3), SingleResource(3, "abcdef"), "bytes is outside"),
    (
        "resource instance",
        Path(32769, 0, 2, 1),
        ResourceInstance(1, 6),
        "outside 1..5",
    ),
    (
        "multiple resource",
        Path(32769, 0, 2),
        MultiResource(2, {0: 1, 1: 0}),
        "outside 1..5",
    ),
    ("instance", Path(32769, 0), _percent(-1), "outside 0..100"),
    ("new instance", Path(32769, 7), _percent(1000, 7), "outside 0..100"),
    ("object", Path(32769), ObjectNode(32769, {0: _percent(50), 8: _percent(101, 8)}), "0..100"),
    ("NaN float", Path(32769, 0, 4), SingleResource(4, float("nan")), "not a finite number"),
    ("infinite float", Path(3442, 0, 130), SingleResource(130, float("inf")), "finite"),
    ("lifetime zero", Path(1, 0, 1), SingleResource(1, 0), "Lifetime is 1..4294967295"),
    ("lifetime negative", Path(1, 0), ObjectInstance(0, {1: SingleResource(1, -60)}), "Lifetime"),
    ("lifetime beyond 32 bits", Path(1, 0, 1), SingleResource(1, 2**32), "Lifetime"),
    ("negative pmin", Path(1, 0, 2), SingleResource(2, -1), "Default Minimum Period"),
]
FORMATS = [F.TLV, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR]


def _payload(fmt: ContentFormat, path: Path, node: Node) -> bytes:
    try:
        return encode(fmt, node, path, _registry())
    except Exception:  # NaN / infinity in JSON: the literal a hostile peer would send
        assert fmt is F.SENML_JSON
        value = node.value  # type: ignore[union-attr]
        literal = "NaN" if value != value else "Infinity"
        return f'[{{"bn":"{path}","v":{literal}}}]'.encode()


def _snapshot(tree: Any, paths: list[str]) -> dict[str, object]:
    """The values at ``paths``, ``None`` where there is none (an absent optional resource)."""
    values: dict[str, object] = {}
    for path in paths:
        try:
            values[path] = tree.value(path)
        except NotFound:
            values[path] = None
    return values


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
async def test_out_of_range_bootstrap_writes_are_refused(fmt: ContentFormat) -> None:
    endpoint = f"bs-range-{int(fmt)}"
    async with waiting_device(
        False, endpoint, layout=_layout(), registry=_registry(), lwm2m_version="1.2"
    ) as (pair, device, _):
        address = device_address(device)
        tree = device.tree
        watched = [*VALUES, "/1/0/1", "/1/0/2", "/3442/0/130"]
        before = _snapshot(tree, watched)
        for what, path, node, says in BAD:
            message = Message(
                code=Code.PUT,
                uri_path=[str(part) for part in path],
                payload=_payload(fmt, path, node),
                content_format=int(fmt),
            )
            code, payload = await pair.bootstrap.request(
                endpoint, address, EventKind.BOOTSTRAP_WRITE, str(path), message
            )
            said = payload.decode()
            if fmt is F.SENML_JSON and "JSON number" in said:
                assert code == "4.00", (what, said)  # the literal itself is refused
                continue
            assert code == "4.00", (fmt.name, what, said)
            assert says in said, (fmt.name, what, said)
            assert _snapshot(tree, watched) == before, what
            assert tree.instances(32769) == [0], what  # neither 7 nor 8 was created
        # a value inside the limits goes through the same path
        good = Message(
            code=Code.PUT,
            uri_path=["32769", "0", "1"],
            payload=_payload(fmt, Path(32769, 0, 1), SingleResource(1, 100)),
            content_format=int(fmt),
        )
        code, _ = await pair.bootstrap.request(
            endpoint, address, EventKind.BOOTSTRAP_WRITE, "/32769/0/1", good
        )
        assert code == "2.04" and tree.value("/32769/0/1") == 100
        registered = pair.server.expect(EventKind.REGISTRATION, endpoint=endpoint)
        assert (await pair.bootstrap.finish(endpoint, address))[0] == "2.04"
        event = await asyncio.wait_for(registered, 10)
        assert event.registration is not None and event.registration.lifetime == LIFETIME
        read = await pair.server.read(endpoint, "/1/0/1")  # the registered device answers
        assert read.code == "2.05" and read.values == {Path(1, 0, 1): LIFETIME}

"""Writes, Execute, Create and Delete over real UDP, at every level and in every format offered.

A fake LwM2M server (tests/client/fakes.py) registers the device and sends it
requests; answers are decoded independently where a format allows (plain text,
opaque, CBOR with cbor2, link format) and with our codecs for the structured
formats, whose bytes have golden tests of their own.
"""

from __future__ import annotations

import cbor2
import pytest

from fleet.client.device import Device
from fleet.codec import (
    ContentFormat,
    decode,
    encode,
    encode_composite,
)
from fleet.model import (
    Composite,
    MultiResource,
    ObjectInstance,
    ObjectNode,
    Path,
    ResourceInstance,
    SingleResource,
    flatten,
)

from .fakes import (
    DELETE,
    EP,
    GET,
    IPATCH,
    POST,
    PUT,
    STRUCTURED_12,
    FakeServer,
    code,
)

pytestmark = pytest.mark.asyncio

F = ContentFormat


# -- Write --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", STRUCTURED_12, ids=lambda f: f.name)
async def test_write_replace_instance_in_every_format(
    server: FakeServer, device: Device, fmt: ContentFormat
) -> None:
    node = ObjectInstance(
        0,
        {
            110: SingleResource(110, "written"),
            120: SingleResource(120, -7),
            1130: MultiResource(1130, {3: 1.5}),
        },
    )
    payload = encode(fmt, node, Path(3442, 0), device.models)
    response = await server.request(EP, PUT, "/3442/0", payload=payload, content_format=int(fmt))
    assert code(response) == "2.04"
    assert device.tree.value("/3442/0/110") == "written"
    assert device.tree.value("/3442/0/120") == -7
    assert device.tree.value("/3442/0/1130") == {3: 1.5}
    # replace removed optional writable resources the payload did not carry
    assert "/3442/0/140" not in {str(p) for p, _ in device.tree.discover("/3442/0")}


@pytest.mark.parametrize("fmt", STRUCTURED_12, ids=lambda f: f.name)
async def test_write_partial_update_in_every_format(
    server: FakeServer, device: Device, fmt: ContentFormat
) -> None:
    node = ObjectInstance(0, {1110: MultiResource(1110, {4: "four"})})
    payload = encode(fmt, node, Path(3442, 0), device.models)
    response = await server.request(EP, POST, "/3442/0", payload=payload, content_format=int(fmt))
    assert code(response) == "2.04"
    assert device.tree.value("/3442/0/1110") == {0: "initial value", 4: "four"}
    assert device.tree.value("/3442/0/110") == "initial value"


@pytest.mark.parametrize(
    ("fmt", "payload", "path", "expected"),
    [
        (F.TEXT, b"Hello", "/3442/0/110", "Hello"),
        (F.TEXT, b"-12", "/3442/0/120", -12),
        (F.OPAQUE, b"\x00\xff", "/3442/0/150", b"\x00\xff"),
        (F.CBOR, cbor2.dumps(2.25), "/3442/0/130", 2.25),
        (F.CBOR, cbor2.dumps(True), "/3442/0/140", True),
        (F.TEXT, b"3303:0", "/3442/0/170", None),
    ],
    ids=["text-string", "text-integer", "opaque", "cbor-float", "cbor-bool", "text-objlnk"],
)
async def test_write_single_values(
    server: FakeServer,
    device: Device,
    fmt: ContentFormat,
    payload: bytes,
    path: str,
    expected: object,
) -> None:
    response = await server.request(EP, PUT, path, payload=payload, content_format=int(fmt))
    assert code(response) == "2.04"
    back = await server.request(EP, GET, path, accept=int(fmt))
    assert back.payload == payload
    if expected is not None:
        assert device.tree.value(path) == expected


@pytest.mark.parametrize("fmt", [F.TEXT, *STRUCTURED_12], ids=lambda f: f.name)
async def test_write_resource_instance(
    server: FakeServer, device: Device, fmt: ContentFormat
) -> None:
    path = Path(3442, 0, 1120, 2)
    payload = encode(fmt, ResourceInstance(2, 77), path, device.models)
    response = await server.request(EP, PUT, str(path), payload=payload, content_format=int(fmt))
    assert code(response) == "2.04"
    assert device.tree.value("/3442/0/1120") == {0: 1024, 2: 77}


async def test_write_multiple_resource_replace_and_partial(
    server: FakeServer, device: Device
) -> None:
    path = Path(3442, 0, 1120)
    replaced = encode(F.SENML_CBOR, MultiResource(1120, {5: 5}), path, device.models)
    response = await server.request(
        EP, PUT, str(path), payload=replaced, content_format=int(F.SENML_CBOR)
    )
    assert code(response) == "2.04" and device.tree.value(path) == {5: 5}
    added = encode(F.TLV, MultiResource(1120, {6: 6}), path, device.models)
    response = await server.request(EP, POST, str(path), payload=added, content_format=int(F.TLV))
    assert code(response) == "2.04" and device.tree.value(path) == {5: 5, 6: 6}


async def test_write_composite(server: FakeServer, device: Device) -> None:
    composite = Composite(
        {
            Path(3442, 0, 110): SingleResource(110, "both"),
            Path(3303, 0, 5750): SingleResource(5750, "room"),
        }
    )
    for fmt in (F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR):
        payload = encode_composite(fmt, composite, device.models)
        response = await server.request(EP, IPATCH, "/", payload=payload, content_format=int(fmt))
        assert code(response) == "2.04"
    assert device.tree.value("/3442/0/110") == "both"
    assert device.tree.value("/3303/0/5750") == "room"


async def test_write_composite_is_all_or_nothing(server: FakeServer, device: Device) -> None:
    composite = Composite(
        {
            Path(3442, 0, 110): SingleResource(110, "never"),
            Path(3303, 0, 5700): SingleResource(5700, 1.0),  # read-only
        }
    )
    payload = encode_composite(F.SENML_CBOR, composite, device.models)
    response = await server.request(
        EP, IPATCH, "/", payload=payload, content_format=int(F.SENML_CBOR)
    )
    assert code(response) == "4.05"
    assert device.tree.value("/3442/0/110") == "initial value"


# -- Execute, Create, Delete --------------------------------------------------------------


async def test_execute_with_arguments(server: FakeServer, device: Device) -> None:
    response = await server.request(EP, POST, "/3442/0/3", payload=b"0='abc',3")
    assert code(response) == "2.04"
    assert device.tree.value("/3442/0/4") == {0: "abc", 3: ""}
    read = await server.request(EP, GET, "/3442/0/4", accept=int(F.SENML_JSON))
    assert b'"abc"' in read.payload


async def test_execute_resets_min_max(server: FakeServer, device: Device) -> None:
    device.tree.set_value("/3303/0/5700", 30.0)
    device.tree.set_value("/3303/0/5700", 25.0)
    assert device.tree.value("/3303/0/5602") == 30.0
    response = await server.request(EP, POST, "/3303/0/5605")
    assert code(response) == "2.04"
    assert device.tree.value("/3303/0/5602") == 25.0
    assert device.tree.value("/3303/0/5601") == 25.0


async def test_create_with_and_without_instance_id(server: FakeServer, device: Device) -> None:
    with_id = ObjectNode(3303, {7: ObjectInstance(7, {5750: SingleResource(5750, "seven")})})
    payload = encode(F.SENML_CBOR, with_id, Path(3303), device.models)
    created = await server.request(
        EP, POST, "/3303", payload=payload, content_format=int(F.SENML_CBOR)
    )
    assert code(created) == "2.01"
    assert tuple(created.opt.location_path) == ("3303", "7")
    assert device.tree.value("/3303/7/5750") == "seven"

    # TLV with the resources only: the device picks the lowest free id
    bare = encode(F.TLV, ObjectInstance(0, {5750: SingleResource(5750, "x")}), Path(3303, 0),
                  device.models)  # fmt: skip
    created = await server.request(EP, POST, "/3303", payload=bare, content_format=int(F.TLV))
    assert code(created) == "2.01"
    assert tuple(created.opt.location_path) == ("3303", "1")
    assert device.tree.instances(3303) == [0, 1, 7]

    again = await server.request(
        EP, POST, "/3303", payload=payload, content_format=int(F.SENML_CBOR)
    )
    assert code(again) == "4.00"  # instance 7 exists
    single = await server.request(EP, POST, "/3", payload=b"", content_format=None)
    assert code(single) == "4.05"  # the Device object is single-instance


async def test_delete_instance_and_its_attributes(server: FakeServer, device: Device) -> None:
    created = await server.request(EP, POST, "/3303")
    assert code(created) == "2.01"
    location = "/" + "/".join(created.opt.location_path)
    assert code(await server.request(EP, PUT, location, query=["pmin=3"])) == "2.04"
    deleted = await server.request(EP, DELETE, location)
    assert code(deleted) == "2.02"
    assert code(await server.request(EP, GET, location)) == "4.04"
    assert Path.parse(location) not in device.attributes
    assert code(await server.request(EP, DELETE, location)) == "4.04"


@pytest.mark.parametrize("fmt", STRUCTURED_12, ids=lambda f: f.name)
async def test_write_a_single_resource_in_every_structured_format(
    server: FakeServer, device: Device, fmt: ContentFormat
) -> None:
    path = Path(3442, 0, 130)
    payload = encode(fmt, SingleResource(130, -0.25), path, device.models)
    response = await server.request(EP, PUT, str(path), payload=payload, content_format=int(fmt))
    assert code(response) == "2.04"
    assert device.tree.value(path) == -0.25


@pytest.mark.parametrize("fmt", STRUCTURED_12, ids=lambda f: f.name)
async def test_create_in_every_structured_format(
    server: FakeServer, device: Device, fmt: ContentFormat
) -> None:
    node = ObjectNode(3303, {4: ObjectInstance(4, {5750: SingleResource(5750, fmt.name)})})
    payload = encode(fmt, node, Path(3303), device.models)
    created = await server.request(EP, POST, "/3303", payload=payload, content_format=int(fmt))
    assert code(created) == "2.01" and tuple(created.opt.location_path) == ("3303", "4")
    assert device.tree.value("/3303/4/5750") == fmt.name
    read = await server.request(EP, GET, "/3303/4", accept=int(fmt))
    values = flatten(decode(fmt, read.payload, Path(3303, 4), device.models), Path(3303, 4))
    assert values[Path(3303, 4, 5750)] == fmt.name

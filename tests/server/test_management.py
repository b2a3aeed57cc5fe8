"""Device management against a fake device over real UDP, in every content format."""

from __future__ import annotations

import pytest
from aiocoap.numbers.codes import Code

from fleet.codec import ContentFormat, decode
from fleet.model import Path, flatten
from fleet.server import (
    DeviceError,
    EventKind,
    InvalidRequest,
    Lwm2mServer,
    Operation,
    UnknownEndpoint,
)
from tests.server.conftest import DeviceFactory
from tests.server.fakes import DEVICE_VALUES, MODELS, FakeDevice

pytestmark = pytest.mark.asyncio
F = ContentFormat
STRUCTURED = [F.TLV, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_JSON, F.LWM2M_CBOR]
SINGLE = [F.TEXT, F.CBOR, *STRUCTURED]


def under(path: Path) -> dict[Path, object]:
    return {p: v for p, v in DEVICE_VALUES.items() if path.contains(p)}


@pytest.mark.parametrize("fmt", STRUCTURED)
@pytest.mark.parametrize("path", ["/3", "/3/0", "/3442/0/1110", "/3442/0/1110/1"])
async def test_read_decodes_every_structured_format(
    server: Lwm2mServer, make_device: DeviceFactory, fmt: ContentFormat, path: str
) -> None:
    device = await make_device("dev1", lwm2m="1.2")
    result = await server.read("dev1", path, format=fmt)
    assert result.ok and result.code == "2.05" and result.code_number == 205
    assert result.content_format == fmt and result.operation is Operation.READ
    assert dict(result.values) == under(Path.parse(path))
    assert result.decode_error is None and result.node is not None
    assert device.seen[-1].accept == fmt and device.seen[-1].method == "GET"
    record = server.device("dev1")
    assert record is not None and record.values[next(iter(result.values))] is not None


@pytest.mark.parametrize("fmt", SINGLE)
async def test_read_a_single_resource_in_every_format(
    server: Lwm2mServer, make_device: DeviceFactory, fmt: ContentFormat
) -> None:
    await make_device("dev1", lwm2m="1.2")
    result = await server.read("dev1", "/3442/0/160", format=fmt)
    assert result.ok and result.content_format == fmt
    assert result.value == 946684800 and result.values == {Path(3442, 0, 160): 946684800}


async def test_read_without_format_takes_the_devices_choice(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    device = await make_device("old", lwm2m="1.0")
    assert device.lwm2m == "1.0"
    result = await server.read("old", "/3/0")
    assert result.content_format == F.TLV and device.seen[-1].accept is None
    assert result.values[Path(3, 0, 0)] == "My Demo Device"
    text = await server.read("old", "/3/0/0")
    assert text.content_format == F.TEXT and text.value == "My Demo Device"


async def test_read_accepts_format_names(server: Lwm2mServer, device: FakeDevice) -> None:
    result = await server.read("dev1", "3303/0/5700", format="senml-json")
    assert result.content_format == F.SENML_JSON and result.value == 21.5
    with pytest.raises(InvalidRequest) as caught:
        await server.read("dev1", "/3/0", format="yaml")
    assert caught.value.status == 415


async def test_read_decodes_a_payload_we_did_not_encode(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    device.fixed[(Path(3, 0), F.SENML_JSON)] = (
        b'[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},'
        b'{"n":"9","v":95},{"n":"999","v":1},{"n":"11/0","v":0}]'
    )
    device.fixed[(Path(3, 0), F.TLV)] = bytes.fromhex(
        "c8001148656c6c6f2c20546c762053656e646572c10960"
    )
    senml = await server.read("dev1", "/3/0", format=F.SENML_JSON)
    assert dict(senml.values) == {
        Path(3, 0, 0): "Open Mobile Alliance",
        Path(3, 0, 9): 95,
        Path(3, 0, 11, 0): 0,
        Path(3, 0, 999): 1,
    }  # the unknown resource 999: not an error, shown with SenML's own type, and named
    assert senml.unmodelled == (Path(3, 0, 999),)
    tlv = await server.read("dev1", "/3/0", format=F.TLV)
    assert dict(tlv.values) == {Path(3, 0, 0): "Hello, Tlv Sender", Path(3, 0, 9): 96}


async def test_an_undecodable_answer_keeps_its_code_and_says_why(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    device.fixed[(Path(3, 0), F.SENML_CBOR)] = b"\xff\x00not cbor"
    result = await server.read("dev1", "/3/0", format=F.SENML_CBOR)
    assert result.ok and result.values == {} and result.decode_error
    assert result.payload == b"\xff\x00not cbor"


@pytest.mark.parametrize(
    ("code", "number"),
    [
        (Code.BAD_REQUEST, 400),
        (Code.UNAUTHORIZED, 401),
        (Code.FORBIDDEN, 403),
        (Code.NOT_FOUND, 404),
        (Code.METHOD_NOT_ALLOWED, 405),
        (Code.NOT_ACCEPTABLE, 406),
        (Code.UNSUPPORTED_CONTENT_FORMAT, 415),
        (Code.INTERNAL_SERVER_ERROR, 500),
    ],
)
async def test_device_rejections_come_back_as_results(
    server: Lwm2mServer, device: FakeDevice, code: Code, number: int
) -> None:
    device.forced[("GET", Path(3, 0, 0))] = code
    result = await server.read("dev1", "/3/0/0")
    assert not result.ok and result.code_number == number and result.values == {}
    assert result.code == code.dotted
    assert (
        result.reason.replace("-", " ") == code.name_printable
    )  # RFC 7252 writes "Content-Format"
    with pytest.raises(DeviceError) as caught:
        result.raise_for_status()
    assert caught.value.status == number and caught.value.result is result
    event = server.recent_events[-1]
    assert event.kind is EventKind.RESPONSE and event.result is result


async def test_real_rejections_from_the_fake(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    await make_device("old", lwm2m="1.0")
    assert (await server.read("old", "/3/0/77")).code == "4.04"
    assert (await server.read("old", "/3/0", format=F.SENML_CBOR)).code == "4.06"
    assert (await server.delete("old", "/3/0/1")).code == "4.05"


async def test_unknown_endpoint_and_bad_paths_are_refused_before_sending(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    with pytest.raises(UnknownEndpoint):
        await server.read("nobody", "/3/0")
    for bad in ("/3/x", "", "/1/2/3/4/5", "/70000"):
        with pytest.raises(InvalidRequest) as caught:
            await server.read("dev1", bad)
        assert caught.value.status == 400
    assert device.seen == []


@pytest.mark.parametrize("fmt", [F.TEXT, F.CBOR, *STRUCTURED])
async def test_write_a_resource_in_every_format(
    server: Lwm2mServer, make_device: DeviceFactory, fmt: ContentFormat
) -> None:
    device = await make_device("dev1", lwm2m="1.2")
    result = await server.write("dev1", "/3442/0/110", "Hello", format=fmt)
    assert result.ok and result.code == "2.04" and result.operation is Operation.WRITE
    seen = device.seen[-1]
    assert (seen.method, seen.path, seen.content_format) == ("PUT", Path(3442, 0, 110), fmt)
    assert device.values[Path(3442, 0, 110)] == "Hello"


@pytest.mark.parametrize("fmt", STRUCTURED)
async def test_write_an_instance_replace_and_partial(
    server: Lwm2mServer, make_device: DeviceFactory, fmt: ContentFormat
) -> None:
    device = await make_device("dev1", lwm2m="1.2")
    partial = await server.write(
        "dev1", "/3442/0", {110: "x", 120: "42", 1110: ["p", "q", "r"]}, replace=False, format=fmt
    )
    assert partial.ok and device.seen[-1].method == "POST"
    assert device.values[Path(3442, 0, 120)] == 42  # "42" coerced to an Integer
    assert device.values[Path(3442, 0, 1110, 2)] == "r"
    assert device.values[Path(3442, 0, 130)] == 3.5  # untouched by a partial update
    replaced = await server.write(
        "dev1", "/3442/0", {"/3442/0/110": "only", 1110: {5: "five"}}, format=fmt
    )
    assert replaced.ok and device.seen[-1].method == "PUT"
    assert {p: v for p, v in device.values.items() if p[0] == 3442} == {
        Path(3442, 0, 110): "only",
        Path(3442, 0, 1110, 5): "five",
    }


async def test_write_default_format_follows_the_lwm2m_version(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    new = await make_device("new", lwm2m="1.1")
    old = await make_device("old", lwm2m="1.0")
    await server.write("new", "/3442/0/120", 7)
    await server.write("new", "/3442/0", {120: 8}, replace=False)
    await server.write("old", "/3442/0/150", b"\x00\xff")
    await server.write("old", "/3442/0", {120: 9}, replace=False)
    assert [s.content_format for s in new.seen] == [F.TEXT, F.SENML_CBOR]
    assert [s.content_format for s in old.seen] == [F.OPAQUE, F.TLV]
    assert old.values[Path(3442, 0, 150)] == b"\x00\xff" and old.values[Path(3442, 0, 120)] == 9


async def test_write_refuses_what_cannot_be_sent(server: Lwm2mServer, device: FakeDevice) -> None:
    cases = [
        ("/3442/0/120", "not a number", None, 400),
        ("/3442/0/110", "x", F.TEXT, None),  # fine, for contrast
        ("/3442/0", {110: "x"}, F.TEXT, 415),
        ("/3442/0/1110", "one", None, 400),
        ("/3442/0/999", [1, 2], None, 400),  # no model: only one plain value goes (as text)
        ("/3442/0", {"/3/0/0": "elsewhere"}, None, 400),
        ("/3442/0", 5, None, 400),
    ]
    for path, value, fmt, status in cases:
        if status is None:
            assert (await server.write("dev1", path, value, format=fmt)).ok
            continue
        with pytest.raises(InvalidRequest) as caught:
            await server.write("dev1", path, value, format=fmt)
        assert caught.value.status == status, (path, value)
    assert len(device.seen) == 1


async def test_write_attributes_sends_the_query_and_none_removes(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    result = await server.write_attributes(
        "dev1", "/3303/0/5700", pmin=10, pmax=60.5, gt=25, lt=-3.5, st=0.5, epmax=None
    )
    assert result.ok and result.operation is Operation.WRITE_ATTRIBUTES
    seen = device.seen[-1]
    assert seen.method == "PUT" and seen.payload == b""
    assert seen.query == ("pmin=10", "pmax=60.5", "gt=25", "lt=-3.5", "st=0.5", "epmax")
    assert device.attributes[Path(3303, 0, 5700)]["pmin"] == 10
    with pytest.raises(InvalidRequest):
        await server.write_attributes("dev1", "/3303/0/5700", colour=3)
    with pytest.raises(InvalidRequest):
        await server.write_attributes("dev1", "/3303/0/5700", pmin=-1)
    with pytest.raises(InvalidRequest):
        await server.write_attributes("dev1", "/3303/0/5700")


async def test_execute_with_and_without_arguments(server: Lwm2mServer, device: FakeDevice) -> None:
    assert (await server.execute("dev1", "/3442/0/2")).ok
    assert (await server.execute("dev1", "/3442/0/3", {0: "abc", 1: None})).ok
    assert (await server.execute("dev1", "/3442/0/3", "2='x'")).ok
    assert device.executed == [
        (Path(3442, 0, 2), b""),
        (Path(3442, 0, 3), b"0='abc',1"),
        (Path(3442, 0, 3), b"2='x'"),
    ]
    assert all(s.method == "POST" for s in device.seen)
    with pytest.raises(InvalidRequest):
        await server.execute("dev1", "/3442/0/3", {0: "has space"})


@pytest.mark.parametrize("fmt", STRUCTURED)
async def test_create_with_an_instance_id(
    server: Lwm2mServer, make_device: DeviceFactory, fmt: ContentFormat
) -> None:
    device = await make_device("dev1", lwm2m="1.2")
    result = await server.create(
        "dev1", "/3303", {5700: 18.5, 5701: "Cel"}, instance_id=4, format=fmt
    )
    assert result.ok and result.code == "2.01" and result.location == Path(3303, 4)
    seen = device.seen[-1]
    assert (seen.method, seen.path, seen.content_format) == ("POST", Path(3303), fmt)
    node = decode(fmt, seen.payload, Path(3303), MODELS)
    assert flatten(node, Path(3303)) == {Path(3303, 4, 5700): 18.5, Path(3303, 4, 5701): "Cel"}


async def test_create_without_an_instance_id_lets_the_device_choose(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    result = await server.create("dev1", "/3303", {5700: 1.5})
    assert result.location == Path(3303, 1) and device.seen[-1].content_format == F.TLV
    assert device.values[Path(3303, 1, 5700)] == 1.5
    named = await server.create("dev1", "/3303/7", {5700: 2.5})
    assert named.location == Path(3303, 7)
    with pytest.raises(InvalidRequest):
        await server.create("dev1", "/3303", {5700: 1.0}, format=F.SENML_JSON)
    with pytest.raises(InvalidRequest):
        await server.create("dev1", "/3303/0/5700", {5700: 1.0})


async def test_delete_forgets_the_recorded_values(server: Lwm2mServer, device: FakeDevice) -> None:
    await server.read("dev1", "/3303/0")
    record = server.device("dev1")
    assert record is not None and Path(3303, 0, 5700) in record.values
    result = await server.delete("dev1", "/3303/0")
    assert result.ok and result.code == "2.02" and device.seen[-1].method == "DELETE"
    assert not any(p[0] == 3303 for p in record.values)
    assert not any(p[0] == 3303 for p in device.values)


async def test_discover_lists_links_with_attributes(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    await server.write_attributes("dev1", "/3303/0", pmin=5)
    result = await server.discover("dev1", "/3303/0", depth=1)
    assert result.ok and result.content_format == F.LINK
    assert device.seen[-1].accept == F.LINK and device.seen[-1].query == ("depth=1",)
    targets = [link.target for link in result.links]
    assert targets == ["/3303/0", "/3303/0/5602", "/3303/0/5700", "/3303/0/5701"]
    assert result.links[0].attributes == {"pmin": "5"}


@pytest.mark.parametrize("fmt", [F.SENML_JSON, F.SENML_CBOR])
async def test_read_and_write_composite(
    server: Lwm2mServer, device: FakeDevice, fmt: ContentFormat
) -> None:
    read = await server.read_composite(
        "dev1", ["/3/0/0", "/3303/0/5700", "/3442/0/1110"], format=fmt
    )
    assert read.ok and read.path is None and read.operation is Operation.READ_COMPOSITE
    assert dict(read.values) == {
        Path(3, 0, 0): "My Demo Device",
        Path(3303, 0, 5700): 21.5,
        Path(3442, 0, 1110, 0): "a",
        Path(3442, 0, 1110, 1): "b",
    }
    assert device.seen[-1].method == "FETCH" and device.seen[-1].content_format == fmt
    written = await server.write_composite(
        "dev1", {"/3442/0/110": "composite", "/3/0/13": 1_800_000_000}, format=fmt
    )
    assert written.ok and written.paths == (Path(3, 0, 13), Path(3442, 0, 110))
    assert device.seen[-1].method == "IPATCH"
    assert device.values[Path(3442, 0, 110)] == "composite"
    assert device.values[Path(3, 0, 13)] == 1_800_000_000
    with pytest.raises(InvalidRequest):
        await server.read_composite("dev1", ["/3/0"], format=F.TLV)
    with pytest.raises(InvalidRequest):
        await server.read_composite("dev1", [])


async def test_raw_request_reaches_the_device_as_given(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    result = await server.request(
        "dev1", "PUT", "/3442/0/110", payload=b"raw", content_format="text"
    )
    assert result.ok and device.values[Path(3442, 0, 110)] == "raw"
    bad = await server.request("dev1", "PUT", "/3442/0/120", payload=b"x", content_format=F.TEXT)
    assert bad.code == "4.00"  # the fake's codec refused it
    got = await server.request("dev1", "get", "/3442/0/110", accept=F.TEXT)
    assert got.value == "raw" and got.operation is Operation.REQUEST
    with pytest.raises(InvalidRequest):
        await server.request("dev1", "BREW", "/3")

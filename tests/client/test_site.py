"""Reads, Discover, Read-Composite and the platform flow over real UDP, in every format offered.

A fake LwM2M server (tests/client/fakes.py) registers the device and sends it
requests; answers are decoded independently where a format allows (plain text,
opaque, CBOR with cbor2, link format) and with our codecs for the structured
formats, whose bytes have golden tests of their own.
"""

from __future__ import annotations

import cbor2
import pytest

from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.codec import (
    ContentFormat,
    decode,
    decode_composite,
    encode_composite_request,
    parse_links,
)
from fleet.model import (
    Path,
    flatten,
)

from .fakes import (
    EP,
    FETCH,
    GET,
    POST,
    PUT,
    STRUCTURED_12,
    FakeServer,
    code,
    next_notification,
    registered_device,
)

pytestmark = pytest.mark.asyncio

F = ContentFormat


# -- Read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", STRUCTURED_12, ids=lambda f: f.name)
@pytest.mark.parametrize(
    "path", ["/3442", "/3442/0", "/3442/0/110", "/3442/0/1120", "/3442/0/1120/0", "/3303/0"]
)
async def test_read_every_level_in_every_structured_format(
    server: FakeServer, device: Device, fmt: ContentFormat, path: str
) -> None:
    response = await server.request(EP, GET, path, accept=int(fmt))
    assert code(response) == "2.05"
    assert int(response.opt.content_format) == fmt
    target = Path.parse(path)
    node = decode(fmt, response.payload, target, device.models)
    assert flatten(node, target) == flatten(device.tree.read(target), target)


async def test_read_single_values_as_text_opaque_and_cbor(
    server: FakeServer, device: Device
) -> None:
    text = await server.request(EP, GET, "/3442/0/110", accept=int(F.TEXT))
    assert (text.payload, int(text.opt.content_format)) == (b"initial value", 0)
    number = await server.request(EP, GET, "/3442/0/120", accept=int(F.TEXT))
    assert number.payload == b"1024"
    opaque = await server.request(EP, GET, "/3442/0/150", accept=int(F.OPAQUE))
    assert opaque.payload == bytes.fromhex("0123456789ABCDEF")
    cbor = await server.request(EP, GET, "/3442/0/120", accept=int(F.CBOR))
    assert cbor2.loads(cbor.payload) == 1024 and int(cbor.opt.content_format) == 60
    instance = await server.request(EP, GET, "/3442/0/1110/0", accept=int(F.TEXT))
    assert instance.payload == b"initial value"


async def test_default_formats_without_accept(server: FakeServer, device: Device) -> None:
    single = await server.request(EP, GET, "/3/0/0")
    assert (single.payload, int(single.opt.content_format)) == (b"lwm2m-fleet", 0)
    opaque = await server.request(EP, GET, "/3442/0/150")
    assert int(opaque.opt.content_format) == F.OPAQUE
    instance = await server.request(EP, GET, "/3/0")
    assert int(instance.opt.content_format) == F.SENML_CBOR  # the 1.1/1.2 default


async def test_lwm2m_10_device_defaults_to_tlv_and_refuses_senml(server: FakeServer) -> None:
    async with registered_device(server, "old", lwm2m_version="1.0") as _:
        answer = await server.request("old", GET, "/3/0")
        assert int(answer.opt.content_format) == F.TLV
        refused = await server.request("old", GET, "/3/0", accept=int(F.SENML_CBOR))
        assert code(refused) == "4.06"
        register = server.seen[-1]
        assert "lwm2m=1.0" in register.query


async def test_preferred_format_answers_when_no_accept(server: FakeServer) -> None:
    async with registered_device(server, "json", content_format=F.SENML_JSON) as _:
        register = server.seen[-1]
        assert register.payload.startswith(b"</>;ct=110,")
        answer = await server.request("json", GET, "/3303/0")
        assert int(answer.opt.content_format) == F.SENML_JSON
        single = await server.request("json", GET, "/3303/0/5700")
        assert int(single.opt.content_format) == F.SENML_JSON


async def test_read_of_current_time_follows_the_clock(server: FakeServer, device: Device) -> None:
    first = int((await server.request(EP, GET, "/3/0/13")).payload)
    await device.clock.advance(42)  # type: ignore[attr-defined]
    second = int((await server.request(EP, GET, "/3/0/13")).payload)
    assert second - first == 42


# -- Discover -----------------------------------------------------------------------------


async def test_discover_each_level_with_attributes(server: FakeServer, device: Device) -> None:
    written = await server.request(EP, PUT, "/3303/0/5700", query=["pmin=5", "gt=30.5"])
    assert code(written) == "2.04"
    on_object = await server.request(EP, PUT, "/3303", query=["pmax=60"])
    assert code(on_object) == "2.04"

    obj = await server.request(EP, GET, "/3303", accept=40)
    assert int(obj.opt.content_format) == 40
    links = {link.target: dict(link.attributes) for link in parse_links(obj.payload)}
    assert links["/3303"] == {"ver": "1.1", "pmax": "60"}
    assert "/3303/0" in links and links["/3303/0/5700"] == {"pmin": "5", "gt": "30.5"}
    assert "/3303/0/5605" in links  # executables are listed too

    instance = await server.request(EP, GET, "/3303/0", accept=40)
    targets = [link.target for link in parse_links(instance.payload)]
    assert targets[0] == "/3303/0" and "/3303/0/5700" in targets and "/3303" not in targets

    resource = await server.request(EP, GET, "/3303/0/5700", accept=40)
    (only,) = parse_links(resource.payload)
    assert only.target == "/3303/0/5700"
    assert dict(only.attributes) == {"pmin": "5", "pmax": "60", "gt": "30.5"}  # inherited

    multi = await server.request(EP, GET, "/3/0/6", accept=40)
    assert [(lk.target, dict(lk.attributes)) for lk in parse_links(multi.payload)] == [
        ("/3/0/6", {"dim": "2"}),
        ("/3/0/6/0", {}),
        ("/3/0/6/1", {}),
    ]


# -- Read-Composite -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR], ids=lambda f: f.name)
async def test_read_composite(server: FakeServer, device: Device, fmt: ContentFormat) -> None:
    paths = [Path(3303, 0, 5700), Path(3, 0, 0), Path(3442, 0, 1110)]
    request = encode_composite_request(F.SENML_JSON, paths)
    response = await server.request(
        EP, FETCH, "/", payload=request, content_format=int(F.SENML_JSON), accept=int(fmt)
    )
    assert code(response) == "2.05" and int(response.opt.content_format) == fmt
    values = flatten(decode_composite(fmt, response.payload, device.models))
    assert values == {
        Path(3303, 0, 5700): 21.0,
        Path(3, 0, 0): "lwm2m-fleet",
        Path(3442, 0, 1110, 0): "initial value",
    }


async def test_read_composite_leaves_out_missing_paths(server: FakeServer, device: Device) -> None:
    request = encode_composite_request(F.SENML_CBOR, [Path(3, 0, 0), Path(3303, 9)])
    response = await server.request(
        EP, FETCH, "/", payload=request, content_format=int(F.SENML_CBOR)
    )
    assert code(response) == "2.05"
    values = flatten(decode_composite(F.SENML_CBOR, response.payload, device.models))
    assert values == {Path(3, 0, 0): "lwm2m-fleet"}
    none = encode_composite_request(F.SENML_CBOR, [Path(3303, 9)])
    missing = await server.request(EP, FETCH, "/", payload=none, content_format=int(F.SENML_CBOR))
    assert code(missing) == "4.04"


async def test_security_object_is_hidden_from_the_server(
    server: FakeServer, device: Device
) -> None:
    assert code(await server.request(EP, GET, "/0/0")) == "4.01"
    assert code(await server.request(EP, GET, "/0/0/0")) == "4.01"
    assert code(await server.request(EP, PUT, "/0/0/0", payload=b"x", content_format=0)) == "4.01"
    assert device.tree.stored(0, 0, 0) == server.uri


async def test_a_device_of_an_ipv6_server() -> None:
    server = await FakeServer.start("::1")
    try:
        async with registered_device(server, "six") as device:
            assert device.address is not None and device.address[0] == "::1"
            response = await server.request("six", GET, "/3/0/0")
            assert response.payload == b"lwm2m-fleet"
            assert device.tree.stored(0, 0, 0) == f"coap://[::1]:{server.address[1]}"
    finally:
        server.close()


async def test_the_platform_flow(server: FakeServer) -> None:
    """What the platform in ../shared/seed/ does with a device, start to end."""
    clock = ManualClock()
    async with registered_device(server, "flow", clock=clock, send_enabled=False) as device:
        for path in ("/3", "/6"):
            answer = await server.request("flow", GET, path)
            assert code(answer) == "2.05" and answer.payload
        written = await server.request(
            "flow", PUT, "/3442/0/110", payload=b"Hello", content_format=int(F.TEXT)
        )
        assert code(written) == "2.04"
        assert (await server.request("flow", GET, "/3442/0/110")).payload == b"Hello"
        cleared = await server.request("flow", POST, "/3442/0/2")
        assert code(cleared) == "2.04"
        assert (await server.request("flow", GET, "/3442/0/160")).payload == b"0"
        observation = server.observe("flow", "/3303/0/5602", query=["pmin=1", "pmax=5"])
        assert (await observation.response).payload == b"21.0"
        await clock.advance(5)
        assert (await next_notification(observation)).payload == b"21.0"
        device.tree.set_value("/3303/0/5700", 23.5)
        await clock.advance(1)
        assert (await next_notification(observation)).payload == b"23.5"
        await observation.cancel(timeout=5)
        assert not device.has_observations()
        await device.stop()
        assert (await server.next("deregister")).answer == 66

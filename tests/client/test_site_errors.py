"""Every error row of the site: the right 4.xx for each mistake, and never a 5.xx for any request.

The table goes over real UDP through the fake server. The property test calls
the device's handler directly (the function the CoAP endpoint calls), with
random methods, paths, options and payloads, valid and not.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.site import parse_uri_path, serve
from fleet.clock import ManualClock
from fleet.codec import ContentFormat, encode, encode_composite_request
from fleet.model import ObjectInstance, Path, SingleResource

from .fakes import DELETE, FETCH, GET, IPATCH, POST, PUT, FakeServer, registered_device

F = ContentFormat
EP = "dev-1"

ROWS: list[tuple[str, Any, str, dict[str, Any], str]] = [
    # (name, method, path, options, expected code)
    ("unknown object", GET, "/99", {}, "4.04"),
    ("unknown instance", GET, "/3303/7", {}, "4.04"),
    ("unknown resource", GET, "/3/0/99", {}, "4.04"),
    ("unknown resource instance", GET, "/3/0/11/5", {}, "4.04"),
    ("instance of a single resource", GET, "/3/0/0/0", {}, "4.04"),
    ("registration path", GET, "/rd", {}, "4.04"),
    ("registration location", DELETE, "/rd/1", {}, "4.04"),
    ("bootstrap path", POST, "/bs", {}, "4.04"),
    ("send path", POST, "/dp", {}, "4.04"),
    ("not a number", GET, "/3/zero", {}, "4.04"),
    ("leading zero", GET, "/03/0", {}, "4.04"),
    ("id too large", GET, "/65536", {}, "4.04"),
    ("too deep", GET, "/3/0/0/0/0", {}, "4.04"),
    ("write to unknown resource", PUT, "/3/0/99", {"payload": b"x", "content_format": 0}, "4.04"),
    (
        "unknown target beats bad format",
        PUT,
        "/99/0",
        {"payload": b"x", "content_format": 9},
        "4.04",
    ),
    ("security object", GET, "/0", {}, "4.01"),
    ("read an executable", GET, "/3/0/4", {}, "4.05"),
    ("write a read-only resource", PUT, "/3/0/0", {"payload": b"x", "content_format": 0}, "4.05"),
    ("execute a non-executable", POST, "/3/0/0", {"payload": b"x", "content_format": 0}, "4.05"),
    ("write an object", PUT, "/3442", {"payload": b"", "content_format": 112}, "4.05"),
    ("execute an instance", POST, "/3/0/4/0", {}, "4.04"),
    ("delete a resource", DELETE, "/3303/0/5700", {}, "4.05"),
    ("delete an object", DELETE, "/3303", {}, "4.05"),
    ("delete the device instance", DELETE, "/3/0", {}, "4.05"),
    ("post to root", POST, "/", {}, "4.05"),
    ("read the root", GET, "/", {}, "4.05"),
    ("discover a resource instance", GET, "/3/0/6/0", {"accept": 40}, "4.05"),
    ("patch", Code.PATCH, "/3/0", {}, "4.05"),
    ("fetch below the root", FETCH, "/3", {"payload": b"[]", "content_format": 110}, "4.05"),
    ("ipatch below the root", IPATCH, "/3/0", {"payload": b"[]", "content_format": 110}, "4.05"),
    ("opaque for a string", GET, "/3/0/0", {"accept": 42}, "4.06"),
    ("text for an instance", GET, "/3/0", {"accept": 0}, "4.06"),
    ("unknown accept", GET, "/3/0", {"accept": 9999}, "4.06"),
    (
        "link format is for Discover only",
        FETCH,
        "/",
        {"payload": b"", "content_format": 40},
        "4.15",
    ),
    (
        "unknown payload format",
        PUT,
        "/3442/0/110",
        {"payload": b"x", "content_format": 9999},
        "4.15",
    ),
    ("text for an instance write", PUT, "/3442/0", {"payload": b"x", "content_format": 0}, "4.15"),
    ("payload without format", PUT, "/3442/0/110", {"payload": b"x"}, "4.15"),
    ("composite in TLV", IPATCH, "/", {"payload": b"\x00", "content_format": 11542}, "4.15"),
    ("not an integer", PUT, "/3442/0/120", {"payload": b"abc", "content_format": 0}, "4.00"),
    ("out of range", PUT, "/3442/0/125", {"payload": b"-1", "content_format": 0}, "4.00"),
    ("no value", PUT, "/3442/0/110", {}, "4.00"),
    ("broken TLV", PUT, "/3442/0", {"payload": b"\xff\xff", "content_format": 11542}, "4.00"),
    ("broken SenML", PUT, "/3442/0", {"payload": b"[{", "content_format": 110}, "4.00"),
    ("bad execute arguments", POST, "/3442/0/3", {"payload": b"a=b"}, "4.00"),
    ("bad attribute value", PUT, "/3303/0/5700", {"query": ["gt=abc"]}, "4.00"),
    ("unknown attribute", PUT, "/3303/0/5700", {"query": ["foo=1"]}, "4.00"),
    ("gt on a string", PUT, "/3/0/0", {"query": ["gt=1"]}, "4.00"),
    ("lt above gt", PUT, "/3303/0/5700", {"query": ["lt=10", "gt=5"]}, "4.00"),
    ("bad observe attribute", GET, "/3303/0/5700", {"observe": 0, "query": ["st=-1"]}, "4.00"),
    ("composite with no path", FETCH, "/", {"payload": b"[]", "content_format": 110}, "4.00"),
    (
        "create a duplicate",
        POST,
        "/3303",
        {"payload": b'[{"bn":"/3303/0/","n":"5750","vs":"x"}]', "content_format": 110},
        "4.00",
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "method", "path", "options", "expected"), ROWS, ids=[r[0] for r in ROWS]
)
async def test_error_rows(
    server: FakeServer, name: str, method: Any, path: str, options: dict[str, Any], expected: str
) -> None:
    async with registered_device(server, EP) as device:
        before = device.tree.read("/3442/0")
        response = await server.request(EP, method, path, **options)
        number = int(response.code)
        assert f"{number >> 5}.{number & 31:02d}" == expected
        if number >= 128:
            assert response.payload, "an error carries a diagnostic message"
        assert device.tree.read("/3442/0") == before  # a refused request changes nothing


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ((), Path()),
        (("3", "0", ""), Path(3, 0)),
        (("3", "0", "1", "2"), Path(3, 0, 1, 2)),
        (("rd",), None),
        (("3", "-1"), None),
        (("٣",), None),  # a non-ASCII digit
    ],
)
def test_parse_uri_path(segments: tuple[str, ...], expected: Path | None) -> None:
    assert parse_uri_path(segments) == expected


# -- property: no request gets a 5.xx ---------------------------------------------------

_DEVICE: dict[str, Device] = {}
_LOOP: dict[str, asyncio.AbstractEventLoop] = {}


def _device() -> tuple[Device, asyncio.AbstractEventLoop]:
    """One device (not started: the handler is called directly) on a loop of its own."""
    if "d" not in _DEVICE:
        loop = asyncio.new_event_loop()
        _LOOP["l"] = loop
        config = DeviceConfig(endpoint="fuzz", lwm2m_version="1.2")

        async def build() -> Device:
            return Device(config, clock=ManualClock(), rng=random.Random(3))

        _DEVICE["d"] = loop.run_until_complete(build())
    return _DEVICE["d"], _LOOP["l"]


@pytest.fixture(scope="module", autouse=True)
def _close_fuzz_loop() -> Any:
    yield
    loop = _LOOP.pop("l", None)
    _DEVICE.clear()
    if loop is not None:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


SEGMENT = st.one_of(
    st.sampled_from(["0", "1", "3", "6", "3303", "3442", "5700", "110", "1110", "4", "5", "8"]),
    st.integers(0, 70000).map(str),
    st.text(max_size=4),
)
PATHS = st.lists(SEGMENT, max_size=5).map(tuple)
FORMATS = st.one_of(st.none(), st.sampled_from([int(f) for f in F] + [1541, 1542, 1543]),
                    st.integers(0, 65535))  # fmt: skip
QUERY = st.lists(
    st.one_of(
        st.sampled_from(["pmin=1", "pmax=10", "gt=5", "lt=1", "st=0.5", "epmin=1", "pmin"]),
        st.text(max_size=8),
    ),
    max_size=3,
)


def _valid_payloads() -> st.SearchStrategy[bytes]:
    registry_device, _ = _device()
    models = registry_device.models
    instance = ObjectInstance(0, {110: SingleResource(110, "x"), 120: SingleResource(120, 5)})
    samples = [
        encode(fmt, instance, Path(3442, 0), models)
        for fmt in (F.TLV, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_JSON, F.LWM2M_CBOR)
    ]
    samples.append(encode_composite_request(F.SENML_JSON, [Path(3, 0, 0), Path(3303, 0)]))
    samples += [b"0='a',1", b"21.5", b"", b"\x00"]
    return st.sampled_from(samples)


PAYLOADS = st.one_of(st.binary(max_size=40), st.builds(lambda: b""), st.deferred(_valid_payloads))


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.integers(1, 31),
    segments=PATHS,
    accept=FORMATS,
    content_format=FORMATS,
    observe=st.sampled_from([None, 0, 1]),
    query=QUERY,
    payload=PAYLOADS,
)
def test_no_request_gets_a_5xx(
    method: int,
    segments: tuple[str, ...],
    accept: int | None,
    content_format: int | None,
    observe: int | None,
    query: list[str],
    payload: bytes,
) -> None:
    device, loop = _device()
    request = Message(code=Code(method), payload=payload)
    request.opt.uri_path = segments
    if query:
        request.opt.uri_query = tuple(query)
    if accept is not None:
        request.opt.accept = accept
    if content_format is not None:
        request.opt.content_format = content_format
    if observe is not None:
        request.opt.observe = observe
    request.remote = ("127.0.0.1", 5683)
    request.token = b"\x01"

    async def call() -> Any:
        response = serve(device, request)
        await asyncio.sleep(0)  # let spawned work (reboot, send) start and fail if it will
        return response

    response = loop.run_until_complete(call())
    assert int(response.code) < 160, (response, str(response.payload))

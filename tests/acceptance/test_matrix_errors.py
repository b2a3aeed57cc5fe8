"""The error rows of the acceptance matrix: what a real Device answers a real Lwm2mServer for
requests it must refuse. Unknown path 4.04, operation not allowed 4.05, Accept not supported
4.06, write in an unsupported format 4.15, bad payload or missing value 4.00 — never 5.00.

Raw requests (``server.request``) put exactly the bytes and options under test on the wire.
"""

from __future__ import annotations

import pytest

from fleet.codec import ContentFormat as F
from fleet.model import Path
from fleet.server import Lwm2mServer

from .conftest import DeviceFactory, within
from .formats import NOT_OFFERED, VERSIONS, cases

pytestmark = pytest.mark.asyncio

GET, PUT, POST, DELETE = "GET", "PUT", "POST", "DELETE"

NOT_FOUND = [
    (GET, "/9999", b"", None),
    (GET, "/3303/7", b"", None),
    (GET, "/3/0/99", b"", None),
    (GET, "/3/0/7/9", b"", None),
    (PUT, "/3442/0/9", b"1", F.TEXT),
    (POST, "/3442/3/0", b"", None),
    (DELETE, "/3303/5", b"", None),
]
NOT_ALLOWED = [
    (PUT, "/3/0/0", b"someone else", F.TEXT),  # read-only resource
    (POST, "/3/0/0", b"", None),  # execute a readable resource
    (GET, "/3/0/4", b"", None),  # read an executable resource
    (PUT, "/3442/0/0", b"1", F.TEXT),  # write an executable resource
]
BAD_PAYLOAD = [
    (PUT, "/3442/0/120", b"twelve", F.TEXT),  # not an integer
    (PUT, "/3442/0/140", b"2", F.TEXT),  # not a boolean
    (PUT, "/3442/0/120", b"\xff\x00\x13", F.TLV),  # truncated TLV
    (PUT, "/3442/0", b"{not json", F.LWM2M_JSON),
    (POST, "/3442/0/3", b"0='unterminated", None),  # execute arguments syntax
    (POST, "/3442/0/3", b"x=1", None),
]


async def raw(server: Lwm2mServer, method: str, path: str, payload: bytes, fmt: F | None) -> str:
    result = await within(server.request("dev1", method, path, payload=payload, content_format=fmt))
    assert result.code != "5.00", result
    return result.code


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("method", "path", "payload", "fmt"), NOT_FOUND)
async def test_unknown_path_is_4_04(
    make_device: DeviceFactory,
    server: Lwm2mServer,
    version: str,
    method: str,
    path: str,
    payload: bytes,
    fmt: F | None,
) -> None:
    await make_device(lwm2m_version=version)
    assert await raw(server, method, path, payload, fmt) == "4.04"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("method", "path", "payload", "fmt"), NOT_ALLOWED)
async def test_operation_not_allowed_is_4_05(
    make_device: DeviceFactory,
    server: Lwm2mServer,
    version: str,
    method: str,
    path: str,
    payload: bytes,
    fmt: F | None,
) -> None:
    device = await make_device(lwm2m_version=version)
    before = device.tree.read(Path(3))
    assert await raw(server, method, path, payload, fmt) == "4.05"
    assert device.tree.read(Path(3)) == before


@pytest.mark.parametrize(("version", "fmt"), cases(NOT_OFFERED))
async def test_accept_newer_than_the_version_is_4_06(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    await make_device(lwm2m_version=version)
    result = await within(server.read("dev1", "/3/0", format=fmt))
    assert result.code == "4.06"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/3/0", F.TEXT),  # text cannot carry an instance
        ("/3/0/7", F.TEXT),  # nor a multiple-instance resource
        ("/3/0/0", F.OPAQUE),  # opaque only for an Opaque resource
    ],
)
async def test_accept_the_device_cannot_honour_is_4_06(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, path: str, accept: int
) -> None:
    await make_device(lwm2m_version=version)
    result = await within(server.request("dev1", GET, path, accept=accept))
    assert result.code == "4.06", result


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("path", "payload", "fmt"),
    [
        ("/3442/0/110", b"</x>", F.LINK),
        ("/3442/0", b"anything", F.TEXT),  # text cannot write an instance
        ("/3442/0/110", b"\x01", F.OPAQUE),  # opaque onto a String resource
    ],
)
async def test_write_in_an_unsupported_format_is_4_15(
    make_device: DeviceFactory,
    server: Lwm2mServer,
    version: str,
    path: str,
    payload: bytes,
    fmt: int,
) -> None:
    device = await make_device(lwm2m_version=version)
    result = await within(server.request("dev1", PUT, path, payload=payload, content_format=fmt))
    assert result.code == "4.15", result
    assert device.tree.value(Path(3442, 0, 110)) == "initial value"


@pytest.mark.parametrize(("version", "fmt"), cases(NOT_OFFERED))
async def test_write_in_a_format_newer_than_the_version_is_4_15(
    make_device: DeviceFactory, server: Lwm2mServer, version: str, fmt: F
) -> None:
    await make_device(lwm2m_version="1.2")
    good = await within(server.read("dev1", "/3442/0/110", format=fmt))  # bytes of a 1.2 device
    assert good.code == "2.05"
    await make_device("old", lwm2m_version=version)
    result = await within(
        server.request("old", PUT, "/3442/0/110", payload=good.payload, content_format=fmt)
    )
    assert result.code == "4.15", result


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("method", "path", "payload", "fmt"), BAD_PAYLOAD)
async def test_bad_payload_is_4_00(
    make_device: DeviceFactory,
    server: Lwm2mServer,
    version: str,
    method: str,
    path: str,
    payload: bytes,
    fmt: F | None,
) -> None:
    device = await make_device(lwm2m_version=version)
    before = device.tree.read(Path(3442, 0))
    assert await raw(server, method, path, payload, fmt) == "4.00"
    assert device.tree.read(Path(3442, 0)) == before


@pytest.mark.parametrize("version", VERSIONS)
async def test_write_without_content_format_is_refused_not_5_00(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    await make_device(lwm2m_version=version)
    code = await raw(server, PUT, "/3442/0", b"\x00", None)
    assert code in ("4.00", "4.15")


@pytest.mark.parametrize("version", VERSIONS)
async def test_bad_write_attributes_is_4_00(
    make_device: DeviceFactory, server: Lwm2mServer, version: str
) -> None:
    await make_device(lwm2m_version=version)
    for query in (["pmin=abc"], ["gt=1", "lt=5"], ["bogus=1"], ["st=-1"]):
        result = await within(server.request("dev1", PUT, "/3303/0/5700", query=query))
        assert result.code == "4.00", (query, result)

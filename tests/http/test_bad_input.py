"""Bad input gets the one error shape with a clear reason, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.server.http import MAX_BODY
from fleet.testing.virtual import VirtualDevice
from tests.http.conftest import Api

OUTGOING = "/device-communication/device001/outgoing-msg"


def is_error(reply: Any, code: int) -> None:
    assert isinstance(reply, dict), reply
    assert set(reply) == {"m2m:dbg", "status"}
    assert reply["status"]["code"] == code
    assert set(reply["status"]) == {"code", "message", "detail"}
    assert isinstance(reply["m2m:dbg"], str) and reply["m2m:dbg"]
    assert "Traceback" not in reply["m2m:dbg"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("data", "code", "reason"),
    [
        (b'{"m2m:cin": {"con": "READ /3"', 400, "malformed JSON"),
        (b"", 400, "malformed JSON"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b'["READ /3"]', 400, "m2m:cin"),
        (b'{"m2m:cin": "READ /3"}', 400, "m2m:cin must be an object"),
        (b'{"m2m:cin": {}}', 400, "no con"),
        (b'{"m2m:cin": {"con": ""}}', 400, "con is empty"),
        (b'{"m2m:cin": {"con": 5}}', 400, "con must be"),
        (b'{"m2m:cin": {"con": []}}', 400, "command objects"),
        (b'{"m2m:cin": {"con": "READ /3", "xyz": 1}}', 400, "unknown members: xyz"),
        (b'{"m2m:cin": {"con": "READ /3", "cnf": "text/xml:0"}}', 415, "cnf"),
        (b'{"m2m:cin": {"con": "READ /3", "lbl": "a"}}', 400, "lbl"),
        (b'{"m2m:cin": {"con": "READ /3", "rn": "a/b"}}', 400, "rn"),
    ],
)
async def test_bad_bodies(
    api: Api, device: VirtualDevice, data: bytes, code: int, reason: str
) -> None:
    status, reply, _ = await api.request("POST", OUTGOING, data=data)
    assert status == code
    is_error(reply, code)
    assert reason in reply["m2m:dbg"]
    assert await api.listing("device001", "outgoing-msg") == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("content_type", "code"),
    [("text/plain", 415), ("application/xml", 415), ("", 415), ("application/json;ty=3", 400)],
)
async def test_wrong_content_type(
    api: Api, device: VirtualDevice, content_type: str, code: int
) -> None:
    status, reply, _ = await api.request(
        "POST",
        OUTGOING,
        data=b'{"m2m:cin": {"con": "READ /3"}}',
        headers={"Content-Type": content_type},
    )
    assert status == code
    is_error(reply, code)


@pytest.mark.asyncio
async def test_plain_application_json_is_accepted(api: Api, device: VirtualDevice) -> None:
    status, _, _ = await api.request(
        "POST",
        OUTGOING,
        data=b'{"m2m:cin": {"con": "READ /3"}}',
        headers={"Content-Type": "application/json"},
    )
    assert status == 201


@pytest.mark.asyncio
async def test_huge_body(api: Api, device: VirtualDevice) -> None:
    huge = b'{"m2m:cin": {"con": "' + b"R" * (MAX_BODY + 10) + b'"}}'
    status, reply, _ = await api.request("POST", OUTGOING, data=huge)
    assert status == 413
    is_error(reply, 413)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/device-management-orchestrator/v3/other/device001",
        "/device-management-orchestrator/v2/default/device001",
        "/nothing/here",
        "/device-management-orchestrator/v3/default/device-communication/device001/inbox",
        "/device-management-orchestrator/v3/default/device-communication/device001/sent-msg/zz",
        "/device-management-orchestrator/v3/default/device-communication/device001/a/b/c",
    ],
)
async def test_unknown_paths(api: Api, device: VirtualDevice, path: str) -> None:
    status, reply, _ = await api.request("GET", api.http.url + path)
    assert status == 404
    is_error(reply, 404)


@pytest.mark.asyncio
@pytest.mark.parametrize("query", ["?ty=13", "?rcn=8", "?ty=4&rcn=8", "?foo=1", "?ty=13&rcn=8&x=1"])
async def test_bad_node_queries(api: Api, device: VirtualDevice, query: str) -> None:
    status, reply, _ = await api.request("GET", "/device001" + query)
    assert status == 400
    is_error(reply, 400)


@pytest.mark.asyncio
async def test_bad_listing_limit(api: Api, device: VirtualDevice) -> None:
    status, reply, _ = await api.request(
        "GET", "/device-communication/device001/received-msg?lim=-1"
    )
    assert status == 400
    is_error(reply, 400)


@pytest.mark.asyncio
async def test_a_failure_inside_is_a_500_without_traceback(
    api: Api, device: VirtualDevice, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(endpoint: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(api.standin, "node", broken)
    status, reply, _ = await api.request("GET", "/device001")
    assert status == 500
    is_error(reply, 500)
    assert "boom" not in str(reply)
    assert "boom" in caplog.text  # logged for the operator


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("accept", "code"),
    [("application/xml", 406), ("text/html", 406), ("*/*", 200), ("application/json;q=0.9", 200)],
)
async def test_accept(api: Api, device: VirtualDevice, accept: str, code: int) -> None:
    status, reply, _ = await api.request("GET", "/device001", headers={"Accept": accept})
    assert status == code
    if code == 406:
        is_error(reply, 406)
        assert reply["status"]["detail"].endswith("The command, not acceptable.")

"""The platform's error table, row by row, as the stand-in reports it: refusals before sending
and device rejections in ``received-msg``; an unknown device and wrong methods as HTTP errors."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.server.platform import texts
from fleet.testing.virtual import VirtualDevice
from tests.http.conftest import Api, DeviceFactory

SENT = "Command was successfully sent to the device."


async def answer(api: Api, con: Any, device: str = "device001") -> dict[str, Any]:
    await api.run(device, con)
    got = await api.latest(device, "received-msg")
    return dict(got["content"]["status"])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("con", "status"),
    [
        ("WRITE /3442/0/110", texts.VALUE_MANDATORY),
        ({"method": "PUT", "path": "/3442/0/110"}, texts.VALUE_MANDATORY),
        ("OBSERVE /3303/0/5700 pmin=x", texts.BAD_PAYLOAD),
        ("READ /3/abc", texts.BAD_PATH),
        ({"method": "GET", "path": "three"}, texts.BAD_PATH),
        ("FETCH /3", texts.BAD_OPERATION),
        ({"method": "PATCH", "path": "/3"}, texts.BAD_OPERATION),
        ("UNOBSERVE /3303/0/5700", texts.NO_MATCHING_OBSERVE),
    ],
)
async def test_refused_before_sending(
    api: Api, device: VirtualDevice, con: Any, status: texts.Status
) -> None:
    assert await answer(api, con) == status.as_json()
    assert device.received("write") == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "number", "message", "detail"),
    [
        ("4.00", 400, "bad request", f"{SENT} Device could not process the command."),
        ("4.01", 401, "unauthorized", f"{SENT} Device rejects command as unauthorized request."),
        ("4.03", 403, "forbidden", f"{SENT} Device rejects command as forbidden request."),
        ("4.04", 404, "Not found", f"{SENT} Device rejects command as not found."),
        ("4.05", 405, "method not allowed", f"{SENT} Device rejects command, method not allowed."),
        ("4.06", 406, "not acceptable", f"{SENT} Device rejects command, not acceptable."),
        (
            "4.15",
            415,
            "unsupported media type",
            f"{SENT} Device rejects command, unsupported content format.",
        ),
    ],
)
async def test_device_rejections(
    api: Api, device: VirtualDevice, code: str, number: int, message: str, detail: str
) -> None:
    device.inject_fault("read", "/3/0/0", code=code)
    assert await answer(api, "READ /3/0/0") == {
        "code": number,
        "message": message,
        "detail": detail,
    }


@pytest.mark.asyncio
async def test_408_when_the_device_does_not_answer(api: Api, device: VirtualDevice) -> None:
    from fleet.client.site import Verdict

    device.device.add_interceptor(lambda request, operation, path: Verdict.drop())
    assert await answer(api, "READ /3/0/0") == texts.TIMEOUT.as_json()


@pytest.mark.asyncio
async def test_409_second_observe_until_unobserve(api: Api, device: VirtualDevice) -> None:
    assert (await answer(api, "OBSERVE /3303/0/5700"))["code"] == 200
    assert await answer(api, "OBSERVE /3303/0/5700 pmin=5") == texts.ALREADY_OBSERVED.as_json()
    assert (await answer(api, "UNOBSERVE /3303/0/5700"))["code"] == 200
    assert (await answer(api, "OBSERVE /3303/0/5700"))["code"] == 200
    sent = [s["content"] for s in await api.listing("device001", "sent-msg")]
    # the refused second OBSERVE never went to the device
    assert sent == ["OBSERVE /3303/0/5700", "UNOBSERVE /3303/0/5700", "OBSERVE /3303/0/5700"]


@pytest.mark.asyncio
async def test_404_naming_a_device_that_left(api: Api, make_device: DeviceFactory) -> None:
    dev = await make_device("device009", lifetime=60)
    await dev.stop()
    assert await answer(api, "READ /3", "device009") == texts.no_device("device009").as_json()


@pytest.mark.asyncio
async def test_multiple_commands_each_get_their_row(api: Api, device: VirtualDevice) -> None:
    posted = await api.run("device001", "READ /6; FETCH /3; WRITE /3442/0/110")
    chain = [
        m
        for m in await api.listing("device001", "received-msg")
        if f"outgoing_msgRN:{posted['resourceName']}" in m.get("labels", [])
    ]
    codes = [m["content"]["status"]["code"] for m in chain]
    assert codes == [200, 405, 400]
    request_ids = {m["labels"][1] for m in chain}
    assert len(request_ids) == 3  # one operation id per command, one outgoing name for all
    sent = await api.listing("device001", "sent-msg")
    assert [s["content"] for s in sent] == ["READ /6"]  # refused commands are not sent


@pytest.mark.asyncio
async def test_unknown_device_is_404(api: Api, device: VirtualDevice) -> None:
    for method, path, body in [
        ("POST", "/device-communication/nobody/outgoing-msg", {"m2m:cin": {"con": "READ /3"}}),
        ("GET", "/device-communication/nobody/received-msg/la", None),
        ("GET", "/nobody?ty=13&rcn=8", None),
        ("GET", "/nobody", None),
    ]:
        status, reply, _ = await api.request(method, path, body=body)
        assert status == 404, path
        assert reply["status"]["code"] == 404
        assert "nobody" in reply["m2m:dbg"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/device-communication/device001/outgoing-msg"),
        ("PUT", "/device-communication/device001/outgoing-msg"),
        ("POST", "/device-communication/device001/sent-msg"),
        ("POST", "/device-communication/device001/received-msg"),
        ("DELETE", "/device001"),
    ],
)
async def test_405_for_a_method_the_resource_does_not_take(
    api: Api, device: VirtualDevice, method: str, path: str
) -> None:
    status, reply, _ = await api.request(method, path, body={"m2m:cin": {"con": "READ /3"}})
    assert status == 405
    assert reply["status"] == {
        "code": 405,
        "message": "method not allowed",
        "detail": "This resource does not allow the method.",
    }
    assert method in reply["m2m:dbg"]


@pytest.mark.asyncio
async def test_token_401_like_the_platform(secured: Api, device: VirtualDevice) -> None:
    path = "/device-communication/device001/received-msg"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"}):
        status, reply, seen = await secured.request("GET", path, headers=headers)
        assert status == 401
        assert reply["status"] == {
            "code": 401,
            "message": "unauthorized",
            "detail": "Command could not been sent to LwM2M protocol-adapter."
            " Unauthorized request.",
        }
        assert seen["WWW-Authenticate"].startswith("Bearer")
    status, _, _ = await secured.request(
        "GET", path, headers={"Authorization": "Bearer s3cret-token"}
    )
    assert status == 200
    # the console page itself is public; its data is not
    status, _, _ = await secured.request("GET", secured.http.url + "/", headers={})
    assert status == 200
    status, _, _ = await secured.request("GET", secured.http.url + "/fleet/api/devices")
    assert status == 401

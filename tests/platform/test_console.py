"""The platform console against the real server and a real virtual device over UDP: every
received message compared with the shapes of the platform document's examples."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from fleet.client.device import Device
from fleet.server import Lwm2mServer
from fleet.server.platform import Console, texts
from tests.platform.conftest import WAIT, DeviceFactory, Recorder, kind_is

pytestmark = pytest.mark.asyncio

RESPONSE_KEYS = {
    "nodeResourceName",
    "time",
    "messageType",
    "method",
    "status",
    "resourcePath",
    "data",
}


def _labels_ok(labels: list[str]) -> tuple[str, str]:
    outgoing, request = labels
    assert outgoing.startswith("outgoing_msgRN:") and request.startswith("requestId:")
    uuid.UUID(outgoing.partition(":")[2])
    uuid.UUID(request.partition(":")[2])
    return outgoing, request


async def test_registration_is_a_status_message(
    console: Console, recorder: Recorder, device: Device
) -> None:
    message = await recorder.until(kind_is("registration"))
    assert message == {
        "content": {
            "nodeResourceName": "dev1",
            "time": message["content"]["time"],
            "messageType": "registration",
        }
    }
    assert isinstance(message["content"]["time"], int) and message["content"]["time"] > 1e12


async def test_read_of_object_3_answers_with_a_data_map(
    console: Console, recorder: Recorder, device: Device
) -> None:
    (message,) = await console.run_line("dev1 READ /3")
    content = message["content"]
    assert set(content) == RESPONSE_KEYS
    assert content["method"] == "read" and content["resourcePath"] == "3"
    assert content["status"] == {"code": 200, "message": "success", "detail": None}
    data = content["data"]
    assert data["3/0/0"] == device.tree.value("/3/0/0")
    assert data["3/0/1"] == device.tree.value("/3/0/1")
    assert "3/0/11/0" in data  # a multiple-instance resource, by instance
    _labels_ok(message["labels"])
    assert recorder.messages[-1] is message


async def test_several_commands_share_the_outgoing_label_not_the_request_id(
    console: Console, device: Device
) -> None:
    first, second = await console.run_line("dev1 READ /6; RD /3/0/0")
    assert first["content"]["resourcePath"] == "6"
    assert first["content"]["data"]["6/0/0"] == device.tree.value("/6/0/0")
    assert second["content"]["data"] == {"3/0/0": device.tree.value("/3/0/0")}
    out1, req1 = _labels_ok(first["labels"])
    out2, req2 = _labels_ok(second["labels"])
    assert out1 == out2 and req1 != req2


async def test_write_then_read_back_and_execute(console: Console, device: Device) -> None:
    (written,) = await console.run_line("dev1 WRITE /3442/0/110 Hello")
    assert written["content"] | {"time": 0} == {
        "nodeResourceName": "dev1",
        "time": 0,
        "messageType": "response",
        "method": "write",
        "status": {"code": 200, "message": "success", "detail": None},
        "resourcePath": "3442/0/110",
        "data": None,
    }
    assert device.tree.value("/3442/0/110") == "Hello"
    (read,) = await console.run_line('dev1 {"method": "GET", "path": "/3442/0/110"}')
    assert read["content"]["data"] == {"3442/0/110": "Hello"}
    (executed,) = await console.run_line("dev1 EXECUTE /3442/0/2")  # Clear values
    assert executed["content"]["method"] == "exec"
    assert executed["content"]["resourcePath"] == "3442/0/2"
    assert executed["content"]["status"]["code"] == 200 and executed["content"]["data"] is None
    assert device.tree.value("/3442/0/110") == ""


async def test_observe_notifications_share_the_chain_labels(
    console: Console, recorder: Recorder, device: Device
) -> None:
    (answer,) = await console.run_line("dev1 OBSERVE /3303/0/5700 pmin=0 pmax=30")
    assert answer["content"]["method"] == "observe"
    assert answer["content"]["data"] == {"3303/0/5700": device.tree.value("/3303/0/5700")}
    notified = recorder.expect(kind_is("notify"))
    device.tree.set_value("/3303/0/5700", 25.5)
    note = await asyncio.wait_for(notified, WAIT)
    assert note == {
        "content": {
            "nodeResourceName": "dev1",
            "time": note["content"]["time"],
            "messageType": "notify",
            "resourcePath": "3303/0/5700",
            "dataValue": 25.5,
            "attributes": {"pmin": 0, "pmax": 30},
        },
        "labels": answer["labels"],
    }
    again = recorder.expect(lambda m: kind_is("notify")(m) and m is not note)
    device.tree.set_value("/3303/0/5700", 26.0)
    assert (await asyncio.wait_for(again, WAIT))["labels"] == answer["labels"]


async def test_only_one_observe_per_resource_and_unobserve_needs_one(
    console: Console, server: Lwm2mServer, device: Device
) -> None:
    (missing,) = await console.run_line("dev1 UNOBSERVE /3303/0/5700")
    assert missing["content"]["status"] == texts.NO_MATCHING_OBSERVE.as_json()
    (first,) = await console.run_line("dev1 OBS /3303/0/5700")
    assert first["content"]["status"]["code"] == 200
    sent = server.counters.requests["observe"]
    (second,) = await console.run_line("dev1 OBS /3303/0/5700 pmin=1")
    assert second["content"]["status"] == texts.ALREADY_OBSERVED.as_json()
    assert server.counters.requests["observe"] == sent  # refused before sending
    (cancelled,) = await console.run_line("dev1 UOBS /3303/0/5700")
    assert cancelled["content"]["method"] == "unobserve"
    assert cancelled["content"]["status"]["code"] == 200
    assert server.find_observation("dev1", "/3303/0/5700") is None
    (again,) = await console.run_line("dev1 UOBS /3303/0/5700")
    assert again["content"]["status"]["code"] == 404
    (fresh,) = await console.run_line("dev1 OBS /3303/0/5700")
    assert fresh["content"]["status"]["code"] == 200


@pytest.mark.parametrize(
    ("line", "status", "method", "path"),
    [
        ("dev1 WRITE /3442/0/110", texts.VALUE_MANDATORY, "write", "3442/0/110"),
        ("dev1 READ /3/x", texts.BAD_PATH, "read", "3/x"),
        ("dev1 JUMP /3", texts.BAD_OPERATION, None, None),
        ("dev1 {oops", texts.BAD_PAYLOAD, None, None),
    ],
)
async def test_malformed_commands_are_refused_before_sending(
    console: Console,
    server: Lwm2mServer,
    device: Device,
    line: str,
    status: texts.Status,
    method: str | None,
    path: str | None,
) -> None:
    before = sum(server.counters.requests.values())
    (message,) = await console.run_line(line)
    content = message["content"]
    assert content["status"] == status.as_json()
    assert (content["method"], content["resourcePath"], content["data"]) == (method, path, None)
    _labels_ok(message["labels"])
    assert sum(server.counters.requests.values()) == before


async def test_a_device_rejection_comes_back_with_its_code(
    console: Console, device: Device
) -> None:
    (message,) = await console.run_line("dev1 WRITE /3/0/0 Other")  # read-only: 4.05
    assert message["content"]["status"] == {
        "code": 405,
        "message": "method not allowed",
        "detail": "Command was successfully sent to the device. Device rejects command,"
        " method not allowed.",
    }
    (missing,) = await console.run_line("dev1 READ /3303/7")  # no such instance: 4.04
    assert missing["content"]["status"]["code"] == 404
    assert missing["content"]["status"]["detail"].endswith("Device rejects command as not found.")


async def test_a_silent_device_gives_408(console: Console, device: Device) -> None:
    await device.stop(deregister=False)  # gone without a word: the server still lists it
    (message,) = await console.run_line("dev1 READ /3/0/0")
    assert message["content"]["status"] == texts.TIMEOUT.as_json()
    assert message["content"]["data"] is None


async def test_an_unknown_device_is_404_naming_it(console: Console) -> None:
    (message,) = await console.run_line("ghost READ /3")
    assert message["content"]["status"] == {
        "code": 404,
        "message": "Not Found",
        "detail": "Command was not sent: no registered device named ghost.",
    }
    assert message["content"]["nodeResourceName"] == "ghost"


async def test_a_device_that_left_is_404_naming_it(
    console: Console, make_device: DeviceFactory
) -> None:
    device = await make_device("dev3", lifetime=60)
    await device.stop()
    (message,) = await console.run_line("dev3 READ /3")
    assert message["content"]["status"] == texts.no_device("dev3").as_json()


@pytest.mark.parametrize(
    "line",
    ["READ /3/0/0", "rd /3", '[{"method": "GET", "path": "/3/0/0"}]', "OBSERVE /3303/0/5700"],
)
async def test_a_line_without_its_endpoint_says_the_endpoint_is_missing(
    console: Console, recorder: Recorder, line: str
) -> None:
    assert await console.run_line(line) == []
    assert recorder.said == [f"the endpoint is missing: write ENDPOINT {line} (DEVICES lists them)"]
    assert recorder.messages == []  # nothing was sent, nothing refused as a bad path


async def test_info_without_an_endpoint_says_it_is_missing(
    console: Console, recorder: Recorder
) -> None:
    await console.run_line("INFO")
    assert recorder.said == ["INFO ENDPOINT: the endpoint is missing"]


async def test_deregistration_and_device_info(
    console: Console, recorder: Recorder, make_device: DeviceFactory
) -> None:
    device = await make_device("dev2", lifetime=60)
    await console.run_line("INFO dev2")
    info = recorder.said[-1]
    assert info["deviceInfo"]["deviceLabel"] == "dev2"
    assert info["deviceInfo"]["manufacturer"] == device.tree.value("/3/0/0")
    assert info["deviceInfo"]["fwVersion"] == device.tree.value("/3/0/3")
    lat, lon = device.tree.value("/6/0/0"), device.tree.value("/6/0/1")
    assert info["deviceInfo"]["location"] == f"geo:{lat},{lon}"
    assert any(label.startswith("registrations_timestamp: ") for label in info["labels"])
    gone = recorder.expect(kind_is("deregistration", "dev2"))
    await device.stop()
    message = await asyncio.wait_for(gone, WAIT)
    assert set(message) == {"content"}
    assert set(message["content"]) == {"nodeResourceName", "time", "messageType"}
    await console.run_line("DEVICES")
    (row,) = [r for r in recorder.said[-1] if r["endpoint"] == "dev2"]
    assert row["state"] == "deregistered" and row["deregistrations_timestamp"] is not None


async def test_a_lifetime_without_update_expires(
    console: Console, recorder: Recorder, make_device: DeviceFactory
) -> None:
    device = await make_device("dev3", lifetime=1)
    expired = recorder.expect(kind_is("registration-expire", "dev3"))
    await device.stop(deregister=False)  # no Update will come
    message = await asyncio.wait_for(expired, WAIT)
    assert message["content"]["messageType"] == "registration-expire"
    await console.run_line("INFO dev3")
    assert any(s.startswith("expirations_timestamp: ") for s in recorder.said[-1]["labels"])


async def test_wait_and_help(console: Console, recorder: Recorder, device: Device) -> None:
    await console.run_line("WAIT dev1 1")
    await console.run_line("WAIT nobody 0.05")
    await console.run_line("HELP")
    assert recorder.said[0] == "nobody did not register within 0.05 s"
    assert "OBSERVE" in recorder.said[1]
    await console.run_line("QUIT")
    assert console.finished


async def test_an_update_is_a_status_message(
    console: Console, recorder: Recorder, device: Device
) -> None:
    updated = recorder.expect(kind_is("update"))
    device.request_update()
    message = await asyncio.wait_for(updated, WAIT)
    assert set(message["content"]) == {"nodeResourceName", "time", "messageType"}
    await console.run_line("DEVICES")
    (row,) = recorder.said[-1]
    assert row["state"] == "registered" and row["updates_timestamp"] is not None


async def test_rest_mode_list_runs_every_command(console: Console, device: Device) -> None:
    first, second = await console.run_line(
        'dev1 [{"method": "read", "path": "/6"}, {"method": "PUT", "path": "/3442/0/120",'
        ' "value": 42}]'
    )
    assert first["content"]["data"]["6/0/1"] == device.tree.value("/6/0/1")
    assert second["content"]["method"] == "write" and second["content"]["status"]["code"] == 200
    assert device.tree.value("/3442/0/120") == 42

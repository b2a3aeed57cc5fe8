"""Each request/response example of the platform document, replayed against the stand-in with
virtual devices behind it: the same members and JSON types (values from our devices)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fleet.server.platform import texts
from fleet.testing.virtual import VirtualDevice
from tests.http.conftest import Api, DeviceFactory, received
from tests.http.seed import Example, examples, same_shape

EXAMPLES = examples()
STAMP = re.compile(r"\d{8}T\d{6},\d{6}")
HEX24 = re.compile(r"[0-9a-f]{24}")


def example(number: int) -> Example:
    return EXAMPLES[number]


def cin(number: int) -> dict[str, Any]:
    return dict(example(number).body["contentInstance"])


def test_the_document_is_read_whole() -> None:
    assert len(EXAMPLES) == 21
    assert [e.request for e in EXAMPLES[:5]] == [
        "POST /device-management-orchestrator/v3/{{TENANT}}/device-communication/<deviceID>"
        "/outgoing-msg"
    ] * 5
    assert "EXECUTE /3442/0/2" in example(12).heading
    assert "?ty=13&rcn=8" in str(example(19).request)


def check_instance(ours: dict[str, Any], theirs: dict[str, Any], **kw: Any) -> None:
    problems = same_shape(ours, theirs, free=("content", "data", "dataValue"), **kw)
    assert problems == [], problems
    assert STAMP.fullmatch(ours["creationTime"])
    assert HEX24.fullmatch(ours["resourceID"]) and HEX24.fullmatch(ours["parentID"])
    assert ours["resourceType"] == 4


@pytest.mark.parametrize("number", [0, 1, 2, 3, 4])
@pytest.mark.asyncio
async def test_each_mode_of_the_document_is_accepted(
    api: Api, device: VirtualDevice, number: int
) -> None:
    body = example(number).body
    given = body["m2m:cin"]
    status, reply, headers = await api.request(
        "POST", "/device-communication/device001/outgoing-msg", body=body
    )
    assert status == 201
    assert headers["X-M2M-RI"] == "123"
    ours = reply["contentInstance"]
    theirs = cin(16) if "cnf" in given else cin(5)
    check_instance({**ours, "content": None}, {**theirs, "content": None})
    assert ours["content"] == given["con"]
    assert ours["creator"] == "CTestApp"
    await api.standin.drain()
    con = given["con"]
    commands = con if isinstance(con, list) else con.split(";") if isinstance(con, str) else [con]
    answers = [m for m in await api.listing("device001", "received-msg") if _answers(m, ours)]
    assert len(answers) == len(commands)
    assert all(m["content"]["status"]["code"] == 200 for m in answers)
    assert all(m["content"]["data"] for m in answers)  # every example reads something


def _answers(message: dict[str, Any], outgoing: dict[str, Any]) -> bool:
    return f"outgoing_msgRN:{outgoing['resourceName']}" in message.get("labels", [])


@pytest.mark.asyncio
async def test_read_3_flow_outgoing_sent_received(api: Api, device: VirtualDevice) -> None:
    posted = await api.run("device001", "READ /3")
    check_instance(posted, cin(5))
    assert posted["content"] == "READ /3" and posted["contentSize"] == 7
    sent = await api.latest("device001", "sent-msg")
    # the document's first sent-msg shows no labels; its traceability section gives every
    # message of a chain the pair of labels, which we do
    assert same_shape(sent, cin(6), free=("content",)) == ["$: extra ['labels']"]
    assert sent["content"] == "READ /3"
    got = await api.latest("device001", "received-msg")
    check_instance(got, cin(14))
    content = got["content"]
    assert content["data"]["3/0/0"] == "My Demo Device"
    assert content["data"]["3/0/1"] == "Model 500"
    assert content["resourcePath"] == "3" and content["method"] == "read"
    assert got["labels"] == sent["labels"]
    # the outgoing message is deleted once sent
    assert await api.listing("device001", "outgoing-msg") == []


@pytest.mark.asyncio
async def test_a_device_rejection_reads_as_the_documents_406(
    api: Api, device: VirtualDevice
) -> None:
    device.inject_fault("read", "/3", code="4.06")
    await api.run("device001", "READ /3")
    got = await api.latest("device001", "received-msg")
    theirs = cin(7)["content"]["status"]
    status = got["content"]["status"]
    assert (status["code"], status["message"]) == (theirs["code"], theirs["message"])
    # the example writes "successfully send"; the error table (whose words we use) "sent"
    assert status["detail"] == theirs["detail"].replace("successfully send", "successfully sent")
    assert got["content"]["data"] is None


@pytest.mark.asyncio
async def test_registration_update_and_deregistration(api: Api, make_device: DeviceFactory) -> None:
    registered = api.expect(received("device002", "registration"))
    dev = await make_device("device002", lifetime=60)
    filed = (await registered).as_json()["contentInstance"]
    assert same_shape(filed, cin(8)) == []
    assert filed["content"]["nodeResourceName"] == "device002"
    updated = api.expect(received("device002", "update"))
    dev.device.request_update()
    assert same_shape((await updated).as_json()["contentInstance"], cin(9)) == []
    gone = api.expect(received("device002", "deregistration"))
    await dev.stop()
    last = await api.latest("device002", "received-msg")
    assert (await gone).resource_name == last["resourceName"]
    assert same_shape(last, cin(11)) == []


@pytest.mark.asyncio
async def test_registration_expire(api: Api, make_device: DeviceFactory) -> None:
    expired = api.expect(received("device003", "registration-expire"))
    dev = await make_device("device003", lifetime=1)
    dev.device.silence(None)
    filed = (await expired).as_json()["contentInstance"]
    assert same_shape(filed, cin(10)) == []


@pytest.mark.parametrize(
    ("number", "con", "path"),
    [
        (12, "EXECUTE /3442/0/2", "3442/0/2"),
        (13, "WRITE /3442/0/110 Hello", "3442/0/110"),
        (14, "READ /6", "6"),
    ],
)
@pytest.mark.asyncio
async def test_execute_write_read_responses(
    api: Api, device: VirtualDevice, number: int, con: str, path: str
) -> None:
    assert con in example(number).heading
    await api.run("device001", con)
    got = await api.latest("device001", "received-msg")
    check_instance(got, cin(number))
    assert got["content"]["resourcePath"] == path
    assert got["content"]["status"] == texts.SUCCESS.as_json()
    if number == 14:
        assert got["content"]["data"]["6/0/0"] == 52.52
        assert got["content"]["data"]["6/0/1"] == 13.405
    else:
        assert got["content"]["data"] is None
    if number == 13:
        assert device.value("/3442/0/110") == "Hello"


@pytest.mark.asyncio
async def test_observe_notifications(api: Api, device: VirtualDevice) -> None:
    assert "OBSERVE /3303/0/5602" in example(15).heading
    await api.run("device001", "OBSERVE /3303/0/5602")
    answer = await api.latest("device001", "received-msg")
    assert answer["content"]["method"] == "observe"
    notified = api.expect(received("device001", "notify"))
    await device.set_value("/3303/0/5700", 99.5)
    note = (await notified).as_json()["contentInstance"]
    # the document's notification shows no labels; the traceability section says every
    # message of an OBSERVE's chain carries them
    assert same_shape(note, cin(15), free=("content",)) == ["$: extra ['labels']"]
    assert same_shape(note["content"], cin(15)["content"]) == []
    # one form in every message: the responses' (and data keys') "3303/0/5602", where this
    # one example of the document writes "/3303/0/5602" (docs/platform-api.md)
    assert note["content"]["resourcePath"] == "3303/0/5602"
    assert note["content"]["dataValue"] == 99.5
    assert note["labels"] == answer["labels"]


@pytest.mark.asyncio
async def test_rest_mode_traceability_chain(api: Api, device: VirtualDevice) -> None:
    posted = await api.run(
        "device001", {"method": "READ", "path": "/3442/0/160"}, "application/json:0"
    )
    check_instance(posted, cin(16))
    sent = await api.latest("device001", "sent-msg")
    check_instance(sent, cin(17))
    assert sent["content"] == {"method": "READ", "path": "/3442/0/160"}
    got = await api.latest("device001", "received-msg")
    check_instance(got, example(18).body)
    assert got["labels"] == sent["labels"]
    rn = [label for label in sent["labels"] if label.startswith("outgoing_msgRN:")]
    assert rn == [f"outgoing_msgRN:{posted['resourceName']}"]
    assert [label.partition(":")[0] for label in sent["labels"]] == ["outgoing_msgRN", "requestId"]
    assert got["content"]["data"] == {"3442/0/160": device.value("/3442/0/160")}


@pytest.mark.asyncio
async def test_device_node_management_objects(api: Api, device: VirtualDevice) -> None:
    status, body, _ = await api.request("GET", "/device001?ty=13&rcn=8")
    assert status == 200
    theirs = example(19).body
    problems = same_shape(body, theirs)
    extra = "$.node.deviceInfo[0]: extra ['location', 'manufacturer', 'model', 'swVersion']"
    assert problems == [extra]  # the mapping table's other fields, filled from our device
    info = body["node"]["deviceInfo"][0]
    assert info["deviceLabel"] == "device001"
    assert info["deviceName"] == info["manufacturer"] == "My Demo Device"
    assert info["model"] == "Model 500"
    assert info["fwVersion"] == "1.0.0" and info["swVersion"] == "1.0.2"
    assert info["location"] == "geo:52.52,13.405"
    assert int(info["systemTime"]) == device.value("/3/0/13")
    assert info["resourceName"] == "device-info" and info["mgmtDefinition"] == 1007


@pytest.mark.asyncio
async def test_device_node_labels(api: Api, device: VirtualDevice) -> None:
    status, body, _ = await api.request("GET", "/device001")
    assert status == 200
    assert same_shape(body, example(20).body) == []
    labels = body["node"]["labels"]
    assert [label.partition(":")[0] for label in labels] == ["registrations_timestamp"]
    stamp = int(labels[0].partition(": ")[2])
    record = api.standin.server.device("device001")
    assert record is not None and record.registered_at is not None
    assert stamp == int(record.registered_at)
    assert body["node"]["resourceType"] == 14 and body["node"]["resourceName"] == "device001"


@pytest.mark.asyncio
async def test_device_info_follows_a_later_read(api: Api, device: VirtualDevice) -> None:
    _, before, _ = await api.request("GET", "/device001?ty=13&rcn=8")
    await device.set_value("/6/0/0", 48.137)
    await device.set_value("/6/0/1", 11.575)
    await api.run("device001", "READ /6")
    _, after, _ = await api.request("GET", "/device001?ty=13&rcn=8")
    old, new = before["node"]["deviceInfo"][0], after["node"]["deviceInfo"][0]
    assert old["location"] == "geo:52.52,13.405"
    assert new["location"] == "geo:48.137,11.575"
    assert new["lastModifiedTime"] > old["lastModifiedTime"]
    assert new["creationTime"] == old["creationTime"]

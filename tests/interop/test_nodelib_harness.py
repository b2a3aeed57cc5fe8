"""The lwm2m-node-lib harness against a scripted fake client: the harness sees registration,
read, write, execute, observe with notifications, update and de-registration — and what the
library puts on the wire is pinned here (the facts listed in ``nodelib.py``'s docstring)."""

from __future__ import annotations

import asyncio
import os
import pathlib

import pytest
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type

from fleet.client.coap import TransmissionParameters
from tests.interop.conftest import EXECUTABLES, VALUES
from tests.interop.fakes import TEXT, WAIT, FakeClient, RawPeer, Seen, raw_message
from tests.interop.nodelib import NodeLibError, NodeLibServer

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

PROXY_URI = 35
LIGHTWEIGHTM2M_TEXT = 1541  # the library's default write format: the pre-release text number
UDP_TABLE = pathlib.Path("/proc/net/udp")


async def registered(nodelib: NodeLibServer, fake: FakeClient, lifetime: int = 60) -> None:
    response = await fake.register(nodelib.address, lifetime=lifetime)
    assert response.code == Code.CREATED
    await nodelib.wait_event("registration", fake.name)


async def test_registration_is_reported_with_its_parameters(
    nodelib: NodeLibServer, fake: FakeClient
) -> None:
    response = await fake.register(nodelib.address, lifetime=77, binding="UQ")

    assert response.code == Code.CREATED
    event = await nodelib.wait_event("registration", "fake1")
    assert event["lifetime"] == "77"
    assert event["version"] == "1.1"
    assert event["binding"] == "UQ"
    assert event["links"] == fake.links
    assert (event["address"], event["port"]) == fake.endpoint.address
    # ONE Location-Path option holding "rd/<n>"
    assert fake.location == (f"rd/{event['device_id']}",)
    assert event["location"] == f"/rd/{event['device_id']}"
    assert [device["endpoint"] for device in await nodelib.devices()] == ["fake1"]


async def test_read_is_a_confirmable_get_accepting_text_from_the_server_port(
    nodelib: NodeLibServer, fake: FakeClient
) -> None:
    await registered(nodelib, fake)

    assert await nodelib.read("fake1", "/3/0/0") == "Open Mobile Alliance"

    get = await fake.wait_request("GET", "/3/0/0")
    assert get.confirmable
    assert get.accept == TEXT
    assert get.observe is None
    assert get.remote == nodelib.address  # forwarded by the library's proxy
    assert PROXY_URI not in get.option_numbers


async def test_an_error_code_of_the_device_reaches_the_caller(
    nodelib: NodeLibServer, fake: FakeClient
) -> None:
    await registered(nodelib, fake)

    with pytest.raises(NodeLibError) as raised:
        await nodelib.read("fake1", "/3/0/99")
    assert raised.value.code == "4.04"
    with pytest.raises(NodeLibError) as raised:
        await nodelib.execute("fake1", "/3/0/0")
    assert raised.value.code == "4.05"


async def test_write_puts_text_plain(nodelib: NodeLibServer, fake: FakeClient) -> None:
    await registered(nodelib, fake)

    await nodelib.write("fake1", "/3442/0/110", "Hello")

    put = await fake.wait_request("PUT", "/3442/0/110")
    assert put.confirmable
    assert put.content_format == TEXT
    assert put.payload == b"Hello"
    assert fake.values["/3442/0/110"] == b"Hello"
    assert await nodelib.read("fake1", "/3442/0/110") == "Hello"


async def test_the_library_default_write_format_is_1541(fake: FakeClient) -> None:
    async with NodeLibServer(write_format="lightweightm2m/text") as nodelib:
        await registered(nodelib, fake)

        with pytest.raises(NodeLibError) as raised:
            await nodelib.write("fake1", "/3442/0/110", "Hello")

    assert raised.value.code == "4.15"  # the fake, like a strict device, takes only text/plain
    put = await fake.wait_request("PUT", "/3442/0/110")
    assert put.content_format == LIGHTWEIGHTM2M_TEXT
    assert fake.values["/3442/0/110"] == VALUES["/3442/0/110"]


async def test_execute_posts_its_arguments_with_a_content_format(
    nodelib: NodeLibServer, fake: FakeClient
) -> None:
    await registered(nodelib, fake)

    await nodelib.execute("fake1", EXECUTABLES[0], "0='go',1")
    await nodelib.execute("fake1", EXECUTABLES[0])

    posts = [r for r in fake.requests if r.method == "POST" and r.path == EXECUTABLES[0]]
    assert [post.payload for post in posts] == [b"0='go',1", b""]
    assert all(post.confirmable and post.content_format == TEXT for post in posts)


async def observe_through(nodelib: NodeLibServer, fake: FakeClient, path: str) -> Seen:
    """Start observing ``path``; return the Observe GET once lwm2m-node-lib's observe call has
    completed, whatever the first Observe number of our endpoint (see the next test)."""
    observing = asyncio.create_task(nodelib.observe(fake.name, path))
    get = await fake.wait_request("GET", path, where=lambda request: request.observe == 0)
    assert all(await asyncio.gather(*fake.notify(path, b"primer")))
    if await asyncio.wait_for(observing, WAIT) != "primer":  # the answer itself got through
        await nodelib.wait_event("notification", fake.name, value="primer")
    return get


@pytest.mark.parametrize(
    ("first_number", "first_result", "notified"),
    [(0, "21.0", ["22.0"]), (1, "20.0", ["21.0", "22.0"])],
)
async def test_a_first_answer_numbered_observe_0_is_dropped(
    nodelib: NodeLibServer,
    fake: FakeClient,
    first_number: int,
    first_result: str,
    notified: list[str],
) -> None:
    await registered(nodelib, fake)
    raw = await RawPeer.bind()
    try:
        # move the registration to a bare socket, which numbers its notifications as told
        update = raw_message(Type.CON, Code.POST, 1, b"u1", uri_path=fake.location_path())
        raw.send(update, nodelib.address)
        answer, _ = await raw.receive()
        assert answer.code == Code.CHANGED
        await nodelib.wait_event("update", "fake1")

        observing = asyncio.create_task(nodelib.observe("fake1", "/3303/0/5700"))
        get, server = await raw.receive()
        assert (get.opt.observe, get.opt.accept) == (0, TEXT)
        text = {"content_format": TEXT}
        first = raw_message(
            Type.ACK, Code.CONTENT, get.mid, get.token, b"20.0", observe=first_number, **text
        )
        raw.send(first, server)
        numbers = [first_number + 2, first_number + 1, first_number + 3]  # one out of order
        for number, value in zip(numbers, (b"21.0", b"stale", b"22.0"), strict=True):
            note = raw_message(
                Type.NON, Code.CONTENT, 10 + number, get.token, value, observe=number, **text
            )
            raw.send(note, server)

        assert await asyncio.wait_for(observing, WAIT) == first_result
        notes = [await nodelib.wait_event("notification", "fake1") for _ in notified]
        assert [note["value"] for note in notes] == notified  # "stale" (out of order) dropped
    finally:
        raw.close()


async def test_an_observe_answered_with_an_error_never_completes(fake: FakeClient) -> None:
    async with NodeLibServer(command_timeout=1.0) as nodelib:
        await registered(nodelib, fake)

        with pytest.raises(NodeLibError) as raised:
            await nodelib.observe("fake1", "/3303/0/9999")

    assert raised.value.name == "TIMEOUT"  # the driver's own bound: the library never calls back
    assert nodelib.exit_code == 0  # and the driver still stopped by itself
    get = await fake.wait_request("GET", "/3303/0/9999")
    assert get.observe == 0  # the device did answer it, 4.04


async def test_confirmable_notifications_are_never_acknowledged(nodelib: NodeLibServer) -> None:
    quick = TransmissionParameters(ack_timeout=0.2, ack_random_factor=1.0, max_retransmit=2)
    async with FakeClient("fake2", VALUES, params=quick) as fake:
        await registered(nodelib, fake)
        get = await observe_through(nodelib, fake, "/3303/0/5700")

        (delivered,) = fake.notify("/3303/0/5700", b"30.0", confirmable=True)

        note = await nodelib.wait_event("notification", "fake2")  # the server got it ...
        assert note["value"] == "30.0"
        assert await asyncio.wait_for(delivered, WAIT) is False  # ... but never acknowledged it
        assert not fake.endpoint.observing(get.remote, get.token)


async def test_cancel_is_not_told_to_the_device(nodelib: NodeLibServer, fake: FakeClient) -> None:
    await registered(nodelib, fake)
    get = await observe_through(nodelib, fake, "/3303/0/5700")
    assert all(await asyncio.gather(*fake.notify("/3303/0/5700", b"21.0")))
    assert (await nodelib.wait_event("notification", "fake1"))["value"] == "21.0"

    await nodelib.cancel("fake1", "/3303/0/5700")
    assert all(await asyncio.gather(*fake.notify("/3303/0/5700", b"23.0")))
    assert await nodelib.read("fake1", "/3/0/0") == "Open Mobile Alliance"  # a round trip

    assert fake.endpoint.observing(get.remote, get.token)  # nobody told the device
    assert [r for r in fake.requests if r.observe == 1] == []
    assert nodelib.pending("notification") == []
    with pytest.raises(NodeLibError):
        await nodelib.cancel("fake1", "/3303/0/5700")  # no such observation any more


async def test_update_then_deregistration(nodelib: NodeLibServer, fake: FakeClient) -> None:
    await registered(nodelib, fake)

    assert (await fake.update(split=False)).code == Code.CHANGED  # Uri-Path "rd/<n>" works too
    plain = await nodelib.wait_event("update", "fake1")
    assert (plain["lifetime"], plain["links"]) == ("60", "")
    assert (await fake.update(lifetime=30, links="</3/0>,</3303/0>")).code == Code.CHANGED
    changed = await nodelib.wait_event("update", "fake1")
    assert (changed["lifetime"], changed["links"]) == ("30", "</3/0>,</3303/0>")

    assert (await fake.deregister()).code == Code.DELETED
    gone = await nodelib.wait_event("unregistration", "fake1")
    assert gone["device_id"] == plain["device_id"]
    assert await nodelib.devices() == []
    assert (await fake.update()).code == Code.NOT_FOUND  # the device must register again


async def test_a_registration_expires_after_its_lifetime(
    nodelib: NodeLibServer, fake: FakeClient
) -> None:
    await registered(nodelib, fake, lifetime=1)

    await nodelib.wait_event("expiration", "fake1", timeout=5)
    assert await nodelib.devices() == []
    assert nodelib.pending("unregistration") == []


async def test_the_driver_survives_bad_commands(nodelib: NodeLibServer) -> None:
    with pytest.raises(NodeLibError) as raised:
        await nodelib.read("nobody", "/3/0/0")
    assert (raised.value.name, raised.value.code) == ("DEVICE_NOT_FOUND", "4.04")
    with pytest.raises(NodeLibError, match="bad path"):
        await nodelib.read("nobody", "/3/0")
    with pytest.raises(NodeLibError, match="unknown op"):
        await nodelib.command("teleport", "nobody", "/3/0/0")
    process = nodelib._process
    assert process is not None and process.stdin is not None
    process.stdin.write(b"not json\n{}\n")
    await nodelib.wait_event("error", message="not JSON: not json")
    await nodelib.wait_event("error")
    assert await nodelib.devices() == []  # still answering


async def test_the_server_listens_on_loopback_only(nodelib: NodeLibServer) -> None:
    port = f":{nodelib.port:04X}"
    assert nodelib._process is not None
    # the node process's own sockets (another test beside this one may bind the same port
    # number on another address, e.g. 127.0.0.2)
    fds = pathlib.Path(f"/proc/{nodelib._process.pid}/fd").iterdir()
    inodes = {link[8:-1] for link in map(os.readlink, fds) if link.startswith("socket:[")}
    rows = [line.split() for line in UDP_TABLE.read_text().splitlines()[1:]]
    sockets = [row[1] for row in rows if row[9] in inodes]
    assert [local for local in sockets if local.endswith(port)] == ["0100007F" + port]

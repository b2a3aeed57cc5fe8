"""Our real virtual device (``fleet.client.device.Device``) against coap-shepherd 0.2.5, an
LwM2M server in Node.js we did not write (``shepherd.py`` says how it is installed and run).

The device registers, the library reads every Object at once, then reads, writes, executes,
discovers and observes it (notifications arrive) and the device de-registers — over real UDP on
127.0.0.1. Where the library departs from the specification the test says so by name and
clause, and checks everything else:

- It cannot take an Object link with attributes (``</1>;ver=1.1``, Core TS 1.1 §6.2.1
  Register): a 1.1 device (whose core Objects always say ``ver``) is answered 2.01 and then never
  comes online. The devices of the other tests therefore speak LwM2M 1.0 with Objects at 1.0
  (no ``ver`` at all), which the library handles fully.
- It observes from a fresh socket, not from the endpoint the device registered with (RFC 7252
  §1.2: an endpoint is its address *and* port), so a device that hears only its server (our
  default, docs/security.md) never sees the Observe; with ``any_source`` it is served.
- Its Cancel Observation is a GET with ``Observe: 1``, a new token, from the server socket, not
  the observation's own token and endpoint (RFC 7641 §3.6, Core TS 1.1 §6.4.2 Cancel
  Observation): the device answers it as a Read and keeps notifying; the library drops those
  notifications without a Reset (which would end the observation, RFC 7641 §3.6).
- A Register carrying ``Q`` (queue mode, Core TS 1.1 §6.2.1) gets no response at all.
- A De-register of a location it does not know gets an empty ACK and never a response (the
  library throws) where Core TS 1.1 §6.2.3 De-register asks for 4.04 Not Found.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import (
    Deregistered,
    NotificationSent,
    ObservationEnded,
    Operation,
    Registered,
    RequestServed,
    Updated,
)
from fleet.device.layout import DeviceLayout
from tests.interop.fakes import RawPeer, raw_message
from tests.interop.recorder import WAIT, Recorder
from tests.interop.shepherd import Answer, ShepherdError, ShepherdServer

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

ENDPOINT = "fleet-shepherd-1"
TLV = 11542
BATTERY = "/3/0/9"
LAYOUT_1_0 = DeviceLayout.of({1: [0], 3: [0], 3442: [0]})
"""Server, Device and the LwM2M Test Object, all at version 1.0: no ``ver`` in the Register."""


def config_1_0(server: ShepherdServer, *, any_source: bool = False) -> DeviceConfig:
    return DeviceConfig(
        endpoint=ENDPOINT,
        server=server.uri,
        lifetime=60,
        lwm2m_version="1.0",
        layout=LAYOUT_1_0,
        any_source=any_source,
    )


async def started(config: DeviceConfig) -> tuple[Device, Recorder]:
    device = Device(config)
    recorder = Recorder()
    device.add_listener(recorder)
    await device.start()
    await asyncio.wait_for(device.registered.wait(), WAIT)
    return device, recorder


def register(mid: int, *query: str) -> Any:
    """A raw Register (POST /rd) with ``query``, for the checks a device would not make."""
    token = mid.to_bytes(2, "big")
    return raw_message(
        Type.CON, Code.POST, mid, token, uri_path=("rd",), uri_query=query, payload=b"</3/0>"
    )


async def response(peer: RawPeer) -> Any:
    """The next response the peer gets, past empty ACKs (node-coap answers separately)."""
    while True:
        message, remote = await peer.receive()
        if message.code != Code.EMPTY:
            if message.mtype == Type.CON:
                peer.send(raw_message(Type.ACK, Code.EMPTY, message.mid, b""), remote)
            return message


@pytest_asyncio.fixture
async def device(coap_shepherd: ShepherdServer) -> AsyncIterator[tuple[Device, Recorder]]:
    dev, recorder = await started(config_1_0(coap_shepherd, any_source=True))
    try:
        await coap_shepherd.wait_event("registration", ENDPOINT)
        yield dev, recorder
    finally:
        await dev.stop()


async def test_a_1_0_device_registers_and_the_library_reads_every_object(
    coap_shepherd: ShepherdServer, device: tuple[Device, Recorder]
) -> None:
    _, recorder = device
    register = await coap_shepherd.wait_event(
        "request", method="POST", payload="</1/0>,</3/0>,</3442/0>"
    )
    assert register["url"] == f"/rd?ep={ENDPOINT}&lt=60&lwm2m=1.0&b=U"
    answer = await coap_shepherd.wait_event("answer", method="POST", url=register["url"])
    assert answer["code"] == "2.01"
    registered = await recorder.first(Registered)
    assert registered.location == answer["location"]

    [listed] = await coap_shepherd.devices()
    assert listed["clientName"] == ENDPOINT
    assert (listed["version"], listed["lifetime"], listed["status"]) == ("1.0", 60, "online")
    assert listed["objList"] == {"1": ["0"], "3": ["0"], "3442": ["0"]}
    reads = [e for e in recorder.events if isinstance(e, RequestServed)]
    assert {(e.path, e.code, e.response_format) for e in reads} >= {
        ("/1", "2.05", TLV),
        ("/3", "2.05", TLV),
        ("/3442", "2.05", TLV),
    }


async def test_read_in_tlv_decoded_by_the_library(
    coap_shepherd: ShepherdServer, device: tuple[Device, Recorder]
) -> None:
    dev, _ = device

    assert await coap_shepherd.read(ENDPOINT, "/3/0/0") == Answer("2.05", dev.tree.value("/3/0/0"))
    instance = await coap_shepherd.read(ENDPOINT, "/3/0")
    assert instance.status == "2.05"
    # the library names the Device object's resources after its own definitions (lwm2m-id)
    assert instance.value["manuf"] == dev.tree.value("/3/0/0")
    assert instance.value["serial"] == dev.tree.value("/3/0/2")
    assert instance.value["battLevel"] == dev.tree.value(BATTERY)
    assert (await coap_shepherd.read(ENDPOINT, "/1/0/1")).value == 60
    # an Object it has no definition for (3442) comes back as the hex of the TLV value
    text = await coap_shepherd.read(ENDPOINT, "/3442/0/110")
    assert bytes.fromhex(text.value).decode() == dev.tree.value("/3442/0/110")
    assert (await coap_shepherd.read(ENDPOINT, "/3/0/42")).status == "4.04"


async def test_write_execute_and_discover(
    coap_shepherd: ShepherdServer, device: tuple[Device, Recorder]
) -> None:
    dev, recorder = device

    assert (await coap_shepherd.write(ENDPOINT, "/3442/0/110", "Hello")).status == "2.04"
    assert dev.tree.value("/3442/0/110") == "Hello"
    written = await recorder.first(RequestServed, lambda e: e.operation is Operation.WRITE)
    assert written.request_format == TLV

    assert (await coap_shepherd.write(ENDPOINT, "/1/0/1", 45)).status == "2.04"
    update = await coap_shepherd.wait_event("update", ENDPOINT)
    assert update["changed"] == {"lifetime": 45}
    assert "lt=45" in (await recorder.first(Updated)).query

    assert (await coap_shepherd.execute(ENDPOINT, "/3442/0/2")).status == "2.04"  # Clear values
    assert dev.tree.value("/3442/0/110") == ""

    discovered = await coap_shepherd.discover(ENDPOINT, "/3/0")
    assert discovered.status == "2.05"
    # the library keeps each link's text up to the last ">"-free part: attributes stay glued on
    paths = {link.split(">")[0] for link in discovered.value["resrcList"]}
    assert {"/3/0/0", "/3/0/9", "/3/0/13"} <= paths


async def test_observe_then_notifications_arrive(
    coap_shepherd: ShepherdServer, device: tuple[Device, Recorder]
) -> None:
    dev, recorder = device
    dev.tree.set_value(BATTERY, 50)

    assert await coap_shepherd.observe(ENDPOINT, BATTERY) == Answer("2.05", 50)
    observed = await recorder.first(RequestServed, lambda e: e.operation is Operation.OBSERVE)
    assert observed.response_format == TLV
    for level in (60, 70):
        dev.tree.set_value(BATTERY, level)
        note = await coap_shepherd.wait_event("notification", ENDPOINT, value=level)
        assert note["path"] == "/device/0/battLevel"  # the library's names for /3/0/9


async def test_cancel_is_a_read_from_another_endpoint_and_the_device_keeps_notifying(
    coap_shepherd: ShepherdServer, device: tuple[Device, Recorder]
) -> None:
    """Departure: RFC 7641 §3.6 / Core TS 1.1 §6.4.2 Cancel Observation is a GET with
    ``Observe: 1`` and the observation's token, from the endpoint that observes; the library
    sends it from its server socket with a new token, so the device answers it as a Read. The
    library then drops the notifications that still come, and never resets them."""
    dev, recorder = device
    await coap_shepherd.observe(ENDPOINT, BATTERY)

    assert (await coap_shepherd.cancel(ENDPOINT, BATTERY)).status == "2.05"
    cancel = await recorder.first(
        RequestServed, lambda e: e.operation is Operation.CANCEL_OBSERVATION
    )
    observe = await recorder.first(RequestServed, lambda e: e.operation is Operation.OBSERVE)
    assert cancel.remote != observe.remote
    assert cancel.response_format is not None  # answered with a value, as a Read is

    dev.tree.set_value(BATTERY, 33)
    sent = await recorder.first(NotificationSent)
    assert sent.remote == observe.remote  # the observation lives on
    dev.tree.set_value(BATTERY, 34)
    await recorder.first(NotificationSent, lambda e: e is not sent)
    await coap_shepherd.devices()  # a round trip after both notifications
    assert not coap_shepherd.pending("notification", ENDPOINT)
    assert not [e for e in recorder.events if isinstance(e, ObservationEnded)]


async def test_observe_from_another_port_is_not_heard_by_a_device_that_hears_its_server() -> None:
    async with ShepherdServer(command_timeout=2.0) as server:
        dev, recorder = await started(config_1_0(server))  # any_source off: the default
        try:
            await server.wait_event("registration", ENDPOINT)
            assert (await server.read(ENDPOINT, BATTERY)).status == "2.05"  # from its server port

            with pytest.raises(ShepherdError, match="TIMEOUT"):
                await server.observe(ENDPOINT, BATTERY)
            assert not [
                e
                for e in recorder.events
                if isinstance(e, RequestServed) and e.operation is Operation.OBSERVE
            ]
        finally:
            await dev.stop()


async def test_stopping_the_device_deregisters_it(coap_shepherd: ShepherdServer) -> None:
    dev, recorder = await started(config_1_0(coap_shepherd))
    try:
        registration = await coap_shepherd.wait_event("registration", ENDPOINT)
    finally:
        await dev.stop()

    delete = await coap_shepherd.wait_event("answer", method="DELETE")
    assert (delete["url"], delete["code"]) == (registration["location"], "2.02")
    await coap_shepherd.wait_event("unregistration", ENDPOINT)
    assert (await recorder.first(Deregistered)).answered
    assert await coap_shepherd.devices() == []


async def test_a_1_1_device_announcing_object_versions_never_comes_online(
    coap_shepherd: ShepherdServer,
) -> None:
    """Departure: Core TS 1.1 §6.2.1 Register lists Objects with their ``ver`` attribute (a 1.1
    client always gives its core Objects one); the library takes ``</1>;ver=1.1`` apart at the
    wrong places and its database refuses the Object name it made up."""
    config = DeviceConfig(endpoint=ENDPOINT, server=coap_shepherd.uri, lifetime=60)
    dev, recorder = await started(config)  # the device got its 2.01
    try:
        register = await coap_shepherd.wait_event("request", method="POST")
        assert "</1>;ver=1.1" in register["payload"]
        error = await coap_shepherd.wait_event(
            "error", where=lambda e: "cannot contain a ." in e["message"]
        )
        [listed] = await coap_shepherd.devices()
        assert "1>;ver=1." in listed["objList"], error  # the Object "id" it made of the link
        assert listed["status"] == "offline"
        assert not coap_shepherd.pending("registration")
        with pytest.raises(ShepherdError, match="is offline"):
            await coap_shepherd.read(ENDPOINT, "/3/0/0")
        assert isinstance(await recorder.first(Registered), Registered)
    finally:
        await dev.stop()


async def test_a_register_with_a_parameter_it_does_not_know_gets_no_answer(
    coap_shepherd: ShepherdServer,
) -> None:
    """Departure: Core TS 1.1 §6.2.1 Register defines ``Q`` (queue mode) and ``sms``; the
    library knows only ``ep lt lwm2m b`` (and its ``mac``), meant to answer 4.00 to any other,
    but throws on the way (it looks up the endpoint of the refused parameter set): the client
    gets node-coap's empty ACK and never a response."""
    peer = await RawPeer.bind()
    try:
        peer.send(register(0x5000, "ep=q", "lt=60", "lwm2m=1.1", "Q"), coap_shepherd.address)
        ack, _ = await peer.receive()
        assert (ack.mtype, ack.code, ack.mid) == (Type.ACK, Code.EMPTY, 0x5000)
        crash = await coap_shepherd.wait_event("error", where=lambda e: "uncaught" in e["message"])
        with pytest.raises(TimeoutError):
            await peer.receive(timeout=1.0)
        assert "TypeError" in crash["message"]

        peer.send(register(0x5001, "ep=q", "lt=60", "lwm2m=1.1"), coap_shepherd.address)
        assert (await response(peer)).code == Code.CREATED
    finally:
        peer.close()


async def test_deregister_of_an_unknown_location_gets_no_answer(
    coap_shepherd: ShepherdServer,
) -> None:
    """Departure: Core TS 1.1 §6.2.3 De-register answers 4.04 Not Found for a location that is
    not registered; the library throws, and node-coap's empty ACK is all the client gets."""
    peer = await RawPeer.bind()
    try:
        message = raw_message(Type.CON, Code.DELETE, 0x4242, b"\x01\x02", uri_path=("rd", "999"))
        peer.send(message, coap_shepherd.address)
        crash = await coap_shepherd.wait_event(
            "error", where=lambda e: "clientName" in e["message"]
        )
        ack, _ = await peer.receive()  # node-coap acknowledges, promising a separate response
        assert (ack.mtype, ack.code, ack.mid) == (Type.ACK, Code.EMPTY, 0x4242)
        with pytest.raises(TimeoutError):  # which never comes
            await peer.receive(timeout=1.0)
        assert crash["message"].startswith("uncaught: TypeError")
        # the library survives it: a registration still works
        peer.send(register(0x4243, "ep=raw", "lt=60"), coap_shepherd.address)
        assert (await response(peer)).code == Code.CREATED
    finally:
        peer.close()

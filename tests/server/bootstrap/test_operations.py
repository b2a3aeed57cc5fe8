"""Each bootstrap operation sent by the embedded Bootstrap-Server to a real device, over UDP
and over DTLS-PSK (the bootstrap account's own keys; every test runs on both).

The session runs every step but Finish (a ``fail-finish`` fault), so the device waits for
Finish while the test sends single operations, checking the rules of LwM2M 1.1 Core 5.2.7.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.coap.wire import Message
from fleet.client.device import Device
from fleet.client.events import BootstrapDone
from fleet.codec import ContentFormat, decode
from fleet.model.nodes import ObjectInstance, SingleResource
from fleet.model.path import Path
from fleet.model.shipped import shipped_registry
from fleet.server.bootstrap.plan import Step, parse_discover
from fleet.server.events import EventKind
from tests.client.dtls.helpers import requires_dtls

from .helpers import Log, Pair, device_address, waiting_device

pytestmark = pytest.mark.asyncio
EP = "ops"


@pytest_asyncio.fixture(params=["udp", pytest.param("dtls", marks=requires_dtls)])
async def waiting(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Pair, Device, Log]]:
    async with waiting_device(request.param == "dtls", EP) as found:
        yield found


_address = device_address


async def test_the_device_waits_for_finish(waiting: tuple[Pair, Device, Log]) -> None:
    pair, device, _ = waiting
    assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.WAITING
    finish = [e for e in pair.events if e.kind is EventKind.BOOTSTRAP_FINISH]
    assert [(e.code, e.detail) for e in finish] == [(None, "not sent (injected fault)")]
    assert pair.bootstrap.faults.fired() == {"fail-finish": 1}


async def test_bootstrap_read_of_the_server_object(waiting: tuple[Pair, Device, Log]) -> None:
    pair, device, _ = waiting
    code, payload = await pair.bootstrap.read(EP, _address(device), "/1/0", accept=11542)
    assert code == "2.05"
    node = decode(ContentFormat.TLV, payload, Path(1, 0), shipped_registry())
    assert isinstance(node, ObjectInstance)
    assert node.resources[0] == SingleResource(0, 7) and node.resources[1] == SingleResource(1, 300)


@pytest.mark.parametrize("path", ["/0", "/0/0", "/3/0", "/"])
async def test_bootstrap_read_outside_server_and_acl_is_bad_request(
    waiting: tuple[Pair, Device, Log], path: str
) -> None:
    # 5.2.7.2 (1.1): Bootstrap-Read targets the Server or Access Control object only
    pair, device, _ = waiting
    code, payload = await pair.bootstrap.read(EP, _address(device), path)
    assert code == "4.00" and b"Server (1) or Access Control (2)" in payload


async def test_bootstrap_discover_of_root(waiting: tuple[Pair, Device, Log]) -> None:
    pair, device, _ = waiting
    code, payload = await pair.bootstrap.discover(EP, _address(device))
    assert code == "2.05" and payload.startswith(b"</>;lwm2m=1.1,")
    found = parse_discover(payload)
    assert found.lwm2m_version == "1.1" and found.bootstrap_instance == 0
    assert found.instances[0] == (0, 1) and found.instances[1] == (0,)
    server_uri = pair.server.secure_uri if device.config.bootstrap_psk else pair.server.uri
    assert f'</0/1>;ssid=7;uri="{server_uri}"'.encode() in payload


async def test_delete_root_spares_the_bootstrap_account(waiting: tuple[Pair, Device, Log]) -> None:
    # 5.2.7.5: "/" keeps the Bootstrap-Server Account and the Device object instance
    pair, device, _ = waiting
    code, _ = await pair.bootstrap.delete(EP, _address(device), "/")
    assert code == "2.02"
    assert device.tree.instances(0) == [0] and device.tree.instances(3) == [0]
    assert device.tree.instances(1) == [] and device.tree.instances(3303) == []
    code, payload = await pair.bootstrap.delete(EP, _address(device), "/0/0")
    assert code == "4.00" and b"never deleted" in payload


async def test_delete_of_instances_and_of_the_security_object(
    waiting: tuple[Pair, Device, Log],
) -> None:
    # 5.2.7.5: an instance is deleted by name; /0 deletes every Security instance but the
    # Bootstrap-Server Account's
    pair, device, _ = waiting
    address = _address(device)
    assert device.tree.instances(0) == [0, 1] and device.tree.instances(1) == [0]
    assert (await pair.bootstrap.delete(EP, address, "/1/0"))[0] == "2.02"
    assert device.tree.instances(1) == []
    assert (await pair.bootstrap.delete(EP, address, "/3303/0"))[0] == "2.02"
    assert device.tree.instances(3303) == []
    assert (await pair.bootstrap.delete(EP, address, "/0"))[0] == "2.02"
    assert device.tree.instances(0) == [0] and device.tree.stored(0, 0, 1) is True
    code, payload = await pair.bootstrap.delete(EP, address, "/3/0")
    assert code == "4.00" and b"never deleted" in payload  # the Device object instance


async def test_finish_without_a_usable_account_is_not_acceptable(
    waiting: tuple[Pair, Device, Log],
) -> None:
    # 5.2.7.6: the client checks the configuration; no usable server account -> 4.06
    pair, device, log = waiting
    address = _address(device)
    assert (await pair.bootstrap.delete(EP, address, "/1"))[0] == "2.02"
    code, payload = await pair.bootstrap.finish(EP, address)
    assert code == "4.06" and b"/0/1: no Server object instance with Short Server ID 7" in payload
    assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.WAITING
    # the Bootstrap-Server mends it: write the Server instance again, Finish is accepted
    server = ObjectInstance(
        0, {0: SingleResource(0, 7), 1: SingleResource(1, 99), 7: SingleResource(7, "U")}
    )
    step = Step(Path(1, 0), server, ContentFormat.SENML_CBOR)
    assert (await pair.bootstrap.write(EP, address, step))[0] == "2.04"
    registered = pair.server.expect(EventKind.REGISTRATION, endpoint=EP)
    assert (await pair.bootstrap.finish(EP, address))[0] == "2.04"
    event = await asyncio.wait_for(registered, 10)
    assert event.registration is not None and event.registration.lifetime == 99
    await asyncio.wait_for(device.registered.wait(), 10)
    assert len(log.of(BootstrapDone)) == 1


@pytest.mark.parametrize(
    ("path", "fmt", "payload", "code"),
    [
        ("/0/1/10", ContentFormat.TEXT, b"9", "2.04"),  # a resource no server may write
        ("/0/5", ContentFormat.TEXT, b"x", "4.15"),  # text cannot carry an instance
        ("/0/1/99", ContentFormat.TEXT, b"1", "4.04"),  # no such resource
        ("/0/1/1", ContentFormat.TEXT, b"maybe", "4.00"),  # not a boolean
    ],
)
async def test_bootstrap_write_checks_values_not_access(
    waiting: tuple[Pair, Device, Log], path: str, fmt: ContentFormat, payload: bytes, code: str
) -> None:
    pair, device, _ = waiting
    message = Message(code=3, uri_path=tuple(p for p in path.split("/") if p), payload=payload)
    message.opt.content_format = int(fmt)
    got, _ = await pair.bootstrap.request(
        EP, _address(device), EventKind.BOOTSTRAP_WRITE, path, message
    )
    assert got == code


async def test_a_bootstrap_write_creates_the_instance_it_names(
    waiting: tuple[Pair, Device, Log],
) -> None:
    pair, device, _ = waiting
    instance = ObjectInstance(
        5, {0: SingleResource(0, "coap://127.0.0.1:1"), 10: SingleResource(10, 9)}
    )
    step = Step(Path(0, 5), instance, ContentFormat.TLV)
    assert (await pair.bootstrap.write(EP, _address(device), step))[0] == "2.04"
    assert device.tree.stored(0, 5, 0) == "coap://127.0.0.1:1"
    assert device.tree.stored(0, 5, 10) == 9


@pytest.mark.parametrize("transport", ["udp", pytest.param("dtls", marks=requires_dtls)])
async def test_bootstrap_read_on_a_1_0_device_is_method_not_allowed(transport: str) -> None:
    # LwM2M 1.0 Core 5.2.7 (the Bootstrap Interface's operations: Request, Finish, Write,
    # Delete, Discover) has no Bootstrap-Read; it arrives in 1.1 (5.2.7.2). A 1.0 client has
    # no such operation on /1, so a GET without Accept link-format there is 4.05.
    async with waiting_device(transport == "dtls", "old", lwm2m_version="1.0") as found:
        pair, device, _ = found
        code, payload = await pair.bootstrap.read("old", device_address(device), "/1/0")
        assert code == "4.05" and b"LwM2M 1.1 operation" in payload
        # Bootstrap-Discover is a 1.0 operation and answers, naming the device's version
        code, payload = await pair.bootstrap.discover("old", device_address(device))
        assert code == "2.05" and payload.startswith(b"</>;lwm2m=1.0,") and b"</1/0>" in payload
        # and the 1.0 device finishes its bootstrap and registers as 1.0
        registered = pair.server.expect(EventKind.REGISTRATION, endpoint="old")
        assert (await pair.bootstrap.finish("old", device_address(device)))[0] == "2.04"
        event = await asyncio.wait_for(registered, 10)
        assert event.registration is not None and event.registration.lwm2m_version == "1.0"


async def test_bootstrap_read_of_access_control_is_allowed(
    waiting: tuple[Pair, Device, Log],
) -> None:
    # 5.2.7.2 (1.1): /2 may be read; this layout has no /2, so the read is 4.04, not 4.00
    pair, device, _ = waiting
    code, _ = await pair.bootstrap.read(EP, _address(device), "/2")
    assert code == "4.04"
    code, payload = await pair.bootstrap.read(EP, _address(device), "/1", accept=112)
    assert code == "2.05" and payload

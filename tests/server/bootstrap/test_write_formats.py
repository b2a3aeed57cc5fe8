"""Bootstrap-Write in every format the device reads, at every level, end to end.

LwM2M 1.1 Core 5.2.7.4: a Bootstrap-Write may target an object, an object instance, a
resource or (1.1) a resource instance, and is not subject to access control (it writes the
Security object /0, which no LwM2M server may). The device decodes TLV (11542), SenML JSON
(110), SenML CBOR (112) and LwM2M JSON (11543) as a 1.1 client and LwM2M CBOR (11544,
Core 1.2 7.4.6) as a 1.2 client; text (0) carries a single value. Each case runs over plain
UDP and over the bootstrap account's DTLS-PSK session, and ends with Finish and a Register
that shows what was written.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.bootstrap.rules import server_accounts
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.codec import ContentFormat
from fleet.model.nodes import MultiResource, ResourceInstance, SingleResource
from fleet.model.path import Path
from fleet.server.bootstrap.plan import Step
from fleet.server.events import EventKind
from tests.client.dtls.helpers import requires_dtls

from .helpers import BOOTSTRAP_PSK, bootstrap_pair, device_address, waiting_device

pytestmark = pytest.mark.asyncio

TRANSPORTS = ["udp", pytest.param("dtls", marks=requires_dtls)]
# (format, the LwM2M version of a device that reads it)
FORMATS = [
    (ContentFormat.TLV, "1.1"),
    (ContentFormat.SENML_CBOR, "1.1"),
    (ContentFormat.SENML_JSON, "1.1"),
    (ContentFormat.LWM2M_JSON, "1.1"),
    (ContentFormat.LWM2M_CBOR, "1.2"),
]
CIPHERSUITE = 16  # /0/x/16 DTLS/TLS Ciphersuite: the Security object's multiple resource
CCM_8, GCM = 0xC0A8, 0x00A8  # TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_GCM_SHA256


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("fmt", "version"), FORMATS, ids=lambda v: getattr(v, "name", v))
async def test_resource_and_resource_instance_writes_reach_the_registration(
    transport: str, fmt: ContentFormat, version: str
) -> None:
    endpoint = f"res-{int(fmt)}"
    async with waiting_device(transport == "dtls", endpoint, lwm2m_version=version) as found:
        pair, device, _ = found
        address = device_address(device)
        (security,) = [i for i in device.tree.instances(0) if i != 0]  # the written account
        writes = [
            # a single resource: the lifetime the Register will carry
            Step(Path(1, 0, 1), SingleResource(1, 4321), fmt),
            # a multiple resource whole (resource level), then one of its instances
            Step(
                Path(0, security, CIPHERSUITE),
                MultiResource(CIPHERSUITE, {0: CCM_8, 1: GCM}),
                fmt,
            ),
            Step(Path(0, security, CIPHERSUITE, 1), ResourceInstance(1, CCM_8 + 1), fmt),
            Step(Path(0, security, CIPHERSUITE, 5), ResourceInstance(5, GCM), fmt),
        ]
        for step in writes:
            code, payload = await pair.bootstrap.write(endpoint, address, step)
            assert code == "2.04", (str(step.path), payload)
        assert device.tree.stored(1, 0, 1) == 4321
        # the resource-level write replaced the instances, the instance-level ones added to it
        assert device.tree.stored(0, security, CIPHERSUITE) == {0: CCM_8, 1: CCM_8 + 1, 5: GCM}
        registered = pair.server.expect(EventKind.REGISTRATION, endpoint=endpoint)
        assert (await pair.bootstrap.finish(endpoint, address))[0] == "2.04"
        event = await asyncio.wait_for(registered, 10)
        assert event.registration is not None and event.registration.lifetime == 4321


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_text_writes_single_values_and_resource_instances(transport: str) -> None:
    async with waiting_device(transport == "dtls", "text") as (pair, device, _):
        address = device_address(device)
        (security,) = [i for i in device.tree.instances(0) if i != 0]
        text = ContentFormat.TEXT
        for step in (
            Step(Path(1, 0, 1), SingleResource(1, 765), text),
            Step(Path(0, security, CIPHERSUITE, 3), ResourceInstance(3, CCM_8), text),
        ):
            assert (await pair.bootstrap.write("text", address, step))[0] == "2.04"
        assert device.tree.stored(0, security, CIPHERSUITE) == {3: CCM_8}
        # text cannot carry a whole multiple resource (Core 7.3: single values only)
        multi = Step(Path(0, security, CIPHERSUITE), MultiResource(CIPHERSUITE, {0: 1}), text)
        message = pair.bootstrap._write_message(
            Step(Path(0, security, CIPHERSUITE, 0), ResourceInstance(0, 1), text)
        )
        message.opt.uri_path = tuple(str(i) for i in multi.path)
        code, _ = await pair.bootstrap.request(
            "text", address, EventKind.BOOTSTRAP_WRITE, str(multi.path), message
        )
        assert code == "4.15"
        registered = pair.server.expect(EventKind.REGISTRATION, endpoint="text")
        assert (await pair.bootstrap.finish("text", address))[0] == "2.04"
        event = await asyncio.wait_for(registered, 10)
        assert event.registration is not None and event.registration.lifetime == 765


async def test_lwm2m_cbor_is_refused_by_a_1_1_device() -> None:
    # LwM2M CBOR is a 1.2 format (Core 1.2 7.4.6): a 1.1 client answers 4.15
    async with waiting_device(False, "old-cbor") as (pair, device, _):
        step = Step(Path(1, 0, 1), SingleResource(1, 10), ContentFormat.LWM2M_CBOR)
        code, _ = await pair.bootstrap.write("old-cbor", device_address(device), step)
        assert code == "4.15"
        assert device.tree.stored(1, 0, 1) == 300


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("level", ["instance", "object"])
@pytest.mark.parametrize(("fmt", "version"), FORMATS, ids=lambda v: getattr(v, "name", v))
async def test_a_whole_session_in_each_format_and_level(
    transport: str, level: str, fmt: ContentFormat, version: str
) -> None:
    secure = transport == "dtls"
    endpoint = f"{level}-{int(fmt)}"
    async with bootstrap_pair(secure=secure, content_format=fmt, level=level) as pair:
        uri = pair.bootstrap.secure_uri if secure else pair.bootstrap.uri
        assert uri is not None
        psk = BOOTSTRAP_PSK.credentials(0, endpoint) if secure else None
        device = Device(
            DeviceConfig(endpoint, bootstrap=uri, bootstrap_psk=psk, lwm2m_version=version)
        )
        await device.start()
        try:
            registration = await pair.server.wait_for_registration(endpoint, 10)
            assert registration.lifetime == 300 and registration.lwm2m_version == version
            written = [p for kind, p, _ in pair.steps(endpoint) if kind == "bootstrap-write"]
            assert written == (["/0", "/1"] if level == "object" else ["/0/1", "/1/0"])
            assert {code for kind, _, code in pair.steps(endpoint)} == {"2.04", "2.05", "2.02"}
            (account,), _ = server_accounts(device.tree)
            wanted = pair.server.secure_uri if secure else pair.server.uri
            assert account.uri == wanted and account.short_server_id == 7
        finally:
            await device.stop()

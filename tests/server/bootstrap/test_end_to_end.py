"""Acceptance: devices bootstrap from the embedded Bootstrap-Server, then register where told.

Over plain CoAP and over DTLS-PSK (bootstrap account and written server account each with
their own keys), the devices end up registered at a second embedded server on another port
with the lifetime, binding and keys the Bootstrap-Server wrote (LwM2M 1.1 Core 6.1, 5.2.7).
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.bootstrap.rules import SecurityMode, server_accounts
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapDone, Registered
from fleet.client.registration import RegistrationState
from fleet.codec import ContentFormat
from fleet.server.events import EventKind
from tests.client.dtls.helpers import requires_dtls

from .helpers import BOOTSTRAP_PSK, SERVER_PSK, Log, bootstrap_pair

pytestmark = pytest.mark.asyncio

ORDER = [
    ("bootstrap-request", "/bs", "2.04"),
    ("bootstrap-discover", "/", "2.05"),
    ("bootstrap-delete", "/0", "2.02"),
    ("bootstrap-delete", "/1", "2.02"),
    ("bootstrap-write", "/0/1", "2.04"),
    ("bootstrap-write", "/1/0", "2.04"),
    ("bootstrap-finish", "/bs", "2.04"),
]


async def test_devices_bootstrap_then_register_at_the_written_server() -> None:
    count = 20
    async with bootstrap_pair(lifetime=321, binding="UQ") as pair:
        log = Log()
        devices = [
            log.watch(Device(DeviceConfig(f"bs-{i:02d}", bootstrap=pair.bootstrap.uri)))
            for i in range(count)
        ]
        await asyncio.gather(*(d.start() for d in devices))
        registrations = await asyncio.gather(
            *(pair.server.wait_for_registration(d.name, 10) for d in devices)
        )
        await pair.bootstrap.wait_for_sessions()  # the last Finish answers reach the server
        try:
            for device, registration in zip(devices, registrations, strict=True):
                assert registration.lifetime == 321 and registration.queue_mode
                assert pair.steps(device.name) == ORDER
                assert device.account is not None and device.account.short_server_id == 7
                assert device.server_address == pair.server.address
                assert device.bootstrap is not None
                assert device.bootstrap.state is BootstrapState.DONE
                # the bootstrap account survived the Delete of /0 (5.2.7.5)
                assert device.tree.stored(0, 0, 1) is True
            assert pair.bootstrap.counters["finished"] == count
            done = log.of(BootstrapDone)
            assert len(done) == count and {e.server for e in done} == {pair.server.uri}
            assert all(e.duration is not None and e.duration >= 0 for e in done)
        finally:
            await asyncio.gather(*(d.stop() for d in devices))


@requires_dtls
async def test_psk_bootstrap_writes_a_psk_server_account() -> None:
    async with bootstrap_pair(secure=True) as pair:
        secure_uri = pair.bootstrap.secure_uri
        assert secure_uri is not None
        devices = [
            Device(
                DeviceConfig(
                    name,
                    bootstrap=secure_uri,
                    bootstrap_psk=BOOTSTRAP_PSK.credentials(0, name),
                )
            )
            for name in ("dtls-a", "dtls-b", "dtls-c")
        ]
        await asyncio.gather(*(d.start() for d in devices))
        try:
            for device in devices:
                registration = await pair.server.wait_for_registration(device.name, 10)
                assert registration.lifetime == 300
                # the written account's identity, not the bootstrap one, opened this session
                assert pair.server.psk_identity(device.name) == device.name.encode()
                account = device.account
                assert account is not None and account.mode is SecurityMode.PRE_SHARED_KEY
                assert account.psk == SERVER_PSK.credentials(0, device.name)
        finally:
            await asyncio.gather(*(d.stop() for d in devices))
        for device in devices:
            assert pair.steps(device.name) == ORDER


@requires_dtls
async def test_a_plain_bootstrap_request_is_unauthorized_when_a_psk_is_configured() -> None:
    async with bootstrap_pair(secure=True) as pair:
        log = Log()
        device = log.watch(Device(DeviceConfig("plain", bootstrap=pair.bootstrap.uri)))
        failed = asyncio.get_running_loop().create_future()
        device.add_listener(
            lambda e: failed.done() or type(e).__name__ != "BootstrapFailed" or failed.set_result(e)
        )
        await device.start()
        try:
            event = await asyncio.wait_for(failed, 5)
            assert event.step == "Bootstrap-Request" and event.reason == "answered 4.01"
            assert event.retry_in == 60.0  # the back-off's first retry timer
            assert pair.steps("plain") == [("bootstrap-request", "/bs", "4.01")]
        finally:
            await device.stop()


@pytest.mark.parametrize(
    ("fmt", "level", "writes"),
    [
        ("senml-cbor", "instance", ["/0/1", "/1/0"]),
        ("tlv", "object", ["/0", "/1"]),
        ("senml-json", "object", ["/0", "/1"]),
    ],
)
async def test_writes_in_every_format_and_level_the_device_reads(
    fmt: str, level: str, writes: list[str]
) -> None:
    formats = {"senml-cbor": ContentFormat.SENML_CBOR, "tlv": ContentFormat.TLV}
    formats["senml-json"] = ContentFormat.SENML_JSON
    async with bootstrap_pair(content_format=formats[fmt], level=level) as pair:
        device = Device(DeviceConfig("fmt", bootstrap=pair.bootstrap.uri))
        await device.start()
        try:
            registration = await pair.server.wait_for_registration("fmt", 10)
            assert registration.lifetime == 300
            written = [p for kind, p, _ in pair.steps("fmt") if kind == "bootstrap-write"]
            assert written == writes
            (account,), _ = server_accounts(device.tree)
            assert account.uri == pair.server.uri
        finally:
            await device.stop()


@pytest.mark.parametrize("transport", ["udp", pytest.param("dtls", marks=requires_dtls)])
async def test_a_reboot_registers_with_the_bootstrapped_server_without_bootstrapping(
    transport: str,
) -> None:
    secure = transport == "dtls"
    async with bootstrap_pair(secure=secure) as pair:
        log = Log()
        uri = pair.bootstrap.secure_uri if secure else pair.bootstrap.uri
        assert uri is not None
        psk = BOOTSTRAP_PSK.credentials(0, "reboots") if secure else None
        device = log.watch(Device(DeviceConfig("reboots", bootstrap=uri, bootstrap_psk=psk)))
        await device.start()
        try:
            await pair.server.wait_for_registration("reboots", 10)
            await asyncio.wait_for(device.registered.wait(), 10)
            registered = pair.server.expect(EventKind.REGISTRATION, endpoint="reboots")
            await device.reboot(0)
            await asyncio.wait_for(registered, 10)
            await asyncio.wait_for(device.registered.wait(), 10)
            assert pair.bootstrap.counters["requests"] == 1
            assert len(log.of(Registered)) == 2
            assert device.state is RegistrationState.REGISTERED
        finally:
            await device.stop()


async def test_a_device_that_forgets_bootstraps_again_after_a_reboot() -> None:
    async with bootstrap_pair() as pair:
        config = DeviceConfig("forgets", bootstrap=pair.bootstrap.uri, bootstrap_forget=True)
        device = Device(config)
        await device.start()
        try:
            await pair.server.wait_for_registration("forgets", 10)
            await asyncio.wait_for(device.registered.wait(), 10)
            finished = pair.bootstrap.expect_finish("forgets")
            await device.reboot(0)
            await asyncio.wait_for(finished, 10)
            await asyncio.wait_for(device.registered.wait(), 10)
            assert pair.bootstrap.counters["requests"] == 2
            assert device.tree.stored(0, 0, 1) is True  # only the bootstrap account was kept
        finally:
            await device.stop()

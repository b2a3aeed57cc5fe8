"""A device's Object 5 against the embedded server: pull over coap:// Block2, push in Block1
blocks, Execute Update, the reboot with the new firmware version, resets and refusals."""

from __future__ import annotations

import pytest

from fleet.client.device import Device
from fleet.client.events import Registered
from fleet.client.firmware.events import FirmwareDownloaded, FirmwareUpdated
from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.clock import ManualClock
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer
from fleet.server.campaign.files import FileServer

from .conftest import WAIT, DeviceFactory, EventLog, within

pytestmark = pytest.mark.asyncio

IMAGE = bytes(range(256)) * 40  # 10 KiB
PACKAGE = build_package(IMAGE, name="fleet-fw", version="2.0.0")


def state(device: Device) -> tuple[object, object]:
    return device.tree.value("/5/0/3"), device.tree.value("/5/0/5")


async def test_pull_execute_update_and_reboot_with_new_version(
    clock: ManualClock, server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    device = await make_device(firmware=FirmwareSettings(update_duration=3.0))
    log = EventLog(device)
    uri = files.add("fw.bin", PACKAGE)
    assert (await server.write("fw1", "/5/0/1", uri)).code == "2.04"
    assert device.tree.value("/5/0/1") == uri
    done = await log.next(FirmwareDownloaded)
    assert (done.result, done.size, done.pushed) == (0, len(PACKAGE), False)
    assert state(device) == (2, 0)
    assert files.blocks_served == -(-len(PACKAGE) // 1024)
    assert (await server.execute("fw1", "/5/0/2")).code == "2.04"
    assert state(device) == (3, 0)
    await clock.advance(3.0)
    updated = await log.next(FirmwareUpdated)
    assert (updated.result, updated.version) == (1, "2.0.0")
    await clock.advance(device.config.reboot_delay)
    await log.next(Registered)
    await server.wait_for_registration("fw1", timeout=WAIT, hooks=True)
    assert state(device) == (0, 1)
    assert (await server.read("fw1", "/3/0/3")).value == "2.0.0"
    assert (await server.read("fw1", "/5/0/7")).value == "2.0.0"
    assert (await server.read("fw1", "/5/0/6")).value == "fleet-fw"
    record = server.device("fw1")
    assert record is not None and record.info.firmware_version == "2.0.0"


async def test_push_in_block1_blocks(server: Lwm2mServer, make_device: DeviceFactory) -> None:
    device = await make_device(firmware=FirmwareSettings(max_push=64 * 1024))
    log = EventLog(device)
    coap = server._coap()
    registration = server.registration("fw1")
    assert registration is not None
    from fleet.client.coap.wire import Message

    message = Message(code=3, payload=PACKAGE)
    message.opt.uri_path = ("5", "0", "0")
    message.opt.content_format = 42
    response = await within(coap.request(message, registration.address, block1=True))
    assert int(response.code) == 68  # 2.04
    done = log.of(FirmwareDownloaded)[-1]
    assert (done.result, done.pushed, done.size) == (0, True, len(PACKAGE))
    assert state(device) == (2, 0)
    assert device.firmware.package is not None and device.firmware.package.version == "2.0.0"


@pytest.mark.parametrize(
    ("uri", "result"),
    [
        ("http//nothing", 7),
        ("coap://not-an-ip/fw", 7),
        ("coaps://127.0.0.1/fw", 9),
        ("ftp://127.0.0.1/fw", 9),
    ],
)
async def test_bad_uris(
    server: Lwm2mServer, make_device: DeviceFactory, uri: str, result: int
) -> None:
    device = await make_device()
    assert (await server.write("fw1", "/5/0/1", uri)).code == "2.04"
    assert state(device) == (0, result)


async def test_missing_file_is_invalid_uri(
    server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    device = await make_device()
    log = EventLog(device)
    files.add("fw.bin", PACKAGE)
    await server.write("fw1", "/5/0/1", files.uri("other.bin"))
    assert (await log.next(FirmwareDownloaded)).result == 7
    assert state(device) == (0, 7)


async def test_execute_outside_downloaded_and_second_write_are_405(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    device = await make_device(firmware=FirmwareSettings(fault=FirmwareFault("hang")))
    assert (await server.execute("fw1", "/5/0/2")).code == "4.05"
    await server.write("fw1", "/5/0/1", "coap://127.0.0.1:9/fw")
    assert state(device) == (1, 0)  # hangs in Downloading
    assert (await server.execute("fw1", "/5/0/2")).code == "4.05"
    assert (await server.write("fw1", "/5/0/1", "coap://127.0.0.1:9/x")).code == "4.05"
    assert (await server.write("fw1", "/5/0/1", "")).code == "2.04"  # cancels
    assert state(device) == (0, 0)


@pytest.mark.parametrize(
    ("fault", "result"),
    [("integrity", 5), ("reject", 6)],
)
async def test_check_faults(
    server: Lwm2mServer,
    files: FileServer,
    make_device: DeviceFactory,
    fault: str,
    result: int,
) -> None:
    device = await make_device(firmware=FirmwareSettings(fault=FirmwareFault(fault)))
    log = EventLog(device)
    await server.write("fw1", "/5/0/1", files.add("fw.bin", PACKAGE))
    assert (await log.next(FirmwareDownloaded)).result == result
    assert state(device) == (0, result)


async def test_real_integrity_failure_storage_and_type(
    server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    broken = PACKAGE[:-1] + bytes([PACKAGE[-1] ^ 1])
    device = await make_device(
        firmware=FirmwareSettings(storage=len(PACKAGE) + 10, package_types=frozenset({"fleet"}))
    )
    log = EventLog(device)
    await server.write("fw1", "/5/0/1", files.add("broken.bin", broken))
    assert (await log.next(FirmwareDownloaded)).result == 5
    big = build_package(IMAGE * 2, name="big", version="3")
    await server.write("fw1", "/5/0/1", files.add("big.bin", big))
    assert (await log.next(FirmwareDownloaded)).result == 2
    other = build_package(IMAGE, name="x", version="3", package_type="other")
    await server.write("fw1", "/5/0/1", files.add("other.bin", other))
    assert (await log.next(FirmwareDownloaded)).result == 6
    await server.write("fw1", "/5/0/1", files.add("raw.bin", IMAGE))  # no header, no mapping
    assert (await log.next(FirmwareDownloaded)).result == 6
    assert state(device) == (0, 6)


async def test_lose_fault_ends_with_connection_lost(
    clock: ManualClock, server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    settings = FirmwareSettings(
        fault=FirmwareFault("lose", at=0.5), retries=2, retry_delay=0.0, link_speed=None
    )
    device = await make_device(firmware=settings)
    log = EventLog(device)
    await server.write("fw1", "/5/0/1", files.add("fw.bin", PACKAGE))
    done = await log.next(FirmwareDownloaded)
    assert (done.result, done.losses) == (4, 3)
    assert len(PACKAGE) // 2 <= done.size < len(PACKAGE) // 2 + 1024
    assert state(device) == (0, 4)


@pytest.mark.parametrize(
    ("size", "code", "after"), [(90 * 1024, 68, (2, 0)), (100 * 1024, 141, (0, 0))]
)
async def test_a_push_beyond_max_push_is_4_13(
    server: Lwm2mServer, make_device: DeviceFactory, size: int, code: int, after: tuple[int, int]
) -> None:
    from fleet.client.coap.wire import Message

    device = await make_device(firmware=FirmwareSettings(max_push=96 * 1024))
    package = build_package(bytes(size), name="big", version="3.0")
    registration = server.registration("fw1")
    assert registration is not None
    message = Message(code=3, payload=package)
    message.opt.uri_path = ("5", "0", "0")
    message.opt.content_format = 42
    response = await within(server._coap().request(message, registration.address, block1=True))
    assert int(response.code) == code  # 2.04 within the limit, 4.13 beyond it
    assert state(device) == after  # Downloaded, or still Idle: nothing was taken


@pytest.mark.parametrize(
    ("reboot", "deregister", "seen"),
    [
        (True, True, ["deregistration", "registration"]),
        (True, False, ["registration"]),
        (False, True, []),
    ],
    ids=["reboot-deregister", "reboot-silently", "no-reboot"],
)
async def test_the_reboot_after_update_follows_the_settings(
    clock: ManualClock,
    server: Lwm2mServer,
    files: FileServer,
    make_device: DeviceFactory,
    reboot: bool,
    deregister: bool,
    seen: list[str],
) -> None:
    settings = FirmwareSettings(
        update_duration=1.0, reboot=reboot, deregister=deregister, reboot_delay=2.0
    )
    device = await make_device("rb1", firmware=settings)
    log = EventLog(device)
    kinds: list[str] = []
    remove = server.add_listener(
        lambda event: kinds.append(str(event.kind)) if event.endpoint == "rb1" else None
    )
    try:
        assert (await server.write("rb1", "/5/0/1", files.add("fw.bin", PACKAGE))).code == "2.04"
        assert (await log.next(FirmwareDownloaded)).result == 0
        kinds.clear()
        assert (await server.execute("rb1", "/5/0/2")).code == "2.04"
        updated = log.next(FirmwareUpdated)
        await clock.advance(1.0)
        assert (await updated).result == 1
        if reboot:
            back = log.next(Registered)
            await clock.advance(2.0)
            await back
            await server.wait_for_registration("rb1", timeout=WAIT, hooks=True)
        lifecycle = [k for k in kinds if k in ("registration", "deregistration")]
        assert lifecycle == seen
        assert state(device) == (0, 1)
        assert (await server.read("rb1", "/3/0/3")).value == "2.0.0"
    finally:
        remove()

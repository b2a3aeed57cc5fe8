"""Which Package URIs a device takes: ``/5/0/8`` Firmware Update Protocol Support lists what
it can download with (0 CoAP, 1 CoAPS only with a PSK to use, 2 HTTP 1.1, 3 HTTPS 1.1); a
scheme it does not list (or has no download for) is Update Result 9 Unsupported protocol, a
URI that does not parse 7 Invalid URI (LwM2M 1.1 Object 5 definition, resource 5 and 8)."""

from __future__ import annotations

import pytest

from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.firmware.events import FirmwareDownloaded
from fleet.client.firmware.secure import download_credentials
from fleet.client.firmware.settings import FirmwareConfigError, FirmwareSettings
from fleet.client.firmware.uri import Target, parse_package_uri
from fleet.clock import ManualClock
from fleet.device.firmware.machine import UpdateResult
from fleet.server import Lwm2mServer

from .conftest import FIRMWARE_LAYOUT, DeviceFactory, EventLog

ALL = frozenset({0, 1, 2, 3})
R = UpdateResult


@pytest.mark.parametrize(
    ("uri", "supported", "expected"),
    [
        ("coap://127.0.0.1/fw", ALL, Target("coap", "127.0.0.1", 5683, ("fw",), ())),
        (
            "coaps://127.0.0.1:6000/a/b?x=1",
            ALL,
            Target("coaps", "127.0.0.1", 6000, ("a", "b"), ("x=1",)),
        ),
        ("http://localhost/fw.bin", ALL, Target("http", "127.0.0.1", 80, ("fw.bin",), ())),
        ("https://[::1]:8443/fw", ALL, Target("https", "::1", 8443, ("fw",), ())),
        ("HTTP://127.0.0.1/fw", ALL, Target("http", "127.0.0.1", 80, ("fw",), ())),
        ("coaps://127.0.0.1/fw", frozenset({0, 2, 3}), R.UNSUPPORTED_PROTOCOL),
        ("http://127.0.0.1/fw", frozenset({0}), R.UNSUPPORTED_PROTOCOL),
        ("https://127.0.0.1/fw", frozenset({0, 1, 2}), R.UNSUPPORTED_PROTOCOL),
        ("coap+tcp://127.0.0.1/fw", ALL | {4}, R.UNSUPPORTED_PROTOCOL),
        ("ftp://127.0.0.1/fw", ALL, R.UNSUPPORTED_PROTOCOL),
        ("http://[::1/fw", ALL, R.INVALID_URI),
        ("http:///fw", ALL, R.INVALID_URI),
        ("http://example.com/fw", ALL, R.INVALID_URI),
        ("http://127.0.0.1:99999/fw", ALL, R.INVALID_URI),
        ("http://user@127.0.0.1/fw", ALL, R.INVALID_URI),
        ("http://127.0.0.1/fw#part", ALL, R.INVALID_URI),
        ("not a uri", ALL, R.INVALID_URI),
    ],
)
def test_parse_package_uri(uri: str, supported: frozenset[int], expected: object) -> None:
    assert parse_package_uri(uri, supported) == expected


def test_download_credentials_fall_back_to_the_server_psk() -> None:
    given, own = PskCredentials(b"fw-files", b"file-key"), PskCredentials(b"dev-1", b"key")
    assert download_credentials(FirmwareSettings(download_psk=given), own) is given
    assert download_credentials(FirmwareSettings(), own) is own
    assert download_credentials(FirmwareSettings(), None) is None


def test_protocols_are_checked() -> None:
    with pytest.raises(FirmwareConfigError, match=r"protocols \[4\]"):
        FirmwareSettings(protocols=frozenset({0, 4}))


@pytest.mark.asyncio
async def test_5_0_8_says_what_the_device_can_download_with(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    nosec = await make_device("p1")
    read = await server.read("p1", "/5/0/8")
    assert sorted(read.values.values()) == [0, 2, 3]  # no PSK to use: no CoAPS
    with_psk = await make_device(
        "p2", firmware=FirmwareSettings(download_psk=PskCredentials(b"id", b"key"))
    )
    assert list(with_psk.tree.value("/5/0/8").values()) == [0, 1, 2, 3]  # type: ignore[union-attr]
    await make_device("p3", firmware=FirmwareSettings(protocols=frozenset({0})))
    assert list((await server.read("p3", "/5/0/8")).values.values()) == [0]
    assert nosec.tree.value("/5/0/3") == 0


def test_like_devices_with_a_narrowed_5_0_8_share_their_initial_values() -> None:
    """The protocols are part of what makes devices alike: two NoSec devices (no CoAPS)
    share one resolved copy of /5 (and of /0, /1), a device listing other protocols has its
    own, and each reads what it can download with."""
    clock = ManualClock()

    def device(name: str, settings: FirmwareSettings | None = None) -> Device:
        config = DeviceConfig(name, layout=FIRMWARE_LAYOUT, lifetime=60, firmware=settings)
        return Device(config, clock=clock)

    first, second = device("n1"), device("n2")
    http_only = device("n3", FirmwareSettings(protocols=frozenset({2})))
    assert list(first.tree.value("/5/0/8").values()) == [0, 2, 3]  # type: ignore[union-attr]
    assert list(second.tree.value("/5/0/8").values()) == [0, 2, 3]  # type: ignore[union-attr]
    assert list(http_only.tree.value("/5/0/8").values()) == [2]  # type: ignore[union-attr]
    for oid in (0, 1, 5):
        assert first.tree._objects[oid] is second.tree._objects[oid]
    assert http_only.tree._objects[5] is not first.tree._objects[5]
    first.tree.set_value("/1/0/1", 120)  # copy on write, as ever
    assert second.tree.value("/1/0/1") == 60


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "settings", "uri", "result"),
    [
        ("u1", FirmwareSettings(protocols=frozenset({0})), "http://127.0.0.1:9/fw", 9),
        ("u2", FirmwareSettings(), "coaps://127.0.0.1:9/fw", 9),  # no PSK to use
        ("u3", FirmwareSettings(), "coap+tcp://127.0.0.1:9/fw", 9),
        ("u4", FirmwareSettings(), "https://[::1/fw", 7),
    ],
)
async def test_refused_uris_end_the_download_at_once(
    server: Lwm2mServer,
    make_device: DeviceFactory,
    name: str,
    settings: FirmwareSettings,
    uri: str,
    result: int,
) -> None:
    device = await make_device(name, firmware=settings)
    log = EventLog(device)
    assert (await server.write(name, "/5/0/1", uri)).code == "2.04"
    done = await log.next(FirmwareDownloaded)
    assert (done.result, done.size) == (result, 0)
    assert (device.tree.value("/5/0/3"), device.tree.value("/5/0/5")) == (0, result)

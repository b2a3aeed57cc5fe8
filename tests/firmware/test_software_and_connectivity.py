"""Object 9 on the firmware download machinery against the embedded server and its file server,
and Object 4's generated radio values with the socket's address."""

from __future__ import annotations

import pytest

from fleet.device.firmware.package import build_package
from fleet.device.layout import DeviceLayout
from fleet.server import Lwm2mServer
from fleet.server.campaign.files import FileServer

from .conftest import DeviceFactory, within

pytestmark = pytest.mark.asyncio

LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 4: [0], 9: [0, 1]})
PACKAGE = build_package(b"app" * 3000, name="meter-app", version="1.7")


async def until_state(server: Lwm2mServer, name: str, path: str, value: object) -> None:
    handle = await server.observe(name, path)
    try:
        if handle.result is not None and handle.result.value == value:
            return
        while (await within(handle.next())).value != value:
            pass
    finally:
        handle.cancel_by_reset()


async def test_software_install_activate_uninstall(
    server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    device = await make_device("sw1", layout=LAYOUT)
    uri = files.add("app.pkg", PACKAGE)
    assert (await server.execute("sw1", "/9/0/4")).code == "4.05"
    watch = until_state(server, "sw1", "/9/0/7", 3)
    assert (await server.write("sw1", "/9/0/3", uri)).code == "2.04"
    await watch
    assert device.tree.value("/9/0/9") == 3
    assert (await server.execute("sw1", "/9/0/10")).code == "4.05"  # not installed yet
    assert (await server.execute("sw1", "/9/0/4")).code == "2.04"
    assert (await server.read("sw1", "/9/0/0")).value == "meter-app"
    assert (await server.read("sw1", "/9/0/1")).value == "1.7"
    assert (await server.read("sw1", "/9/0/7")).value == 4
    assert (await server.execute("sw1", "/9/0/10")).code == "2.04"
    assert (await server.read("sw1", "/9/0/12")).value is True
    assert (await server.execute("sw1", "/9/0/11")).code == "2.04"
    assert (await server.read("sw1", "/9/0/12")).value is False
    assert (await server.execute("sw1", "/9/0/6")).code == "2.04"
    assert (await server.read("sw1", "/9/0/7")).value == 0


@pytest.mark.parametrize(
    ("uri_of", "result"),
    [
        (lambda files: files.uri("missing"), 56),
        (lambda files: "coaps://127.0.0.1/x", 57),
        (lambda files: files.add("bad.pkg", PACKAGE[:-1] + b"?"), 53),
    ],
)
async def test_software_download_failures(
    server: Lwm2mServer, files: FileServer, make_device: DeviceFactory, uri_of: object, result: int
) -> None:
    device = await make_device("sw2", layout=LAYOUT)
    files.add("app.pkg", PACKAGE)
    watch = until_state(server, "sw2", "/9/1/9", result)
    assert (await server.write("sw2", "/9/1/3", uri_of(files))).code == "2.04"  # type: ignore[operator]
    await watch
    assert device.tree.value("/9/1/7") == 0


async def test_connectivity_values(server: Lwm2mServer, make_device: DeviceFactory) -> None:
    one = await make_device("c1", layout=LAYOUT)
    two = await make_device("c2", layout=LAYOUT)
    assert one.address is not None
    assert one.tree.value("/4/0/4") == {0: one.address[0]}
    read = await server.read("c1", "/4/0/4")
    assert list(read.values.values()) == [one.address[0]]
    signals = [(await server.read("c1", "/4/0/2")).value for _ in range(10)]
    assert all(isinstance(s, int) and -113 <= s <= -57 for s in signals)
    quality = (await server.read("c1", "/4/0/3")).value
    assert isinstance(quality, int) and 0 <= quality <= 34
    cell = one.tree.value("/4/0/8")
    assert cell == one.tree.value("/4/0/8") and isinstance(cell, int) and cell > 0
    assert (await server.read("c1", "/4/0/0")).value in (6, 7)  # LTE-FDD or NB-IoT
    assert two.tree.value("/4/0/8") != cell  # each device its own cell (test_connectivity.py)

"""The console's FOTA and FOTA-STATUS commands against real devices with Object 5."""

from __future__ import annotations

import pathlib

import pytest

from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.device.firmware.package import build_package
from fleet.device.layout import DeviceLayout
from fleet.server.platform.console import Console

from .conftest import DeviceFactory, Recorder

pytestmark = pytest.mark.asyncio

LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 5: [0], 6: [0]})
SOUND = FirmwareSettings(update_duration=0.0, reboot_delay=0.05)
IMAGE = bytes(range(256)) * 12


def said_dicts(recorder: Recorder) -> list[dict[str, object]]:
    return [s for s in recorder.said if isinstance(s, dict)]


@pytest.mark.parametrize("push", [False, True])
async def test_fota_all_devices_then_status(
    console: Console,
    recorder: Recorder,
    make_device: DeviceFactory,
    tmp_path: pathlib.Path,
    push: bool,
) -> None:
    good = await make_device("fw-a", layout=LAYOUT, firmware=SOUND)
    bad = await make_device(
        "fw-b", layout=LAYOUT, firmware=FirmwareSettings(fault=FirmwareFault("integrity"))
    )
    image = tmp_path / "app.bin"
    image.write_bytes(build_package(IMAGE, name="app", version="3.1.0"))
    await console.run_line(f"FOTA * {image}" + (" --push" if push else ""))
    started = said_dicts(recorder)[-1]
    assert started["started"] == 2 and started["version"] == "3.1.0"
    assert started["mode"] == ("push" if push else "pull")
    assert (started["uri"] is None) == push
    await console.run_line("FOTA-STATUS --wait")
    status = said_dicts(recorder)[-1]
    assert status["outcomes"] == {"updated": 1, "failed": 1}
    assert status["update_results"] == {"1": 1, "5": 1}
    assert status["completion"] == 1.0
    assert good.tree.value("/3/0/3") == "3.1.0" and bad.tree.value("/3/0/3") == "1.0.0"
    await console.run_line("FOTA-STATUS fw-b")
    assert said_dicts(recorder)[-1]["result"] == 5
    await console.run_line("INFO fw-a")
    info = said_dicts(recorder)[-1]["deviceInfo"]
    assert isinstance(info, dict) and info["fwVersion"] == "3.1.0"
    registrations = [m for m in recorder.of_type("registration") if "fw-a" in str(m)]
    assert len(registrations) >= 2  # the first Register and the one after the reboot


async def test_a_raw_file_is_wrapped_with_version(
    console: Console, recorder: Recorder, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    device = await make_device("fw-a", layout=LAYOUT, firmware=SOUND)
    raw = tmp_path / "vendor.img"
    raw.write_bytes(IMAGE)
    await console.run_line(f"FOTA fw-a {raw} --version 9.9")
    await console.run_line("FOTA-STATUS --wait")
    assert said_dicts(recorder)[-1]["outcomes"] == {"updated": 1}
    assert device.tree.value("/5/0/6") == "vendor.img"
    assert device.tree.value("/3/0/3") == "9.9"


async def test_fota_mistakes(
    console: Console, recorder: Recorder, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    await make_device("fw-a", layout=LAYOUT)
    await console.run_line("FOTA-STATUS")
    await console.run_line("FOTA fw-a")
    await console.run_line(f"FOTA fw-a {tmp_path / 'missing.bin'}")
    (tmp_path / "x.bin").write_bytes(b"x")
    await console.run_line(f"FOTA nobody {tmp_path / 'x.bin'}")
    await console.run_line(f"FOTA fw-a {tmp_path / 'x.bin'} --version")
    texts = [s for s in recorder.said if isinstance(s, str)]
    assert texts[0] == "FOTA-STATUS: no campaign yet"
    assert texts[1].startswith("FOTA ENDPOINT|* FILE")
    assert texts[2].startswith("FOTA: cannot read") and "missing.bin" in texts[2]
    assert texts[3] == "FOTA: nobody is not registered"
    assert texts[4].startswith("FOTA ENDPOINT|* FILE")


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("--uri", "ENDPOINT|* FILE [--push | --uri URI]"),
        ("--uri http://example.com/fw", "is not a URI a device can download from"),
        ("--uri coap:///fw", "is not a URI a device can download from"),
        ("--uri ftp://127.0.0.1/fw", "devices download over coap, coaps, http or https only"),
        ("--uri coap://127.0.0.1/fw --push", "it cannot go with --push"),
    ],
)
async def test_fota_refuses_a_uri_no_device_could_use(
    console: Console,
    recorder: Recorder,
    make_device: DeviceFactory,
    tmp_path: pathlib.Path,
    words: str,
    said: str,
) -> None:
    device = await make_device("fw-a", layout=LAYOUT)
    image = tmp_path / "app.bin"
    image.write_bytes(build_package(IMAGE, name="app", version="3.1.0"))
    await console.run_line(f"FOTA fw-a {image} {words}")
    await console.run_line(f"SOTA fw-a {image} {words}")
    texts = [s for s in recorder.said if isinstance(s, str)]
    assert len(texts) == 2 and all(said in text for text in texts), texts
    assert not said_dicts(recorder)  # no campaign started
    assert device.tree.value("/5/0/3") == 0

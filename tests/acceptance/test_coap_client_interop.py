"""Interop: libcoap's ``coap-client-notls`` (software we did not write) talks straight to a
running Device's socket with GET/PUT/POST, Accept (``-A``) and Content-Format (``-t``), and the
codes and payloads it gets are checked (binary payloads captured with ``-o FILE``).

PUT with Content-Format opaque (42) onto a String resource: LwM2M allows opaque only for
Opaque resources (Core 1.1 §7.4.2), so the device answers 4.15 and keeps its value.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path as FsPath

import pytest

from fleet.client.device import Device
from fleet.codec import ContentFormat, decode, parse_links
from fleet.model import Path, flatten
from fleet.server import Lwm2mServer

from .conftest import DeviceFactory

CLIENT = shutil.which("coap-client-notls")

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.interop,
    pytest.mark.skipif(
        CLIENT is None,
        reason="coap-client-notls not on PATH: run scripts/install-tools.sh (Debian libcoap3-bin)",
    ),
]
RUN_TIMEOUT = 20.0
# coap-client talks to the devices from its own port: they are made with any_source=True
# (by default a device ignores every address but its server's)
CODE = re.compile(r"c:(\d\.\d\d)")


async def coap(
    device: Device, method: str, path: str, *args: str, out: FsPath | None = None
) -> tuple[str, bytes]:
    """Run coap-client-notls against ``device``: ``(response code, payload)``."""
    assert CLIENT is not None and device.address is not None
    host, port = device.address
    extra = ["-o", str(out)] if out is not None else []
    process = await asyncio.create_subprocess_exec(
        CLIENT,
        "-v",
        "6",
        "-B",
        "5",
        "-m",
        method,
        *args,
        *extra,
        f"coap://{host}:{port}{path}",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    codes = CODE.findall(stdout.decode(errors="replace") + stderr.decode(errors="replace"))
    answers = [c for c in codes if c[0] in "2345"]
    assert answers, (stdout, stderr)
    payload = out.read_bytes() if out is not None and out.exists() else b""
    return answers[-1], payload


def tree_values(device: Device, path: str) -> dict[Path, object]:
    target = Path.parse(path)
    return dict(flatten(device.tree.read(target), target))


async def test_get_resource_as_text(make_device: DeviceFactory, tmp_path: FsPath) -> None:
    device = await make_device(any_source=True)
    code, payload = await coap(device, "get", "/3/0/0", out=tmp_path / "o")
    assert (code, payload) == ("2.05", str(device.tree.value(Path(3, 0, 0))).encode())
    code, payload = await coap(device, "get", "/3/0/0", "-A", "0", out=tmp_path / "t")
    assert (code, payload) == ("2.05", b"lwm2m-fleet")


@pytest.mark.parametrize("fmt", [ContentFormat.TLV, ContentFormat.SENML_CBOR])
async def test_get_instance_binary(
    make_device: DeviceFactory, server: Lwm2mServer, tmp_path: FsPath, fmt: ContentFormat
) -> None:
    device = await make_device(any_source=True)
    code, payload = await coap(device, "get", "/3/0", "-A", str(int(fmt)), out=tmp_path / "o")
    assert code == "2.05"
    node = decode(fmt, payload, Path(3, 0), device.models)
    assert dict(flatten(node, Path(3, 0))) == tree_values(device, "/3/0")


async def test_get_instance_senml_json(make_device: DeviceFactory, tmp_path: FsPath) -> None:
    device = await make_device(any_source=True)
    code, payload = await coap(device, "get", "/3303/0", "-A", "110", out=tmp_path / "o")
    assert code == "2.05"
    records = json.loads(payload)
    assert isinstance(records, list) and records
    node = decode(ContentFormat.SENML_JSON, payload, Path(3303, 0), device.models)
    assert dict(flatten(node, Path(3303, 0))) == tree_values(device, "/3303/0")


async def test_discover_with_accept_link_format(
    make_device: DeviceFactory, tmp_path: FsPath
) -> None:
    device = await make_device(any_source=True)
    code, payload = await coap(device, "get", "/3303/0", "-A", "40", out=tmp_path / "o")
    assert code == "2.05"
    targets = {link.target for link in parse_links(payload)}
    assert {"/3303/0", "/3303/0/5700", "/3303/0/5602"} <= targets


async def test_put_text_then_get_it_back(make_device: DeviceFactory, tmp_path: FsPath) -> None:
    device = await make_device(any_source=True)
    code, _ = await coap(device, "put", "/3442/0/110", "-t", "0", "-e", "from libcoap")
    assert code == "2.04"
    assert device.tree.value(Path(3442, 0, 110)) == "from libcoap"
    code, payload = await coap(device, "get", "/3442/0/110", out=tmp_path / "o")
    assert (code, payload) == ("2.05", b"from libcoap")


async def test_post_execute_with_arguments(make_device: DeviceFactory) -> None:
    device = await make_device(any_source=True)
    code, _ = await coap(device, "post", "/3442/0/3", "-e", "0='abc',5")
    assert code == "2.04"
    listed = device.tree.value(Path(3442, 0, 4))
    assert isinstance(listed, dict) and len(listed) == 2


async def test_unsupported_accept_is_4_06(make_device: DeviceFactory) -> None:
    device = await make_device(any_source=True)
    assert (await coap(device, "get", "/3/0/0", "-A", "42"))[0] == "4.06"  # opaque, String
    assert (await coap(device, "get", "/3/0", "-A", "0"))[0] == "4.06"  # text, an instance
    assert (await coap(device, "get", "/3/0/0", "-A", "11544"))[0] == "4.06"  # 1.2 format
    assert (await coap(device, "get", "/3/0/0", "-A", "12345"))[0] == "4.06"  # unknown


async def test_put_opaque_onto_a_string_is_4_15(make_device: DeviceFactory) -> None:
    device = await make_device(any_source=True)
    code, _ = await coap(device, "put", "/3442/0/110", "-t", "42", "-e", "raw")
    assert code == "4.15"
    assert device.tree.value(Path(3442, 0, 110)) == "initial value"
    code, _ = await coap(device, "put", "/3442/0/110", "-t", "12345", "-e", "raw")
    assert code == "4.15"


async def test_bad_payload_is_4_00(make_device: DeviceFactory) -> None:
    device = await make_device(any_source=True)
    assert (await coap(device, "put", "/3442/0/120", "-t", "0", "-e", "many"))[0] == "4.00"
    assert device.tree.value(Path(3442, 0, 120)) == 1024


async def test_get_unknown_is_4_04(make_device: DeviceFactory) -> None:
    device = await make_device(any_source=True)
    assert (await coap(device, "get", "/3/0/99"))[0] == "4.04"
    assert (await coap(device, "get", "/4242/0"))[0] == "4.04"

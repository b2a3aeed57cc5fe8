"""``fleet server`` as a process, driven by a commands file, with one real device."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig
from fleet.client.device import Device

RUN = [sys.executable, "-c", "from fleet.cli.server import server; server()"]
WAIT = 20.0


async def serve(
    tmp_path: Path,
    lines: list[str],
    *extra: str,
    psk: PskCredentials | None = None,
    env: dict[str, str] | None = None,
    config: Callable[[str], DeviceConfig] | None = None,
) -> tuple[str, str, int]:
    """Run ``fleet server`` with ``lines`` as commands and one device: ``config(uri)`` (by
    default one named ``dev1``, over DTLS to the server's coaps:// address with ``psk``).
    Returns stdout, stderr and the exit status."""
    script = tmp_path / "commands.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        *RUN,
        "--port",
        "0",
        "--commands",
        str(script),
        "--exit-after-commands",
        "--timeout",
        "1",
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=None if env is None else {**os.environ, **env},
    )
    assert process.stderr is not None
    first = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
    found = re.search(r"coaps://\S+" if psk is not None else r"coap://\S+", first)
    assert found, first
    uri = found.group(0)
    made = (
        config(uri)
        if config is not None
        else DeviceConfig(endpoint="dev1", server=uri, lifetime=60, psk=psk)
    )
    device = Device(made)
    await device.start()
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        await asyncio.wait_for(device.stop(deregister=False), WAIT)
    return out.decode(), first + err.decode(), await process.wait()

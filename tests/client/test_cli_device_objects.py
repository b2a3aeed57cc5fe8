"""``fleet device --objects ../shared/oma-registry`` starts: the one OMA definition that cannot
be instantiated is skipped with a line naming its file and what is wrong, every other object of
the registry is on the device (issue 14)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from click.testing import CliRunner

from fleet.cli.device import device, device_layout
from fleet.cli.options import registry_from_options
from fleet.client.config import default_registry
from fleet.device.instantiable import Skipped

from .fakes import FakeServer
from .test_cli_device import OMA_REGISTRY, PROCESS_WAIT, _line_with

BROKEN = 10482  # "Read data" (/10482/x/5) is readable and has no Type


def test_the_registry_loads_less_the_object_that_cannot_be_instantiated() -> None:
    registry = registry_from_options([OMA_REGISTRY])
    layout, skipped = device_layout(registry)

    [broken] = skipped
    assert isinstance(broken, Skipped) and broken.object_id == BROKEN
    assert broken.source.startswith(str(OMA_REGISTRY)) and broken.source.endswith(".xml")
    assert "resource 5 (Read data) has no Type (operations R)" in broken.reason
    assert broken.line().startswith(f"skipping object {BROKEN} (")
    added = set(registry.ids()) - set(default_registry().ids())
    assert set(layout.objects) - {0, 1, 3, 6, 3303, 3442} == added - {BROKEN}
    assert len(added) > 300
    assert all(layout.objects[i].instances == (0,) for i in added - {BROKEN})


def test_the_help_says_which_instances_the_device_has() -> None:
    text = " ".join(CliRunner().invoke(device, ["--help"]).output.split())
    assert "instance 0 of every shipped object (/1/0 /3/0 /6/0 /3303/0 /3442/0" in text
    assert "instance 0 of each object the folders add" in text
    assert "cannot be instantiated is skipped with one line naming its file" in text


@pytest.mark.asyncio
async def test_fleet_device_with_the_whole_oma_registry_registers(server: FakeServer) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fleet.cli.device",
        "--server",
        server.uri,
        "--endpoint",
        "oma-1",
        "--objects",
        str(OMA_REGISTRY),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    try:
        skip = await _line_with(process.stderr, "skipping object")
        assert skip.startswith(f"oma-1: skipping object {BROKEN} (")
        assert "resource 5 (Read data) has no Type" in skip
        register = await server.next("register", PROCESS_WAIT)
        payload = register.request.payload.decode()
        assert "</3311/0>" in payload and f"</{BROKEN}/0>" not in payload
        assert "skipping" not in await _line_with(process.stderr, "registered at")
        process.send_signal(signal.SIGINT)
        await server.next("deregister", PROCESS_WAIT)
        assert await asyncio.wait_for(process.wait(), PROCESS_WAIT) == 130
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

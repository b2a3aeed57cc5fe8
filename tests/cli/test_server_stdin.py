"""``fleet server``'s console input is bounded and never stops the server answering devices.

Reading ``</dev/zero`` (a file the loop cannot poll, with no line end ever) used to read
forever on the event loop, so no device was answered. Each line is now at most
:data:`~fleet.cli.server.MAX_LINE` bytes and unpollable input is read one chunk per loop turn.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli.server import LineReader, server
from fleet.client.config import DeviceConfig
from fleet.client.device import Device

RUN = [sys.executable, "-c", "from fleet.cli.server import server; server()"]
WAIT = 20.0


async def _lines(reader: LineReader) -> list[str]:
    got: list[str] = []
    while (line := await asyncio.wait_for(reader.get(), WAIT)) is not None:
        got.append(line)
    return got


@pytest.mark.asyncio
async def test_a_pipe_gives_its_lines_and_the_last_one_without_a_newline() -> None:
    read, write = os.pipe()
    reader = LineReader(read, max_line=100)
    os.write(write, b"DEVICES\nHELP\nQUIT")
    os.close(write)
    try:
        assert await _lines(reader) == ["DEVICES", "HELP", "QUIT"]
        assert reader.problem is None
    finally:
        os.close(read)


@pytest.mark.parametrize(
    ("data", "lines", "problem"),
    [
        (b"HELP\n" + b"x" * 5000, ["HELP"], "line 2 is longer than 100 bytes"),
        (b"HELP\n" + b"y" * 101 + b"\nDEVICES\n", ["HELP"], "line 2 is longer than 100 bytes"),
        (b"HELP\nab\0cd\nDEVICES\n", ["HELP"], "line 2 has a NUL byte"),
    ],
)
@pytest.mark.asyncio
async def test_a_long_or_binary_line_ends_console_input(
    data: bytes, lines: list[str], problem: str
) -> None:
    read, write = os.pipe()
    reader = LineReader(read, max_line=100)
    os.write(write, data)
    try:
        assert await _lines(reader) == lines
        assert reader.problem is not None and problem in reader.problem
        assert "limit is 100 bytes" in reader.problem
    finally:
        os.close(write)
        os.close(read)


@pytest.mark.asyncio
async def test_an_unpollable_file_is_read_a_chunk_per_loop_turn(tmp_path: Path) -> None:
    script = tmp_path / "lines.txt"
    script.write_text("".join(f"line {i}\n" for i in range(20_000)), encoding="utf-8")
    with script.open("rb") as handle:
        reader = LineReader(handle.fileno())
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        running = asyncio.ensure_future(ticker())
        try:
            got = await _lines(reader)
        finally:
            running.cancel()
    assert len(got) == 20_000 and got[-1] == "line 19999"
    assert ticks > 1  # the loop ran other work while the file was read


@pytest.mark.slow
@pytest.mark.asyncio
async def test_fleet_server_reading_dev_zero_still_answers_devices() -> None:
    with open("/dev/zero", "rb") as zero:
        process = await asyncio.create_subprocess_exec(
            *RUN,
            "--port",
            "0",
            stdin=zero,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    device: Device | None = None
    try:
        assert process.stderr is not None
        first = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        found = re.search(r"coap://\S+", first)
        assert found, first
        device = Device(DeviceConfig(endpoint="zero1", server=found.group(0), lifetime=60))
        await device.start()
        await asyncio.wait_for(device.registered.wait(), 10.0)
        said = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        assert "console input ends: line 1 is longer than 65536 bytes" in said
        status = Path(f"/proc/{process.pid}/status").read_text(encoding="utf-8")
        rss_kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        assert rss_kib < 300_000, status
    finally:
        if device is not None:
            await asyncio.wait_for(device.stop(deregister=False), WAIT)
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), WAIT)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode == 130  # ended by SIGTERM: 130, as every fleet command


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_commands_from_dev_zero_are_refused_with_the_limit() -> None:
    result = CliRunner().invoke(
        server, ["--port", "0", "--commands", "/dev/zero", "--exit-after-commands"]
    )
    assert result.exit_code == 1
    assert "--commands: /dev/zero: the file is larger than 16 MiB (the limit)" in result.output

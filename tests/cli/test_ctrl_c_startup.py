"""Ctrl-C while ``fleet`` starts up ends it quietly (status 130), never with a traceback.

Most of the start-up is importing the commands; a KeyboardInterrupt there printed a
traceback of half the package. The deterministic test raises it from an audit hook at the
import of one command module; the slow one sends real SIGINTs to ``fleet run`` at several
moments of its start.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

INTERRUPTED_IMPORT = """
import sys
def hook(event, args):
    if event == "import" and args[0] == "fleet.cli.scenario":
        raise KeyboardInterrupt
sys.addaudithook(hook)
sys.argv = ["fleet", "--help"]
from fleet.cli import main
main()
"""


@pytest.mark.asyncio
async def test_a_ctrl_c_while_the_commands_load_prints_no_traceback() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        INTERRUPTED_IMPORT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30.0)
    assert process.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"Usage" not in out


SCENARIO = """version: 1
server: coap://127.0.0.1:9
duration: 30s
groups:
  - count: 20
    lifetime: 60
"""


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("workers", ["1", "2"])
async def test_ctrl_c_at_any_moment_of_the_start_of_fleet_run(tmp_path: Path, workers: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    run = [sys.executable, "-c", "from fleet.cli import main; main()", "run", str(path), "-q"]
    for delay in (0.5, 0.8, 1.2, 2.0):  # after the interpreter itself started (site)
        process = await asyncio.create_subprocess_exec(
            *run,
            "--workers",
            workers,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(delay)  # a moment of the start-up (real time is the point here)
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 60.0)
        assert b"Traceback" not in err, (delay, err.decode())
        assert process.returncode == 130, (delay, err.decode())

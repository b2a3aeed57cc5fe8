"""``fleet run -q`` silences the worker processes' log lines too, not only the progress line."""

from __future__ import annotations

import asyncio
import importlib
import logging
import pathlib
import signal
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.run import QUIET_LOG_LEVEL, run

from .conftest import ServerThread
from .test_run import write

SCENARIO = "version: 1\nserver: coap://127.0.0.1:1\nduration: 1s\ngroups: [{count: 4}]\n"


run_module = importlib.import_module("fleet.cli.run")  # the module, not the command


class Stop(Exception):
    """Raised by the stand-in pool: the test only wants its arguments."""


@pytest.mark.parametrize(("flags", "level"), [(["-q"], QUIET_LOG_LEVEL), ([], logging.WARNING)])
def test_workers_get_the_log_level_of_the_command(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], level: int
) -> None:
    seen: dict[str, Any] = {}

    def pool(*args: object, **kwargs: Any) -> None:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(run_module, "WorkerPool", pool)
    path = write(tmp_path, SCENARIO)
    result = CliRunner().invoke(run, [str(path), "--workers", "2", *flags])
    assert isinstance(result.exception, Stop)
    assert seen["log_level"] == level
    assert QUIET_LOG_LEVEL > logging.CRITICAL  # not even a critical line from a worker


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [False, True])
def test_a_real_run_with_q_prints_no_worker_line(tmp_path: pathlib.Path, quiet: bool) -> None:
    """Ctrl-C makes each worker log "run aborted" (a WARNING): shown without -q, not with it."""
    path = write(
        tmp_path,
        "version: 1\nseed: 1\nduration: 10m\ngroups:\n  - count: 4\n    endpoint: q-{index}\n",
    )
    thread = ServerThread()
    with thread as server:
        command = [
            *(sys.executable, "-c", "from fleet.cli import main; main()", "run", str(path)),
            *("--server", server.uri, "--workers", "2", *(["-q"] if quiet else [])),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            for index in range(4):  # every worker's devices are up: the workers run
                waiting = server.wait_for_registration(f"q-{index}", 60)
                asyncio.run_coroutine_threadsafe(waiting, thread.loop).result(70)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    assert process.returncode == 130
    worker_lines = [line for line in err.splitlines() if " worker " in line]
    if quiet:
        assert err == ""  # nothing at all: neither progress nor any worker's log line
    else:
        assert any("run aborted" in line for line in worker_lines), err

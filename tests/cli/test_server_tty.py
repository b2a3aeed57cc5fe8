"""``fleet server`` on a terminal, through a pty: it reads typed lines in the foreground and
does not read (so is not stopped by SIGTTIN) when started as a background job (``&``)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

from fleet.cli.console_input import BACKGROUND_NOTE, background_terminal

SERVER = [sys.executable, "-c", "from fleet.cli.server import server; server()", "--port", "0"]
WAIT = 30.0
JOB = """
import fcntl, subprocess, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # this session's terminal; this process in the foreground
server = subprocess.Popen(sys.argv[1:], process_group=0)  # a background job, as with '&'
print(server.pid, flush=True)
sys.exit(server.wait())
"""


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _stderr_until(process: subprocess.Popen[bytes], wanted: str) -> str:
    """What the process wrote on stderr until a line with ``wanted`` (bounded in time)."""
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + WAIT
    while wanted.encode() not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} on stderr within {WAIT} s: {seen.decode()!r}"
        ready, _, _ = select.select([process.stderr], [], [], left)
        if ready:
            chunk = os.read(process.stderr.fileno(), 4096)
            assert chunk, f"stderr ended before {wanted!r}: {seen.decode()!r}"
            seen += chunk
    return seen.decode()


def test_in_the_foreground_typed_lines_are_commands() -> None:
    master, slave = pty.openpty()
    process = subprocess.Popen(
        SERVER,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_take_terminal,
    )
    os.close(slave)
    try:
        _stderr_until(process, "listening on")
        os.write(master, b"DEVICES\nQUIT\n")
        out, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
        os.close(master)
    assert process.returncode == 0, err
    assert out.decode().strip() == "[]"  # DEVICES: none registered
    assert BACKGROUND_NOTE not in err.decode()


def test_a_background_job_does_not_read_the_terminal_and_keeps_running() -> None:
    master, slave = pty.openpty()
    job = subprocess.Popen(
        [sys.executable, "-c", JOB, *SERVER],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(slave)
    pid = None
    try:
        assert job.stdout is not None
        pid = int(job.stdout.readline())
        _stderr_until(job, BACKGROUND_NOTE)
        os.write(master, b"DEVICES\n")  # would stop a reading background job (SIGTTIN)
        os.kill(pid, signal.SIGTERM)  # a stopped process would not act on it until SIGCONT
        out, _ = job.communicate(timeout=WAIT)
    finally:
        if pid is not None and job.poll() is None:  # the server too, stopped or not
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        job.kill()
        os.close(master)
    assert job.returncode == 130  # ended by SIGTERM: 130, as every fleet command
    assert out.decode().strip() == ""  # DEVICES was not read


def test_only_our_terminal_in_another_process_group_counts_as_background() -> None:
    read, write = os.pipe()
    master, slave = pty.openpty()  # a terminal, but not this process's controlling one
    try:
        assert background_terminal(read) is False
        assert background_terminal(slave) is False
    finally:
        for fd in (read, write, master, slave):
            os.close(fd)

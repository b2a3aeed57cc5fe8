"""``fleet run`` against a server named in DNS, and an IPv6 fleet over ``::1``.

The name is ``localhost`` (a name every machine resolves to loopback: 127.0.0.1 here, or
::1), given with ``--server`` to ``fleet run`` as a subprocess with two shard processes:
each looks it up once (``loop.getaddrinfo``), and every device registers. The IPv6 fleet
talks to a server bound to ``::1`` through the literal ``coap://[::1]:PORT``. A name that
does not resolve ends the run before it starts, with the URI and the reason (the
system's "no such name" stands in for DNS: tests send nothing beyond loopback).
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from fleet.cli.run import run
from fleet.client import uri as uri_module

from .conftest import ServerThread
from .test_run import write

SCENARIO = """
version: 1
seed: 5
duration: 2s
groups:
  - count: 8
    endpoint: "named-{index:02d}"
"""


def _run(tmp_path: pathlib.Path, server: str, *extra: str) -> tuple[int, str, dict[str, object]]:
    path = write(tmp_path, SCENARIO)
    out = tmp_path / "summary.json"
    command = [
        *(sys.executable, "-c", "from fleet.cli import main; main()", "run", str(path)),
        *("--server", server, "--summary-json", str(out), "--quiet", *extra),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ}, check=False
    )
    summary = json.loads(out.read_text()) if out.exists() else {}
    return done.returncode, done.stderr, summary


def _registered(summary: dict[str, object]) -> tuple[int, int]:
    register = summary["operations"]["register"]  # type: ignore[index]
    return register["count"], register["failures"]


def _localhost_family() -> str:
    first = socket.getaddrinfo("localhost", 1, type=socket.SOCK_DGRAM)[0][4][0]
    return str(first)


@pytest.mark.slow
def test_a_fleet_registers_with_a_server_known_by_name(tmp_path: pathlib.Path) -> None:
    with ServerThread(_localhost_family()) as server:
        port = server.address[1]
        code, err, summary = _run(tmp_path, f"coap://localhost:{port}", "--workers", "2")
        assert code == 0, err
        assert _registered(summary) == (8, 0)
        assert server.counters.registrations == 8


@pytest.mark.slow
def test_an_ipv6_fleet_over_loopback(tmp_path: pathlib.Path) -> None:
    with ServerThread("::1") as server:
        assert server.uri.startswith("coap://[::1]:")  # bound to ::1 only: IPv6 or nothing
        code, err, summary = _run(tmp_path, server.uri, "--workers", "1")
        assert code == 0, err
        assert _registered(summary) == (8, 0)
        assert server.counters.registrations == 8


def test_a_name_that_does_not_resolve_stops_the_run_with_the_reason(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []

    def nxdomain(host: str, *args: object, **kwargs: object) -> list[object]:
        asked.append(host)  # the system's answer for an unknown name, without asking DNS
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(uri_module.socket, "getaddrinfo", nxdomain)
    path = write(tmp_path, SCENARIO)
    result = CliRunner().invoke(run, [str(path), "--server", "coap://lwm2m.iot.svc", "-q"])
    assert result.exit_code == 1
    assert result.output == (
        "cannot run: server URI 'coap://lwm2m.iot.svc:5683': the name lwm2m.iot.svc does not "
        "resolve (Name or service not known)\n"
    )
    assert asked == ["lwm2m.iot.svc"]

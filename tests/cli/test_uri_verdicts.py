"""``fleet validate`` and ``fleet run`` judge a server URI alike: the same verdict, the same words.

For each bad form (no host, a port that is no number, a port out of range, port 0, an
unknown scheme, an unclosed IPv6 bracket, an IPv6 address without brackets, no scheme at
all) given in the scenario file, with ``--server`` or in ``FLEET_SERVER``, both commands
exit 2 and print the same located problem, once, with one "server URI" prefix. A name
that does not resolve is the machine's problem, not the file's: ``fleet validate`` keeps
the file valid (exit 0) and says "this machine cannot run it yet: WHY", ``fleet run``
exits 1 with "cannot run: WHY", the same WHY; so for a group's Bootstrap-Server name. The
system's "no such name" is the monkeypatched ``getaddrinfo`` (tests ask no DNS).
"""

from __future__ import annotations

import pathlib
import socket

import pytest
from click.testing import CliRunner, Result

from fleet.cli.device import device
from fleet.cli.run import run
from fleet.cli.scenario import validate
from fleet.client import uri as uri_module

SCENARIO = """version: 1
server: "{uri}"
seed: 1
duration: 1s
groups:
  - count: 2
    endpoint: "v-{{index}}"
"""

BAD = [
    ("coap://:5683", "names no host"),
    ("coap://127.0.0.1:abc", "the port must be a number 1..65535"),
    ("coap://127.0.0.1:70000", "the port must be a number 1..65535"),
    ("coap://127.0.0.1:0", "the port must be 1..65535"),
    ("http://127.0.0.1", "the scheme must be coap:// (NoSec) or coaps:// (DTLS-PSK), got http://"),
    ("coap://[::1:5683", "not a URI (Invalid IPv6 URL)"),
    ("coap://::1", "::1 looks like an IPv6 address: write it in brackets, coap://[::1]"),
    ("127.0.0.1:5683", "not a URI: write coap://127.0.0.1:5683"),
]
UNKNOWN = "lwm2m.iot.svc"
NXDOMAIN = "Name or service not known"


def _scenario(tmp_path: pathlib.Path, uri: str = "coap://127.0.0.1:5683") -> pathlib.Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(uri=uri), encoding="utf-8")
    return path


def _both(path: pathlib.Path, arguments: list[str], env: dict[str, str]) -> tuple[Result, Result]:
    runner = CliRunner()
    checked = runner.invoke(validate, [str(path), *arguments], env=env)
    ran = runner.invoke(run, [str(path), *arguments, "-q", "--workers", "1"], env=env)
    return checked, ran


@pytest.mark.parametrize(("uri", "problem"), BAD)
@pytest.mark.parametrize("source", ["file", "--server", "FLEET_SERVER"])
def test_a_bad_uri_gets_one_verdict_and_one_message(
    tmp_path: pathlib.Path, source: str, uri: str, problem: str
) -> None:
    env: dict[str, str] = {"FLEET_SERVER": uri} if source == "FLEET_SERVER" else {}
    arguments = ["--server", uri] if source == "--server" else []
    path = _scenario(tmp_path, uri if source == "file" else "coap://127.0.0.1:5683")
    where = f"{path}:2:9" if source == "file" else source
    expected = f"{where}: server URI {uri!r}: {problem}"
    checked, ran = _both(path, arguments, env)
    assert (checked.exit_code, ran.exit_code) == (2, 2)
    assert checked.stdout.splitlines() == [expected, f"{path}: 1 problem"]
    assert ran.stderr.splitlines() == [expected]
    assert expected.count("server URI") == 1  # no doubled prefix
    assert ran.stdout == ""  # nothing ran: no summary


@pytest.mark.parametrize(("uri", "problem"), BAD)
def test_fleet_device_says_the_same(uri: str, problem: str) -> None:
    result = CliRunner().invoke(device, ["--server", uri, "--endpoint", "d"])
    assert result.exit_code == 2  # a command-line mistake, as for run and validate
    assert result.stderr.splitlines()[-1] == f"Error: server URI {uri!r}: {problem}"
    assert result.stderr.count("server URI") == 1


@pytest.fixture
def unknown_name(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``getaddrinfo`` answers "no such name" for :data:`UNKNOWN`, loopback for the rest."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> object:
        asked.append(host)
        if host.rstrip(".").endswith(UNKNOWN):
            raise socket.gaierror(socket.EAI_NONAME, NXDOMAIN)
        return real("127.0.0.1", port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(uri_module.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("source", ["file", "--server", "FLEET_SERVER"])
def test_a_name_that_does_not_resolve_is_the_machines_problem_for_both(
    tmp_path: pathlib.Path, source: str, unknown_name: list[str]
) -> None:
    uri = f"coap://{UNKNOWN}"
    env = {"FLEET_SERVER": uri} if source == "FLEET_SERVER" else {}
    arguments = ["--server", uri] if source == "--server" else []
    path = _scenario(tmp_path, uri if source == "file" else "coap://127.0.0.1:5683")
    why = f"server URI 'coap://{UNKNOWN}:5683': the name {UNKNOWN} does not resolve ({NXDOMAIN})"
    checked, ran = _both(path, arguments, env)
    assert checked.exit_code == 0  # the file is valid: a CI job outside the cluster passes
    assert checked.stdout.splitlines() == [
        f"{path}: ok, 2 devices in 1 group, 0 phases",
        f"{path}: this machine cannot run it yet: {why}",
    ]
    assert ran.exit_code == 1
    assert ran.stderr == f"cannot run: {why}\n"
    assert unknown_name == [UNKNOWN, UNKNOWN]  # looked up once by each command


def test_a_bootstrap_server_name_that_does_not_resolve_too(
    tmp_path: pathlib.Path, unknown_name: list[str]
) -> None:
    path = _scenario(tmp_path)
    text = path.read_text() + f"    bootstrap: coap://bs.{UNKNOWN}:5783\n"
    path.write_text(text, encoding="utf-8")
    why = (
        f"bootstrap server URI 'coap://bs.{UNKNOWN}:5783': the name bs.{UNKNOWN} does not "
        f"resolve ({NXDOMAIN})"
    )
    checked, ran = _both(path, [], {})
    assert checked.exit_code == 0
    assert checked.stdout.splitlines()[1:] == [f"{path}: this machine cannot run it yet: {why}"]
    assert (ran.exit_code, ran.stderr) == (1, f"cannot run: {why}\n")


def test_a_name_that_resolves_and_a_literal_are_fine_for_both(
    tmp_path: pathlib.Path, unknown_name: list[str]
) -> None:
    path = _scenario(tmp_path, "coap://lwm2m.example.test:1")
    checked = CliRunner().invoke(validate, [str(path)])
    assert (checked.exit_code, checked.stdout.splitlines()[1:]) == (0, [])
    assert unknown_name == ["lwm2m.example.test"]
    literal = CliRunner().invoke(validate, [str(path), "--server", "coap://[::1]:1"])
    assert (literal.exit_code, literal.stdout.splitlines()[1:]) == (0, [])
    assert unknown_name == ["lwm2m.example.test"]  # a literal is not looked up

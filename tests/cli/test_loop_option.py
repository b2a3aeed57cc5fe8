"""``--loop`` on the commands that run an event loop: the choice reaches the loop; clear errors."""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Coroutine
from typing import Any

import click
import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.runner import loops

pytest.importorskip("uvloop")

SCENARIO = "version: 1\nserver: coap://127.0.0.1:9\ngroups: [{count: 1}]\n"
COMMANDS = {
    "run": ["run", "s.yaml", "--workers", "1", "--quiet"],
    "device": ["device", "--server", "coap://127.0.0.1:9", "--endpoint", "x"],
    "server": ["server", "--port", "0"],
    "demo": ["demo", "--devices", "1", "--duration", "1"],
}


class Ran(BaseException):
    """What the recording loops.run raises: the loop it was asked for."""


def _record(main: Coroutine[Any, Any, Any], name: str = "auto") -> Any:
    main.close()
    raise Ran(loops.resolve(name))


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEET_LOOP", raising=False)
    (tmp_path / "s.yaml").write_text(SCENARIO)


def invoke(args: list[str], env: dict[str, str] | None = None) -> click.testing.Result:
    return CliRunner().invoke(main, args, env=env)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], None, "uvloop"),  # auto: installed here
        (["--loop", "asyncio"], None, "asyncio"),
        (["--loop", "uvloop"], {"FLEET_LOOP": "asyncio"}, "uvloop"),  # the flag wins
        ([], {"FLEET_LOOP": "asyncio"}, "asyncio"),
    ],
)
def test_the_loop_asked_for_runs_the_command(
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    flags: list[str],
    env: dict[str, str] | None,
    expected: str,
) -> None:
    monkeypatch.setattr(loops, "run", _record)
    with pytest.raises(Ran) as ran:  # CliRunner lets a BaseException through
        invoke([*COMMANDS[command], *flags], env)
    assert ran.value.args == (expected,)


@pytest.mark.parametrize("command", COMMANDS)
def test_uvloop_asked_for_but_missing_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    result = invoke([*COMMANDS[command], "--loop", "uvloop"])
    assert result.exit_code == 2
    assert "Invalid value for '--loop': uvloop is not installed" in result.output
    assert "pip install 'lwm2m-fleet[fast]', or use --loop asyncio" in result.output


def test_an_unknown_loop_is_refused() -> None:
    result = invoke(
        ["device", "--server", "coap://127.0.0.1:9", "--endpoint", "x", "--loop", "trio"]
    )
    assert result.exit_code == 2
    assert "'trio' is not one of 'auto', 'asyncio', 'uvloop'" in result.output

"""Every duration option takes ``30s``, ``5m``, ``1h`` (and bare seconds), as scenario files do."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from fleet.cli.demo import demo
from fleet.cli.device import device
from fleet.cli.durations import Duration
from fleet.cli.run import run
from fleet.cli.server import server

DURATION_OPTIONS = [
    (demo, "duration"),
    (demo, "lifetime"),
    (device, "lifetime"),
    (device, "reboot_delay"),
    (device, "handshake_timeout"),
    (run, "progress_interval"),
    (run, "interval"),
    (server, "timeout"),
]


@pytest.mark.parametrize(("command", "name"), DURATION_OPTIONS)
def test_the_option_is_a_duration(command: click.Command, name: str) -> None:
    (param,) = [p for p in command.params if p.name == name]
    assert isinstance(param.type, Duration)
    assert param.type.convert("5m", param, None) == 300
    assert param.type.convert("90", param, None) == 90


def test_units_bounds_and_whole_seconds() -> None:
    assert Duration().convert("1h30m", None, None) == 5400.0
    assert Duration().convert(2.5, None, None) == 2.5
    assert Duration(1, whole=True).convert("2m", None, None) == 120
    with pytest.raises(click.BadParameter, match="whole seconds only"):
        Duration(1, whole=True).convert("1.5s", None, None)
    with pytest.raises(click.BadParameter, match="must be more than 0 s"):
        Duration(0, above=True).convert("0s", None, None)
    with pytest.raises(click.BadParameter, match=r"must be at least 0\.1 s"):
        Duration(0.1).convert("50ms", None, None)


def test_a_bad_duration_is_a_usage_error_naming_the_option() -> None:
    arguments = ["--server", "coap://127.0.0.1:1", "--endpoint", "a", "--reboot-delay", "soon"]
    result = CliRunner().invoke(device, arguments)
    assert result.exit_code == 2
    assert (
        "Invalid value for '--reboot-delay': 'soon' is not a duration: use 250ms, 10s"
        in result.output
    )

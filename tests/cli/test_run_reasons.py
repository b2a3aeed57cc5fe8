"""``fleet run`` against a server that is down ends with the reason, in text and JSON.

Nothing listens on the port: every device's Register fails at once with an ICMP port
unreachable (the kernel's word for it), and the summary says so per operation.
"""

from __future__ import annotations

import json
import pathlib
import socket

from click.testing import CliRunner

from fleet.cli.run import run
from fleet.metrics import Summary

from .test_run import write

SCENARIO = """
version: 1
seed: 1
duration: 1s
groups:
  - count: 6
    endpoint: "down-{index:02d}"
"""


def _dead_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_summary_names_why_registers_failed(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, SCENARIO)
    out = tmp_path / "summary.json"
    server = f"coap://127.0.0.1:{_dead_port()}"
    arguments = [str(path), "--server", server, "--summary-json", str(out), "-q", "--workers", "1"]
    result = CliRunner().invoke(run, arguments)
    assert result.exit_code == 0, result.output  # no thresholds: the run itself went fine
    register = json.loads(out.read_text())["operations"]["register"]
    assert register["failures"] == 6
    assert register["failure_reasons"] == {"port unreachable": 6}
    assert "failure_reasons" not in json.loads(out.read_text())["operations"]["update"]
    assert "failure reasons\n  register  port unreachable 6\n" in result.output
    again = Summary.loads(out.read_text())  # read back exactly, and merged by adding
    merged = again.merge(again).to_json()["operations"]
    assert merged["register"]["failure_reasons"] == {"port unreachable": 12}  # type: ignore[index]

"""``fleet run --metrics-port`` for real: Prometheus scrapes the running fleet over HTTP, and
Ctrl-C (SIGINT) ends the run with every device de-registered and exit status 130."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from fleet.server import Lwm2mServer

from .test_run import write

SCENARIO = """
version: 1
seed: 3
duration: 10m
groups:
  - count: 12
    endpoint: "scrape-{index:02d}"
"""


def _value(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, flags=re.M)
    assert match is not None, f"{name}{labels} is not in the scrape"
    return float(match.group(1))


@pytest.mark.slow
def test_metrics_are_scraped_while_running_and_ctrl_c_deregisters(
    tmp_path: pathlib.Path,
    server: Lwm2mServer,
) -> None:
    path = write(tmp_path, SCENARIO)
    command = [
        *(sys.executable, "-c", "from fleet.cli import main; main()", "run", str(path)),
        *("--server", server.uri, "--workers", "1", "--metrics-port", "0"),
        *("--progress-interval", "0.2"),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stderr is not None
        url = None
        for line in process.stderr:  # bounded by the run: it stops at the first full line
            found = re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)", line)
            url = url or (found.group(1) if found else None)
            if url is not None and re.search(r"\bregistered 12\b", line):
                break
        assert url is not None, "fleet run did not say where its metrics are"
        with urllib.request.urlopen(url, timeout=10) as response:
            scrape = response.read().decode()
        assert _value(scrape, "lwm2m_fleet_devices", '{state="registered"}') == 12
        ok = '{operation="register",result="ok"}'
        assert _value(scrape, "lwm2m_fleet_operations_total", ok) == 12
        assert _value(scrape, "lwm2m_fleet_retransmissions_total") == 0
        assert 'lwm2m_fleet_build_info{python="' in scrape
        assert "endpoint" not in scrape  # no per-device labels
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 130
    assert re.search(r"^deregister\s+12\s+0\b", out, flags=re.M), out
    assert server.registrations() == []  # every device said goodbye

"""deploy/grafana/: the dashboard asks only for metrics a live ``fleet run`` exports, its queries
are PromQL that Prometheus' own parser accepts, and ``promtool check metrics`` passes on the
live scrape (promtool: Debian's prometheus, installed by scripts/install-tools.sh)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.cli.conftest import ServerThread

pytestmark = [pytest.mark.slow, pytest.mark.interop]

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboard.json"

SCENARIO = """
version: 1
seed: 2
duration: 10m
groups:
  - count: 10
    endpoint: "graf-{index:02d}"
    objects:
      3303: [0]
faults:
  - {action: reject, code: 4.05, operations: [read], probability: 0.5}
"""


async def read_once(server: Any, registration: Any) -> None:
    """Every device is read at registration: half the reads are rejected on purpose."""
    await server.read(registration.endpoint, "/3/0")


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is not installed: run scripts/install-tools.sh (Debian prometheus)")
    return found


@pytest.fixture(scope="module")
def scrape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The text of one scrape of a running ``fleet run --workers 2 --metrics-port 0``."""
    scenario = tmp_path_factory.mktemp("grafana") / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    with ServerThread() as server:
        server.add_on_register(read_once)
        command = [
            *(sys.executable, "-c", "from fleet.cli import main; main()", "run", str(scenario)),
            *("--server", server.uri, "--workers", "2", "--metrics-port", "0"),
            *("--progress-interval", "0.2"),
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            assert process.stderr is not None
            url = None
            for line in process.stderr:  # bounded: the run ends at the first full line
                found = re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)", line)
                url = url or (found.group(1) if found else None)
                if url is not None and re.search(r"\bregistered 10\b", line):
                    break
            assert url is not None, "fleet run did not say where its metrics are"
            text = ""
            for _ in range(100):  # paced by the progress lines (0.2 s), until a fault counted
                with urllib.request.urlopen(url, timeout=10) as response:
                    text = response.read().decode()
                if "lwm2m_fleet_faults_injected_total{" in text:
                    break
                process.stderr.readline()
            assert "lwm2m_fleet_faults_injected_total{" in text, "no fault injected in 20 s"
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    yield text


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def expressions() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel["targets"]]


def test_promtool_check_metrics_passes_on_a_live_scrape(scrape: str) -> None:
    result = subprocess.run(
        [promtool(), "check", "metrics"], input=scrape, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_every_dashboard_metric_is_exported_and_every_family_is_shown(scrape: str) -> None:
    families = list(text_string_to_metric_families(scrape))
    # the series names each family of the scrape declares (a family may have no sample yet:
    # no fault injected so far)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    samples = {
        family.name + suffix for family in families for suffix in suffixes.get(family.type, ("",))
    }
    samples |= {sample.name for family in families for sample in family.samples}
    used = {name for expr in expressions() for name in re.findall(r"lwm2m_fleet_\w+", expr)}
    assert used, "the dashboard queries no fleet metric"
    assert sorted(used - samples) == []
    # every family the fleet exports is on the board (counters by their _total samples)
    shown = {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in used}
    exported = {family.name for family in families if family.name.startswith("lwm2m_fleet_")}
    assert sorted(exported - shown) == []
    labels = {key for family in families for sample in family.samples for key in sample.labels}
    for expr in expressions():
        for label in re.findall(r"by \(([^)]*)\)", expr):
            assert {part.strip() for part in label.split(",")} <= labels, expr


def test_the_queries_parse_as_promql(tmp_path: pathlib.Path) -> None:
    # Grafana's $__rate_interval becomes a plain range for Prometheus' own parser
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {
                        "record": f"dashboard:query_{n}",
                        "expr": expr.replace("$__rate_interval", "1m"),
                    }
                    for n, expr in enumerate(expressions())
                ],
            }
        ]
    }
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = subprocess.run(
        [promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(expressions())} rules found" in result.stdout


def test_the_compose_setup_fits_together() -> None:
    result = subprocess.run(
        [promtool(), "check", "config", str(GRAFANA / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    prometheus = yaml.safe_load((GRAFANA / "prometheus.yml").read_text())
    targets = [
        t
        for job in prometheus["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    ]
    assert targets == ["127.0.0.1:9464"]  # what the compose file tells to run
    compose = yaml.safe_load((GRAFANA / "compose.yaml").read_text())
    assert set(compose["services"]) == {"prometheus", "grafana"}
    assert "--metrics-port 9464" in (GRAFANA / "compose.yaml").read_text()
    for service in compose["services"].values():
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            assert (GRAFANA / source).exists(), volume
    datasource = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    uids = {panel["datasource"]["uid"] for panel in dashboard()["panels"]}
    uids |= {t["datasource"]["uid"] for p in dashboard()["panels"] for t in p["targets"]}
    assert uids == {datasource["uid"]}
    assert datasource["url"] == "http://127.0.0.1:9090"
    ids = [panel["id"] for panel in dashboard()["panels"]]
    assert len(ids) == len(set(ids))

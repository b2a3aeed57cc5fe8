"""The HTML report of a real run, rendered by headless Chromium: every chart has data, and
nothing is fetched from anywhere (the screenshot is kept under artifacts/screenshots/)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.run import run
from fleet.server import Lwm2mServer
from fleet.server.directory import Registration
from tests.browser import open_page
from tests.cli.conftest import ServerThread

pytestmark = pytest.mark.slow

SCENARIO = """
version: 1
server: coap://127.0.0.1:1
seed: 8
duration: 3s
groups:
  - name: sensors
    count: 12
    endpoint: "page-{index:02d}"
    objects:
      3303: [0]
    generators:
      "/3303/0/5700": {kind: random_walk, min: 18, max: 26, step: 0.5, every: 0.2s}
phases:
  - {duration: 1s, arrivalCount: 12}
faults:
  - {action: reject, code: 4.05, operations: [read], probability: 0.5}
thresholds:
  register_failed: ["rate==0"]
"""

CHART_POINTS = """() => [...document.querySelectorAll('figure.chart')].map(f => ({
  title: f.dataset.chart,
  kind: f.dataset.kind,
  points: [...f.querySelectorAll('polyline.series')]
            .reduce((n, p) => n + p.points.numberOfItems, 0),
  bars: [...f.querySelectorAll('rect.bar')].filter(r => r.getBBox().height > 0).length,
  drawn: f.querySelector('svg').getBoundingClientRect().width,
}))"""


def test_the_report_of_a_real_run_renders_offline_with_data_in_every_chart(
    tmp_path: pathlib.Path,
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    target = tmp_path / "report.html"

    async def observe_and_read(server: Any, registration: Registration) -> None:
        await server.observe(registration.endpoint, "/3303/0/5700", pmin=0, pmax=1)
        for _ in range(4):
            await server.read(registration.endpoint, "/3303/0")

    with ServerThread() as server:
        assert isinstance(server, Lwm2mServer)
        server.add_on_register(observe_and_read)
        result = CliRunner().invoke(
            run,
            [
                *(str(scenario), "--server", server.uri, "--workers", "2", "--quiet"),
                *("--interval", "0.5", "--report", str(target)),
            ],
        )
    assert result.exit_code == 0, result.output
    with open_page() as browser:
        browser.page.goto(target.as_uri())
        charts = browser.page.evaluate(CHART_POINTS)
        browser.screenshot("report")
        assert browser.page.text_content("#verdict") == "passed"
        text = browser.page.text_content("body") or ""
    titles = {chart["title"] for chart in charts}
    for expected in (
        "Devices by state",
        "Operations per second",
        "register duration",
        "read duration",
        "Retransmissions per interval",
        "Notification lateness",
        "Faults injected per interval",
        "register duration histogram",
        "notify lateness histogram",
    ):
        assert expected in titles, (expected, titles)
    for chart in charts:
        assert chart["drawn"] > 0, chart
        if chart["kind"] == "line":
            assert chart["points"] > 0, chart
        else:
            assert chart["bars"] > 0, chart
    assert browser.external == []
    assert browser.console_errors == [] and browser.page_errors == []
    assert "reject 4.05" in text  # the faults section
    assert 'endpoint: "page-{index:02d}"' in text  # the scenario that ran

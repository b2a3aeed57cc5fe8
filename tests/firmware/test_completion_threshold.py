"""A campaign-completion threshold in a run: ``firmware_completed: ["rate>=95%"]``.

The fleet runs a scenario whose devices have Object 5 while the embedded server runs a
campaign on them (one ManualClock for both); one device is given the ``firmware-integrity``
fault, so 9 of 10 complete: ``rate>=90%`` passes, ``rate>=95%`` fails, and the summary,
its JSON and its JUnit file say so like for any threshold. ``fleet validate`` refuses a
completion threshold that is not a rate."""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections.abc import Mapping

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.client.firmware.events import FirmwareUpdated
from fleet.clock import ManualClock
from fleet.device.firmware.package import build_package
from fleet.metrics import OperationSummary, RunMetrics, Summary
from fleet.metrics.firmware import firmware_table
from fleet.metrics.views import ShareStats
from fleet.report.junit import junit_xml
from fleet.runner.events import MetricsBridge
from fleet.runner.fleet import Fleet, exit_status
from fleet.scenario import ScenarioErrors, load_scenario_text, parse_threshold
from fleet.scenario.thresholds import ThresholdError, evaluate
from fleet.server import Lwm2mServer
from fleet.server.campaign import Campaign, CampaignOptions

DEVICES = 10
PACKAGE = build_package(bytes(range(256)) * 8, name="meter-fw", version="2.0.0")


def scenario(server: str) -> str:
    return f"""
version: 1
server: {server}
seed: 5
duration: 2m
groups:
  - name: meters
    count: {DEVICES}
    endpoint: "m-{{index:02d}}"
    firmware: {{update_duration: 1s, reboot_delay: 2s, retry_delay: 1s}}
faults:
  - {{action: firmware-integrity, devices: ["3-3"]}}
thresholds:
  firmware_completed: ["rate>=90%", "rate>=95%", "count==9"]
"""


@pytest.mark.asyncio
async def test_completion_threshold_passes_and_fails_in_a_run(tmp_path: pathlib.Path) -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock, read_on_register=("/3",)) as server:
        loaded = load_scenario_text(scenario(server.uri))
        fleet = Fleet(loaded, clock=clock, drain=0.0)
        run = asyncio.ensure_future(fleet.run())
        names = [f"m-{i:02d}" for i in range(DEVICES)]
        for _ in range(600):  # arrive and register (clock seconds)
            await clock.advance(0.1)
            if len(server.registrations()) == DEVICES:
                break
        campaign = Campaign(
            server, PACKAGE, options=CampaignOptions(download_timeout=60, update_timeout=60)
        )
        task = asyncio.ensure_future(campaign.run(names))
        for _ in range(1200):
            if task.done():
                break
            await clock.advance(0.1)
        report = await asyncio.wait_for(task, 10)
        assert report.by_kind == {"updated": 9, "failed": 1}
        assert not run.done()  # the campaign ended well within the run's 2 minutes
        for _ in range(600):
            if run.done():
                break
            await clock.advance(0.5)
        summary = await asyncio.wait_for(run, 10)
    assert summary.firmware["devices"] == DEVICES and summary.firmware["completed"] == 9
    verdicts = {(t.expression, t.status) for t in summary.thresholds}
    assert verdicts == {("rate>=90%", "passed"), ("rate>=95%", "failed"), ("count==9", "passed")}
    assert [t.observed for t in summary.thresholds] == [0.9, 0.9, 9.0]
    assert summary.verdict == "failed" and exit_status(summary) != 0
    assert "campaign completion: 9 of 10 devices updated (90.0 %)" in summary.table()
    data = summary.to_json()
    assert data["metrics"]["firmware_completed"] == {"count": 9, "rate": 0.9}  # type: ignore[index]
    assert Summary.from_json(json.loads(json.dumps(data))).firmware["completed"] == 9
    xml = junit_xml(summary)
    assert 'name="firmware_completed rate&gt;=95%"' in xml
    assert "firmware_completed: rate&gt;=95% failed, observed 0.9</failure>" in xml
    assert xml.count("<failure ") == 1


def test_completion_is_counted_once_per_device_and_needs_devices() -> None:
    assert Summary().metric("firmware_completed") == ShareStats(0, 0)
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    for name, result in (("a", 1), ("a", 1), ("b", 8), ("b", 1), ("c", 5)):
        bridge(FirmwareUpdated(name, 1.0, result, "2.0.0"))
    assert metrics.firmware["completed"] == 2  # a once (updated twice), b after its retry
    no_data = evaluate(parse_threshold("firmware_completed", "rate>=95%"), ShareStats(0, 0))
    assert no_data.status.value == "failed" and no_data.observed is None
    allowed = parse_threshold("firmware_completed", "rate>=95%", allow_empty=True)
    assert evaluate(allowed, ShareStats(0, 0)).status.value == "no data"
    assert evaluate(parse_threshold("firmware_completed", "rate>=95%"), ShareStats(19, 20)).passed
    assert not evaluate(
        parse_threshold("firmware_completed", "rate>=95%"), ShareStats(18, 20)
    ).passed
    counts: Mapping[str, int] = {"devices": 4, "completed": 3, "result 1": 3}
    assert "campaign completion: 3 of 4 devices updated (75.0 %)" in _table(counts)


def _table(firmware: Mapping[str, int]) -> str:
    return firmware_table(firmware, OperationSummary(), OperationSummary(count=3))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("p(95)<2s", "firmware_completed is a rate metric"),
        ("rate>=150%", "a rate is a fraction between 0 and 1"),
        ("rate>=95", "a rate is a fraction between 0 and 1"),
    ],
)
def test_validate_refuses_a_bad_completion_threshold(expression: str, message: str) -> None:
    with pytest.raises(ThresholdError, match=message):
        parse_threshold("firmware_completed", expression)
    listed = '"rate>=90%", "rate>=95%", "count==9"'
    text = scenario("coap://127.0.0.1:5683").replace(listed, f'"{expression}"')
    with pytest.raises(ScenarioErrors, match="firmware_completed"):
        load_scenario_text(text, file="fota.yaml")


def test_fleet_validate_accepts_and_refuses(tmp_path: pathlib.Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(scenario("coap://127.0.0.1:5683"))
    assert CliRunner().invoke(main, ["validate", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace('"count==9"', '"avg<2s"'))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code != 0
    assert "bad.yaml" in result.output and "firmware_completed" in result.output

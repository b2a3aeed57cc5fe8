"""Object 9 Software Management downloads and installs in the run's metrics and summary, as
Object 5's are: ``software_download`` / ``software_install`` operations (durations, failures,
injected failures apart), outcomes by the instance's Update Result, bytes and throughput,
``software_completed``, the text section, JSON and thresholds on them.

The end-to-end test runs a scenario whose devices have Object 9 while the embedded server runs a
:class:`SoftwareCampaign` on them (one ManualClock for both, a link speed so downloads take
clock time); the seeded fault framework gives one device ``software-integrity`` and one
``software-fail-install``: the summary counts exactly what happened."""

from __future__ import annotations

import asyncio
import json

import pytest

from fleet.client.firmware.events import SoftwareDownloaded, SoftwareInstallEnded
from fleet.clock import ManualClock
from fleet.device.firmware.package import build_package
from fleet.metrics import Operation, RunMetrics, Summary
from fleet.runner.events import MetricsBridge
from fleet.runner.fleet import Fleet, evaluate_thresholds
from fleet.scenario import load_scenario_text, parse_threshold
from fleet.scenario.thresholds import ThresholdError
from fleet.server import Lwm2mServer
from fleet.server.campaign import CampaignOptions
from fleet.server.campaign.software import SoftwareCampaign

DEVICES = 6
IMAGE = bytes(range(256)) * 24  # 6,144 bytes
PACKAGE = build_package(IMAGE, name="meter-app", version="3.1")
LINK = 2048  # bytes/s: each download takes about 3 clock seconds


def fed() -> RunMetrics:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    for i in range(3):
        bridge(SoftwareDownloaded(f"d{i}", 10.0 + i, 0, 0.0, 5_000, 3))
    bridge(SoftwareDownloaded("d3", 4.0, 0, 0.0, 2_000, 53, injected=True))
    bridge(SoftwareDownloaded("d4", 6.0, 1, 1.0, 1_000, 52))  # a real loss
    bridge(SoftwareInstallEnded("d0", 20.0, 0, 2, "3.1", started=20.0))
    bridge(SoftwareInstallEnded("d0", 21.0, 0, 2, "3.1", started=21.0))  # installed again
    bridge(SoftwareInstallEnded("d1", 20.0, 0, 2, "3.1", started=20.0))
    bridge(SoftwareInstallEnded("d2", 20.0, 0, 58, injected=True, started=20.0))
    return metrics


def test_the_bridge_counts_software_downloads_installs_and_results() -> None:
    metrics = fed()
    downloads = metrics.stats(Operation.SOFTWARE_DOWNLOAD)
    assert (downloads.count, downloads.failures, downloads.injected) == (5, 1, 1)
    assert downloads.reasons == {"result 52 connection lost": 1}
    assert downloads.durations.max is not None and 11.9 < downloads.durations.max < 12.1
    installs = metrics.stats(Operation.SOFTWARE_INSTALL)
    assert (installs.count, installs.failures, installs.injected) == (4, 0, 1)
    assert metrics.software == {
        "bytes": 18_000,
        "result 3": 3,
        "result 52": 1,
        "result 53": 1,
        "result 2": 3,
        "result 58": 1,
        "completed": 2,  # d0 once, d1
    }
    assert metrics.firmware == {}  # Object 5's counts stay apart


def test_software_summary_json_merge_text_and_thresholds() -> None:
    metrics = fed()
    metrics.software_count("devices", 4)
    summary = Summary.from_metrics(metrics, scenario="sota", duration=30.0, devices=4)
    again = Summary.loads(summary.dumps())
    assert again.software == summary.software
    assert again.operations[Operation.SOFTWARE_INSTALL].count == 4
    merged = Summary.merge_all([summary, again])
    assert merged.software["result 3"] == 6 and merged.software["bytes"] == 36_000
    text = summary.table(ascii=True)
    assert "software: 5 downloads" in text and "18000 bytes" in text and "; 4 installs" in text
    assert "campaign completion: 2 of 4 devices installed (50.0 %)" in text
    assert "result 53 integrity check failure" in text
    assert "result 58 installation failure" in text
    assert "firmware:" not in text
    data = summary.to_json()
    assert data["metrics"]["software_completed"] == {"count": 2, "rate": 0.5}  # type: ignore[index]
    assert data["metrics"]["software_download_failed"]["count"] == 1  # type: ignore[index]
    lines = evaluate_thresholds(
        summary,
        [
            parse_threshold("software_download_failed", "rate<0.1"),
            parse_threshold("software_download_duration", "p(95)<5s"),
            parse_threshold("software_install_failed", "count==0"),
            parse_threshold("software_completed", "rate>=50%"),
            parse_threshold("software_completed", "rate>=0.9"),
        ],
    )
    assert [line.status for line in lines] == ["failed", "failed", "passed", "passed", "failed"]
    with pytest.raises(ThresholdError, match="software_completed is a rate metric"):
        parse_threshold("software_completed", "p(95)<2s")
    with pytest.raises(ThresholdError, match="a rate is a fraction"):
        parse_threshold("software_completed", "rate>=95")


def scenario(server: str) -> str:
    return f"""
version: 1
server: {server}
seed: 11
duration: 2m
groups:
  - name: apps
    count: {DEVICES}
    endpoint: "app-{{index}}"
    objects: {{9: [0]}}
    firmware: {{link_speed: {LINK}, retry_delay: 1s}}
faults:
  - {{action: software-integrity, devices: ["1-1"]}}
  - {{action: software-fail-install, devices: ["4-4"]}}
thresholds:
  software_completed: ["rate>=60%", "rate>=70%", "count==4"]
  software_download_failed: ["count==0"]
  software_download_duration: ["p(50)>2s", "max<10s"]
  software_install_failed: ["count==0"]
"""


@pytest.mark.asyncio
async def test_a_software_campaign_in_the_run_summary() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock, read_on_register=("/3",)) as server:
        loaded = load_scenario_text(scenario(server.uri))
        fleet = Fleet(loaded, clock=clock, drain=0.0)
        run = asyncio.ensure_future(fleet.run())
        names = [f"app-{i}" for i in range(DEVICES)]
        for _ in range(600):  # arrive and register (clock seconds)
            await clock.advance(0.1)
            if len(server.registrations()) == DEVICES:
                break
        campaign = SoftwareCampaign(
            server, PACKAGE, options=CampaignOptions(download_timeout=60, update_timeout=60)
        )
        task = asyncio.ensure_future(campaign.run(names))
        for _ in range(1200):
            if task.done():
                break
            await clock.advance(0.1)
        report = await asyncio.wait_for(task, 10)
        assert report.by_kind == {"updated": 4, "failed": 2}
        for _ in range(600):
            if run.done():
                break
            await clock.advance(0.5)
        summary = await asyncio.wait_for(run, 10)
    software = summary.software
    assert software["devices"] == DEVICES and software["completed"] == 4
    assert software["result 3"] == 5 and software["result 53"] == 1  # 5 delivered, 1 broken
    assert software["result 2"] == 4 and software["result 58"] == 1
    assert software["bytes"] == DEVICES * len(PACKAGE)
    downloads = summary.operations[Operation.SOFTWARE_DOWNLOAD]
    assert (downloads.count, downloads.failures, downloads.injected) == (DEVICES, 0, 1)
    seconds = len(PACKAGE) / LINK
    assert downloads.durations.min is not None and downloads.durations.min >= seconds * 0.9
    installs = summary.operations[Operation.SOFTWARE_INSTALL]
    assert (installs.count, installs.failures, installs.injected) == (5, 0, 1)
    # a group's firmware: key adds Object 5 too; nothing of /5 happened, its counts stay apart
    assert summary.firmware == {"devices": DEVICES}
    assert summary.operations[Operation.FIRMWARE_DOWNLOAD].count == 0
    failed = [(t.metric, t.expression) for t in summary.thresholds if not t.passed]
    assert failed == [("software_completed", "rate>=70%")]  # 4 of 6 is 66.7 %
    assert len(summary.thresholds) == 7 and summary.verdict == "failed"
    text = summary.table(ascii=True)
    assert f"software: {DEVICES} downloads" in text
    assert "campaign completion: 4 of 6 devices installed (66.7 %)" in text
    assert "kB/s a device" in text
    data = json.loads(summary.dumps())
    assert data["software"]["result 58"] == 1
    assert data["operations"]["software_download"]["injected"] == 1

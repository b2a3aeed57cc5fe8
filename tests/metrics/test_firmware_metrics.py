"""Firmware in the run's metrics and summary: downloads and updates as operations (durations,
failures, injected failures apart), outcomes by Update Result, bytes and throughput, JSON round
trip, merged shards, the text section and thresholds on the new metrics."""

from __future__ import annotations

from fleet.client.firmware.events import FirmwareDownloaded, FirmwareUpdated
from fleet.metrics import Operation, RunMetrics, Summary
from fleet.runner.events import MetricsBridge
from fleet.runner.fleet import evaluate_thresholds
from fleet.scenario.thresholds import parse_threshold


def fed() -> RunMetrics:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    for i in range(4):
        bridge(FirmwareDownloaded(f"d{i}", 10.0 + i, 0.0, 40_000, 0))
    bridge(FirmwareDownloaded("d4", 3.0, 0.0, 20_000, 5, injected=True))
    bridge(FirmwareDownloaded("d5", 2.0, 0.0, 8_000, 4))
    for i in range(3):
        bridge(FirmwareUpdated(f"d{i}", 20.0, 1, "2.0", started=15.0))
    bridge(FirmwareUpdated("d3", 25.0, 8, injected=True, started=15.0))
    return metrics


def test_the_bridge_counts_downloads_updates_and_results() -> None:
    metrics = fed()
    downloads = metrics.stats(Operation.FIRMWARE_DOWNLOAD)
    assert (downloads.count, downloads.failures, downloads.injected) == (6, 1, 1)
    assert downloads.durations.max is not None and 12.9 < downloads.durations.max < 13.1
    updates = metrics.stats(Operation.FIRMWARE_UPDATE)
    assert (updates.count, updates.failures, updates.injected) == (4, 0, 1)
    assert metrics.firmware == {
        "bytes": 188_000,
        "result 1": 3,
        "result 4": 1,
        "result 5": 1,
        "result 8": 1,
        "completed": 3,
    }


def test_summary_json_merge_and_text() -> None:
    summary = Summary.from_metrics(fed(), scenario="fota", duration=30.0, devices=6)
    again = Summary.loads(summary.dumps())
    assert again.firmware == summary.firmware
    assert again.operations[Operation.FIRMWARE_DOWNLOAD].count == 6
    merged = Summary.merge_all([summary, again])
    assert merged.firmware["result 1"] == 6 and merged.firmware["bytes"] == 376_000
    text = summary.table(ascii=True)
    assert "firmware: 6 downloads" in text and "188000 bytes" in text and "; 4 updates" in text
    assert "result 5 integrity check failure" in text
    assert "result 8 firmware update failed" in text


def test_thresholds_on_firmware_metrics() -> None:
    summary = Summary.from_metrics(fed(), duration=30.0)
    lines = evaluate_thresholds(
        summary,
        [
            parse_threshold("firmware_download_failed", "rate<0.1"),
            parse_threshold("firmware_download_duration", "p(95)<5s"),
            parse_threshold("firmware_update_failed", "count==0"),
        ],
    )
    assert [line.status for line in lines] == ["failed", "failed", "passed"]


def test_no_firmware_no_section() -> None:
    assert "firmware:" not in Summary.from_metrics(RunMetrics(), duration=1.0).table()

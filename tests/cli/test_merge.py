"""``fleet merge``: exact merge of machines' summaries, thresholds judged again, exit codes."""

from __future__ import annotations

import json
import pathlib

from click.testing import CliRunner

from fleet.cli import main
from fleet.metrics import LatencyHistogram, Operation, RunMetrics, Summary, ThresholdLine

SCENARIO = """
version: 1
server: coap://127.0.0.1:5683
seed: 4
groups:
  - count: 6
    endpoint: "m-{index:02d}"
thresholds:
  register_duration: ["max<2s"]
  register_failed: ["rate==0"]
"""


def summary(durations: list[float], *, devices: int, aborted: bool = False) -> Summary:
    metrics = RunMetrics()
    for seconds in durations:
        metrics.record(Operation.REGISTER, seconds)
    metrics.move_device(None, "registered")
    made = Summary.from_metrics(
        metrics, scenario="s", seed=4, started=100.0, duration=5.0, devices=devices, aborted=aborted
    )
    made.thresholds = (ThresholdLine("register_duration", "max<2s", 9.0, "failed"),)
    return made


def write(tmp_path: pathlib.Path, name: str, item: Summary) -> str:
    path = tmp_path / name
    path.write_text(item.dumps(), encoding="utf-8")
    return str(path)


def test_merge_adds_up_exactly_and_writes_json(tmp_path: pathlib.Path) -> None:
    a = write(tmp_path, "a.json", summary([0.01, 0.2, 1.5], devices=3))
    b = write(tmp_path, "b.json", summary([0.03, 0.04, 0.9], devices=3))
    out = tmp_path / "merged.json"
    result = CliRunner().invoke(main, ["merge", a, b, "--summary-json", str(out), "--ascii"])
    assert result.exit_code == 0, result.output
    merged = Summary.loads(out.read_text(encoding="utf-8"))
    expected = LatencyHistogram()
    for seconds in (0.01, 0.2, 1.5, 0.03, 0.04, 0.9):
        expected.record(seconds)
    assert merged.operations[Operation.REGISTER].durations == expected
    assert merged.operations[Operation.REGISTER].count == 6
    assert merged.devices == 6 and merged.shards == 2
    assert merged.device_states == {"registered": 2}
    assert merged.thresholds == ()  # per-slice verdicts are dropped without --scenario
    register = next(line.split() for line in result.output.splitlines() if line.startswith("reg"))
    assert register[1] == "6"


def test_thresholds_are_evaluated_on_the_merged_numbers(tmp_path: pathlib.Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    fast = write(tmp_path, "a.json", summary([0.1, 0.2, 0.3], devices=3))
    slow = write(tmp_path, "b.json", summary([0.1, 0.2, 3.0], devices=3))
    out = tmp_path / "merged.json"
    runner = CliRunner()
    ok = runner.invoke(main, ["merge", fast, fast, "--scenario", str(scenario)])
    assert ok.exit_code == 0, ok.output
    failed = runner.invoke(
        main, ["merge", fast, slow, "--scenario", str(scenario), "--summary-json", str(out)]
    )
    assert failed.exit_code == 99, failed.output
    lines = json.loads(out.read_text())["thresholds"]
    assert [(t["expression"], t["status"]) for t in lines] == [
        ("max<2s", "failed"),
        ("rate==0", "passed"),
    ]
    assert lines[0]["observed"] == 3.0


def test_a_device_total_unlike_the_scenario_is_reported(tmp_path: pathlib.Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    one = write(tmp_path, "a.json", summary([0.1], devices=3))
    result = CliRunner().invoke(main, ["merge", one, "--scenario", str(scenario)])
    assert result.exit_code == 0
    assert "cover 3 devices, the scenario has 6" in result.output


def test_an_aborted_slice_makes_the_merge_exit_130(tmp_path: pathlib.Path) -> None:
    a = write(tmp_path, "a.json", summary([0.1], devices=3))
    b = write(tmp_path, "b.json", summary([0.1], devices=3, aborted=True))
    assert CliRunner().invoke(main, ["merge", a, b]).exit_code == 130


def test_unreadable_inputs_exit_2_naming_each_file(tmp_path: pathlib.Path) -> None:
    good = write(tmp_path, "a.json", summary([0.1], devices=3))
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 9}', encoding="utf-8")
    missing = tmp_path / "missing.json"
    result = CliRunner().invoke(main, ["merge", good, str(bad), str(missing)])
    assert result.exit_code == 2
    assert f"{bad}: summary schema_version 9 is not supported" in result.output
    assert f"{missing}: cannot read the file" in result.output


def test_an_invalid_scenario_exits_2(tmp_path: pathlib.Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO.replace("count: 6", "count: six"), encoding="utf-8")
    good = write(tmp_path, "a.json", summary([0.1], devices=3))
    result = CliRunner().invoke(main, ["merge", good, "--scenario", str(scenario)])
    assert result.exit_code == 2
    assert f"{scenario}:" in result.output

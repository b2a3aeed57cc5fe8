"""The summary's JSON document: written stably, read back exactly, every field checked.

JSON form (``schema_version`` 1; times in seconds, wall times in Unix seconds)::

    {
      "schema_version": 1,
      "scenario": "smoke", "seed": 42, "started": 1700000000.0, "duration": 60.0,
      "ended": 1700000060.0, "verdict": "passed",  # derived; verdict: passed, failed, aborted
      "tool_version": "0.1.0", "scenario_path": "scenarios/smoke.yaml",
      "server_uri": "coap://127.0.0.1:5683",
      "devices": 100, "shards": 1, "aborted": false,
      "device_states": {"registered": 98, "failed": 2},   # "waiting": never started (aborted)
      "phases": [{"name": "warm-up", "start": 0.0, "end": 60.0, "planned": 100,
                  "arrived": 100}],     # the scenario's arrival phases (fleet.metrics.phases)
      "operations": {                      # every operation, always present
        "register": {"count": 100, "failures": 5, "injected": 0, "late": 0,
                     "failure_reasons": {"timeout": 3, "port unreachable": 2},
                     "durations": HISTOGRAM},
        "update": {...}, "deregister": {...}, "read": {...}, "write": {...},
        "execute": {...}, "observe": {...}, "discover": {...}, "create": {...},
        "delete": {...}, "write_attributes": {...}, "notify": {...}, "send": {...}
      },
      "lateness": HISTOGRAM,               # how late scheduled operations started
      "retransmissions": 3,
      "faults": {"reject 4.05": 12, "silence": 2, "drop register": 1},
      "groups": {"sensors": {"operations": {"register": {...}, ...}}},  # several groups only:
                                           # each group's operations that happened
      "metrics": {"register_duration": {"count": 100, "avg": 0.01, "p95": ...},
                  "request_failed": {"count": 0, "rate": 0.0}, ...},
      "thresholds": [{"metric": "register_duration", "expression": "p(95)<2s",
                      "observed": 0.52, "status": "passed"}]
    }

    HISTOGRAM = {"count", "min", "max", "avg", "p50", "p90", "p95", "p99",   # readable
                 "min_ns", "max_ns", "sum_ns", "sub_bucket_bits", "buckets": [[index, n], ...]}

``metrics`` and the readable histogram fields are derived and ignored by
:func:`summary_from_json`, which rebuilds the exact state of a
:class:`~fleet.metrics.summary.Summary` (what the fields mean: that module). A reader
must refuse a higher ``schema_version``; new optional fields may appear without a
version change (``faults`` is one: a reader of a document without it sees no faults;
``tool_version``, ``scenario_path`` and ``server_uri`` are others). Anything that does
not read is a :class:`~fleet.metrics.summary.SummaryError` naming the field.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping

from fleet.codec import json_text
from fleet.metrics.histogram import LatencyHistogram
from fleet.metrics.operations import Operation
from fleet.metrics.phases import PhaseLine
from fleet.metrics.summary import (
    SCHEMA_VERSION,
    OperationSummary,
    Summary,
    SummaryError,
    ThresholdLine,
    all_operations,
)
from fleet.metrics.views import METRIC_KINDS, TREND, MetricView


def summary_to_json(summary: Summary) -> dict[str, object]:
    """The document as JSON values (see the module docstring)."""
    metrics = {name: _readable(name, view) for name, view in summary.metrics().items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "scenario": summary.scenario,
        "seed": summary.seed,
        "started": summary.started,
        "duration": summary.duration,
        "ended": summary.ended,
        "verdict": summary.verdict,
        "tool_version": summary.tool_version,
        "scenario_path": summary.scenario_path,
        "server_uri": summary.server_uri,
        "devices": summary.devices,
        "shards": summary.shards,
        "aborted": summary.aborted,
        "device_states": dict(sorted(summary.device_states.items())),
        "phases": [phase.to_json() for phase in summary.phases],
        "operations": {op.value: operation_to_json(s) for op, s in summary.operations.items()},
        "lateness": summary.lateness.to_json(),
        "retransmissions": summary.retransmissions,
        "faults": dict(sorted(summary.faults.items())),
        "firmware": dict(sorted(summary.firmware.items())),
        "software": dict(sorted(summary.software.items())),
        "groups": {
            name: {
                "operations": {
                    op.value: operation_to_json(s) for op, s in ops.items() if s.count or s.late
                }
            }
            for name, ops in sorted(summary.groups.items())
        },
        "metrics": metrics,
        "thresholds": [
            {
                "metric": t.metric,
                "expression": t.expression,
                "observed": t.observed,
                "status": t.status,
            }
            for t in summary.thresholds
        ],
    }


def dump_summary(summary: Summary) -> str:
    """The JSON document as text: indented, each bucket list on one line, final newline."""
    data = summary_to_json(summary)
    compact: list[str] = []
    tag = secrets.token_hex(8)  # placeholders no user text can contain

    def fold(node: object) -> object:
        if isinstance(node, dict):
            return {
                k: _placeholder(compact, tag, v) if k == "buckets" else fold(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fold(item) for item in node]
        return node

    text = json_text.dumps(fold(data), indent=2)
    for i, chunk in enumerate(compact):
        text = text.replace(f'"{tag}-{i}"', chunk, 1)
    return text + "\n"


def load_summary(text: str) -> Summary:
    """A summary from the text of its document (:class:`SummaryError` if it is none)."""
    try:
        data = json_text.loads(text)
    except json.JSONDecodeError as exc:
        raise SummaryError(f"not a JSON summary: {exc}") from None
    return summary_from_json(data)


def summary_from_json(data: object) -> Summary:
    """Rebuild a summary from :meth:`to_json` (exactly; derived fields are ignored)."""
    try:
        return _read(_mapping(data, "summary"))
    except SummaryError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise SummaryError(f"bad summary: {exc}") from None


def _read(data: Mapping[str, object]) -> Summary:
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SummaryError(f"schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION or version < 1:
        raise SummaryError(
            f"summary schema_version {version} is not supported (this reads {SCHEMA_VERSION})"
        )
    summary = Summary()
    summary.scenario = str(data.get("scenario", ""))
    summary.tool_version = str(data.get("tool_version", ""))
    summary.scenario_path = str(data.get("scenario_path", ""))
    summary.server_uri = str(data.get("server_uri", ""))
    seed = data.get("seed")
    summary.seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
    started = data.get("started")
    summary.started = float(started) if isinstance(started, int | float) else None
    duration = data.get("duration", 0.0)
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration < 0:
        raise SummaryError(f"duration must be a number >= 0, got {duration!r}")
    summary.duration = float(duration)
    summary.devices = _count(data, "devices")
    summary.shards = _count(data, "shards")
    summary.aborted = bool(data.get("aborted", False))
    states = _mapping(data.get("device_states", {}), "device_states")
    summary.device_states = {str(k): _count(states, k) for k in states}
    phases = data.get("phases", [])
    if not isinstance(phases, list):
        raise SummaryError("phases must be a list")
    try:
        summary.phases = tuple(
            PhaseLine.from_json(_mapping(phase, "phase"), f"phases[{i}]")
            for i, phase in enumerate(phases)
        )
    except ValueError as error:
        raise SummaryError(str(error)) from None
    operations = _mapping(data.get("operations"), "operations")
    for name, value in operations.items():
        op = _operation(name)  # before the value: an unknown name is the first problem
        summary.operations[op] = operation_from_json(value)
    summary.lateness = LatencyHistogram.from_json(_mapping(data.get("lateness"), "lateness"))
    summary.retransmissions = _count(data, "retransmissions")
    faults = _mapping(data.get("faults", {}), "faults")
    summary.faults = {str(k): _count(faults, k) for k in faults}
    firmware = _mapping(data.get("firmware", {}), "firmware")
    summary.firmware = {str(k): _count(firmware, k) for k in firmware}
    software = _mapping(data.get("software", {}), "software")
    summary.software = {str(k): _count(software, k) for k in software}
    groups = _mapping(data.get("groups", {}), "groups")
    for name, group in groups.items():
        into = summary.groups[str(name)] = all_operations()
        for op_name, value in _mapping(
            _mapping(group, f"group {name}").get("operations", {}), "operations"
        ).items():
            op = _operation(op_name)
            into[op] = operation_from_json(value)
    lines = data.get("thresholds", [])
    if not isinstance(lines, list):
        raise SummaryError("thresholds must be a list")
    summary.thresholds = tuple(_threshold(line) for line in lines)
    return summary


def operation_to_json(stats: OperationSummary) -> dict[str, object]:
    """One operation's entry of ``operations`` (and of each group's)."""
    data: dict[str, object] = {
        "count": stats.count,
        "failures": stats.failures,
        "injected": stats.injected,
        "late": stats.late,
        "durations": stats.durations.to_json(),
    }
    if stats.failure_reasons:
        data["failure_reasons"] = dict(sorted(stats.failure_reasons.items()))
    return data


def operation_from_json(data: object) -> OperationSummary:
    """One operation's entry back (every count checked)."""
    mapping = _mapping(data, "operation")
    durations = LatencyHistogram.from_json(_mapping(mapping.get("durations"), "durations"))
    return OperationSummary(
        _count(mapping, "count"),
        _count(mapping, "failures"),
        _count(mapping, "injected"),
        _count(mapping, "late"),
        durations,
        _reasons(mapping.get("failure_reasons")),
    )


def _operation(name: str) -> Operation:
    try:
        return Operation(name)
    except ValueError:
        raise SummaryError(f"unknown operation {name!r}") from None


def _placeholder(compact: list[str], tag: str, value: object) -> str:
    compact.append(json_text.dumps(value, separators=(",", ":")))
    return f"{tag}-{len(compact) - 1}"


def _readable(name: str, view: MetricView) -> dict[str, object]:
    if METRIC_KINDS.get(name) == TREND:
        return {
            "count": view.count,
            "avg": view.avg,
            "min": view.min,
            "max": view.max,
            "p50": view.percentile(50),
            "p95": view.percentile(95),
            "p99": view.percentile(99),
        }
    return {"count": view.count, "rate": view.rate}


def _threshold(data: object) -> ThresholdLine:
    line = _mapping(data, "threshold")
    observed = line.get("observed")
    return ThresholdLine(
        str(line.get("metric", "")),
        str(line.get("expression", "")),
        float(observed) if isinstance(observed, int | float) else None,
        str(line.get("status", "")),
    )


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise SummaryError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _count(data: Mapping[str, object], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SummaryError(f"{key} must be a whole number >= 0, got {value!r}")
    return value


def _reasons(value: object) -> dict[str, int]:
    """An operation's ``failure_reasons`` (absent: none)."""
    if value is None:
        return {}
    mapping = _mapping(value, "failure_reasons")
    return {str(cause): _count(mapping, str(cause)) for cause in mapping}

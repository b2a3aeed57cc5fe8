"""The end-of-run summary: a table for people, a stable JSON document for machines.

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
:meth:`Summary.from_json`, which rebuilds the exact state. ``count`` of an
operation counts completed attempts; ``failures`` real failures; ``injected``
failures a fault plan caused (not in ``failures``); ``failure_reasons`` the real failures
by cause (``timeout``, ``port unreachable``, ``4.00 Bad Request``...; absent when there
were none; merged by adding); ``late`` operations the
saturated process started late. ``faults`` counts the faults the scenario's fault plan
injected, by label (``reject 4.05``, ``drop``, ``reboot``, ``drop register``...): what
happened on purpose, apart from the failures the server caused; the table shows them
in their own section. :meth:`Summary.merge` combines summaries of
shards or machines that ran *at the same time*: counts and histograms add up
exactly (``faults`` too), ``devices`` and ``shards`` add, ``started`` is the earliest,
``duration`` the longest; thresholds are dropped (evaluate them again on the
merged summary). A reader must refuse a higher ``schema_version``; new
optional fields may appear without a version change (``faults`` is one: a reader
of a document without it sees no faults; ``tool_version``, ``scenario_path`` and
``server_uri`` are others: a merge keeps them when every input agrees, else joins them
with ``" + "``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from fleet.codec import json_text
from fleet.errors import FleetError
from fleet.metrics.firmware import firmware_table, software_table
from fleet.metrics.histogram import LatencyHistogram
from fleet.metrics.operations import Operation, RunMetrics
from fleet.metrics.phases import PhaseLine, merge_phases
from fleet.metrics.version import package_version
from fleet.metrics.views import METRIC_KINDS, TREND, MetricView, metric_views

SCHEMA_VERSION: Final = 1


class SummaryError(FleetError, ValueError):
    """A summary JSON document that cannot be read."""


@dataclass(slots=True)
class OperationSummary:
    count: int = 0
    failures: int = 0
    injected: int = 0
    late: int = 0
    durations: LatencyHistogram = field(default_factory=LatencyHistogram)
    failure_reasons: dict[str, int] = field(default_factory=dict)
    """Real failures by cause (``{"timeout": 3, "4.00 Bad Request": 1}``)."""

    def merge(self, other: OperationSummary) -> None:
        self.count += other.count
        self.failures += other.failures
        self.injected += other.injected
        self.late += other.late
        self.durations.merge(other.durations)
        for cause, n in other.failure_reasons.items():
            self.failure_reasons[cause] = self.failure_reasons.get(cause, 0) + n

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "count": self.count,
            "failures": self.failures,
            "injected": self.injected,
            "late": self.late,
            "durations": self.durations.to_json(),
        }
        if self.failure_reasons:
            data["failure_reasons"] = dict(sorted(self.failure_reasons.items()))
        return data

    @classmethod
    def from_json(cls, data: object) -> OperationSummary:
        mapping = _mapping(data, "operation")
        durations = LatencyHistogram.from_json(_mapping(mapping.get("durations"), "durations"))
        return cls(
            _count(mapping, "count"),
            _count(mapping, "failures"),
            _count(mapping, "injected"),
            _count(mapping, "late"),
            durations,
            _reasons(mapping.get("failure_reasons")),
        )


@dataclass(frozen=True, slots=True)
class ThresholdLine:
    """A threshold's outcome as the summary shows it (``status``: passed, failed, no data -
    the last only where the threshold allows no data)."""

    metric: str
    expression: str
    observed: float | None
    status: str

    @property
    def passed(self) -> bool:
        return self.status != "failed"


def _all_operations() -> dict[Operation, OperationSummary]:
    return {op: OperationSummary() for op in Operation}


@dataclass(slots=True)
class Summary:
    """What a run (or several merged) did."""

    scenario: str = ""
    seed: int | None = None
    started: float | None = None
    duration: float = 0.0
    devices: int = 0
    shards: int = 1
    aborted: bool = False
    device_states: dict[str, int] = field(default_factory=dict)
    operations: dict[Operation, OperationSummary] = field(default_factory=_all_operations)
    lateness: LatencyHistogram = field(default_factory=LatencyHistogram)
    retransmissions: int = 0
    thresholds: tuple[ThresholdLine, ...] = ()
    faults: dict[str, int] = field(default_factory=dict)
    """Faults injected on purpose, by label (``reject 4.05``, ``silence``...)."""
    firmware: dict[str, int] = field(default_factory=dict)
    """Firmware outcomes by Update Result (``result 1``...) and ``bytes`` downloaded."""
    software: dict[str, int] = field(default_factory=dict)
    """Object 9 outcomes by its Update Result (``result 3``, ``result 53``...) and ``bytes``."""
    tool_version: str = ""
    scenario_path: str = ""
    server_uri: str = ""
    groups: dict[str, dict[Operation, OperationSummary]] = field(default_factory=dict)
    """The operations of each device group (scenarios of several groups)."""
    phases: tuple[PhaseLine, ...] = ()
    """The scenario's arrival phases: label, span and devices planned/arrived."""

    @property
    def ended(self) -> float | None:
        return None if self.started is None else self.started + self.duration

    @property
    def verdict(self) -> str:
        """``aborted``, ``failed`` (a threshold failed) or ``passed``."""
        if self.aborted:
            return "aborted"
        return "failed" if any(not t.passed for t in self.thresholds) else "passed"

    @classmethod
    def from_metrics(
        cls,
        metrics: RunMetrics,
        *,
        scenario: str = "",
        seed: int | None = None,
        started: float | None = None,
        duration: float = 0.0,
        devices: int = 0,
        shards: int = 1,
        aborted: bool = False,
    ) -> Summary:
        operations = _summaries(metrics)
        groups = {name: _summaries(group) for name, group in sorted(metrics.groups.items())}
        return cls(
            scenario,
            seed,
            started,
            duration,
            devices,
            shards,
            aborted,
            dict(metrics.devices),
            operations,
            metrics.lateness.copy(),
            metrics.retransmissions,
            faults=dict(metrics.faults),
            firmware=dict(metrics.firmware),
            software=dict(metrics.software),
            tool_version=package_version(),
            groups=groups,
        )

    # -- named metrics ----------------------------------------------------------------------------

    @property
    def late_operations(self) -> int:
        return sum(s.late for s in self.operations.values())

    def metrics(self) -> dict[str, MetricView]:
        """Every named metric (``register_duration``, ``request_failed`` ...): see ``views``."""
        return metric_views(
            self.operations,
            retransmissions=self.retransmissions,
            late_operations=self.late_operations,
            seconds=self.duration,
            firmware=self.firmware,
            software=self.software,
        )

    def metric(self, name: str) -> MetricView:
        """One named metric; ``KeyError`` for an unknown name."""
        return self.metrics()[name]

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    def table(self, *, ascii: bool = False) -> str:
        """The summary as a text table (see :mod:`fleet.metrics.report`), then the injected
        faults in their own section."""
        from fleet.metrics.report import render_summary

        operations = self.operations
        return (
            render_summary(self, ascii=ascii)
            + self.faults_table()
            + firmware_table(
                self.firmware,
                operations[Operation.FIRMWARE_DOWNLOAD],
                operations[Operation.FIRMWARE_UPDATE],
            )
            + software_table(
                self.software,
                operations[Operation.SOFTWARE_DOWNLOAD],
                operations[Operation.SOFTWARE_INSTALL],
            )
        )

    def faults_table(self) -> str:
        """The injected-faults section (empty text when none were injected)."""
        if not self.faults:
            return ""
        width = max(len(label) for label in self.faults)
        lines = [
            "",
            f"faults (injected on purpose, not counted as failures): {self.faults_injected}",
        ]
        for label, n in sorted(self.faults.items()):
            lines.append(f"  {label.ljust(width)}  {n}")
        return "\n".join(lines) + "\n"

    # -- merging ----------------------------------------------------------------------------------

    def merge(self, other: Summary) -> Summary:
        """A new summary of both runs (exact; see the module documentation)."""
        return Summary.merge_all([self, other])

    @staticmethod
    def merge_all(summaries: Iterable[Summary]) -> Summary:
        items = list(summaries)
        if not items:
            return Summary()
        result = Summary(shards=0)
        names = {s.scenario for s in items}
        seeds = {s.seed for s in items}
        result.scenario = names.pop() if len(names) == 1 else " + ".join(sorted(names))
        result.seed = seeds.pop() if len(seeds) == 1 else None
        result.tool_version = _joined(s.tool_version for s in items)
        result.scenario_path = _joined(s.scenario_path for s in items)
        result.server_uri = _joined(s.server_uri for s in items)
        starts = [s.started for s in items if s.started is not None]
        result.started = min(starts) if starts else None
        if len(starts) == len(items):  # machines started apart: the span of them all
            result.duration = max(s.started + s.duration for s in items if s.started is not None)
            result.duration -= min(starts)
        else:
            result.duration = max(s.duration for s in items)
        for item in items:
            result.devices += item.devices
            result.shards += item.shards
            result.aborted = result.aborted or item.aborted
            result.retransmissions += item.retransmissions
            for label, n in item.faults.items():
                result.faults[label] = result.faults.get(label, 0) + n
            for key, n in item.firmware.items():
                result.firmware[key] = result.firmware.get(key, 0) + n
            for key, n in item.software.items():
                result.software[key] = result.software.get(key, 0) + n
            result.lateness.merge(item.lateness)
            for state, n in item.device_states.items():
                result.device_states[state] = result.device_states.get(state, 0) + n
            for op, stats in item.operations.items():
                result.operations[op].merge(stats)
            for name, operations in item.groups.items():
                into = result.groups.setdefault(name, _all_operations())
                for op, stats in operations.items():
                    into[op].merge(stats)
        result.phases = merge_phases(item.phases for item in items)
        return result

    # -- JSON -------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        metrics = {name: _readable(name, view) for name, view in self.metrics().items()}
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "seed": self.seed,
            "started": self.started,
            "duration": self.duration,
            "ended": self.ended,
            "verdict": self.verdict,
            "tool_version": self.tool_version,
            "scenario_path": self.scenario_path,
            "server_uri": self.server_uri,
            "devices": self.devices,
            "shards": self.shards,
            "aborted": self.aborted,
            "device_states": dict(sorted(self.device_states.items())),
            "phases": [phase.to_json() for phase in self.phases],
            "operations": {op.value: s.to_json() for op, s in self.operations.items()},
            "lateness": self.lateness.to_json(),
            "retransmissions": self.retransmissions,
            "faults": dict(sorted(self.faults.items())),
            "firmware": dict(sorted(self.firmware.items())),
            "software": dict(sorted(self.software.items())),
            "groups": {
                name: {
                    "operations": {
                        op.value: s.to_json() for op, s in ops.items() if s.count or s.late
                    }
                }
                for name, ops in sorted(self.groups.items())
            },
            "metrics": metrics,
            "thresholds": [
                {
                    "metric": t.metric,
                    "expression": t.expression,
                    "observed": t.observed,
                    "status": t.status,
                }
                for t in self.thresholds
            ],
        }

    def dumps(self) -> str:
        """The JSON document as text: indented, each bucket list on one line, final newline."""
        data = self.to_json()
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

    @classmethod
    def loads(cls, text: str) -> Summary:
        try:
            data = json_text.loads(text)
        except json.JSONDecodeError as exc:
            raise SummaryError(f"not a JSON summary: {exc}") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: object) -> Summary:
        """Rebuild a summary from :meth:`to_json` (exactly; derived fields are ignored)."""
        try:
            return cls._from_json(_mapping(data, "summary"))
        except SummaryError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise SummaryError(f"bad summary: {exc}") from None

    @classmethod
    def _from_json(cls, data: Mapping[str, object]) -> Summary:
        version = data.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise SummaryError(f"schema_version must be an integer, got {version!r}")
        if version > SCHEMA_VERSION or version < 1:
            raise SummaryError(
                f"summary schema_version {version} is not supported (this reads {SCHEMA_VERSION})"
            )
        summary = cls()
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
            summary.operations[op] = OperationSummary.from_json(value)
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
            into = summary.groups[str(name)] = _all_operations()
            for op_name, value in _mapping(
                _mapping(group, f"group {name}").get("operations", {}), "operations"
            ).items():
                op = _operation(op_name)
                into[op] = OperationSummary.from_json(value)
        lines = data.get("thresholds", [])
        if not isinstance(lines, list):
            raise SummaryError("thresholds must be a list")
        summary.thresholds = tuple(_threshold(line) for line in lines)
        return summary


def _summaries(metrics: RunMetrics) -> dict[Operation, OperationSummary]:
    return {
        op: OperationSummary(
            s.count, s.failures, s.injected, s.late, s.durations.copy(), dict(s.reasons)
        )
        for op, s in metrics.operations.items()
    }


def _operation(name: str) -> Operation:
    try:
        return Operation(name)
    except ValueError:
        raise SummaryError(f"unknown operation {name!r}") from None


def _joined(values: Iterable[str]) -> str:
    distinct = sorted({v for v in values if v})
    return " + ".join(distinct)


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

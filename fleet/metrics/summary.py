"""The end-of-run summary: what a run (or several merged) did, as a table for people.

Its stable JSON document for machines is written and read by
:mod:`fleet.metrics.summary_json` (:meth:`Summary.to_json`, :meth:`Summary.dumps`,
:meth:`Summary.loads` and :meth:`Summary.from_json` are its doors). ``count`` of an
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
merged summary); ``tool_version``, ``scenario_path`` and ``server_uri`` are kept when
every input agrees, else joined with ``" + "``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from fleet.errors import FleetError
from fleet.metrics.firmware import firmware_table, software_table
from fleet.metrics.histogram import LatencyHistogram
from fleet.metrics.operations import Operation, RunMetrics
from fleet.metrics.phases import PhaseLine, merge_phases
from fleet.metrics.version import package_version
from fleet.metrics.views import MetricView, metric_views

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
        from fleet.metrics.summary_json import operation_to_json

        return operation_to_json(self)

    @classmethod
    def from_json(cls, data: object) -> OperationSummary:
        from fleet.metrics.summary_json import operation_from_json

        return operation_from_json(data)


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


def all_operations() -> dict[Operation, OperationSummary]:
    """A summary of every operation, each empty."""
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
    operations: dict[Operation, OperationSummary] = field(default_factory=all_operations)
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
                into = result.groups.setdefault(name, all_operations())
                for op, stats in operations.items():
                    into[op].merge(stats)
        result.phases = merge_phases(item.phases for item in items)
        return result

    # -- JSON (fleet.metrics.summary_json) --------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        from fleet.metrics.summary_json import summary_to_json

        return summary_to_json(self)

    def dumps(self) -> str:
        """The JSON document as text: indented, each bucket list on one line, final newline."""
        from fleet.metrics.summary_json import dump_summary

        return dump_summary(self)

    @classmethod
    def loads(cls, text: str) -> Summary:
        from fleet.metrics.summary_json import load_summary

        return load_summary(text)

    @classmethod
    def from_json(cls, data: object) -> Summary:
        """Rebuild a summary from :meth:`to_json` (exactly; derived fields are ignored)."""
        from fleet.metrics.summary_json import summary_from_json

        return summary_from_json(data)


def _summaries(metrics: RunMetrics) -> dict[Operation, OperationSummary]:
    return {
        op: OperationSummary(
            s.count, s.failures, s.injected, s.late, s.durations.copy(), dict(s.reasons)
        )
        for op, s in metrics.operations.items()
    }


def _joined(values: Iterable[str]) -> str:
    distinct = sorted({v for v in values if v})
    return " + ".join(distinct)

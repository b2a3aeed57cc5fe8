"""What the fleet did, counted per operation while a run goes on.

:class:`RunMetrics` is the one place the runner and the clients report to
(plain method calls, no I/O); the end-of-run :class:`~fleet.metrics.summary.Summary`
and the Prometheus collectors both read it, so there is one bookkeeping.
With several shard processes each keeps its own; :meth:`RunMetrics.merged`
adds them up exactly (counts, histograms, Prometheus buckets, device states)
for the one live view and endpoint of the whole run.

Per :class:`Operation` it keeps an :class:`OperationStats`:

- ``count``: attempts that completed (answered, failed or timed out);
- ``failures``: attempts that failed for real (error code, timeout), and by cause in
  ``reasons`` (``timeout``, ``port unreachable``, ``4.00 Bad Request``...);
- ``injected``: attempts a fault plan made fail on purpose — counted here and
  NOT in ``failures``, so a fault test does not look like a broken server;
- ``late``: operations the scheduler started later than due by more than
  the tolerance because the process was saturated (with how late in the run's
  ``lateness`` histogram) — an overloaded generator, not a slow server;
- ``durations``: every completed attempt's duration (failures included),
  plus exact counts per Prometheus bucket.

Durations mean: register/update/deregister/send: request sent until answer
(retransmissions included); bootstrap: Bootstrap-Request sent (or the
Bootstrap-Server's first operation) until Finish accepted, or until the attempt
failed; server requests (read ... write_attributes): request received until answered;
``notify``: how late the notification left compared with when it was due;
``firmware_download``: a Package URI (or pushed package) received until Downloaded
or failed; ``firmware_update``: executed Update until its result. ``firmware``
counts the firmware outcomes by Update Result (``result 1``, ``result 5``...) and
the bytes downloaded (``bytes``). Object 9 Software Management likewise:
``software_download`` (a Package URI or pushed package of an instance received until
Delivered or failed), ``software_install`` (Install executed until Installed or 58), and
``software`` counts their outcomes by the instance's Update Result (``result 3``,
``result 53``...) and ``bytes``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Final

from fleet.metrics.histogram import LatencyHistogram

OTHER_REASON: Final = "other"
"""The cause a failure is counted under when nobody said why."""


class Operation(Enum):
    """Every operation the fleet counts; the value is the name used in metrics and JSON."""

    REGISTER = "register"
    UPDATE = "update"
    DEREGISTER = "deregister"
    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    OBSERVE = "observe"
    DISCOVER = "discover"
    CREATE = "create"
    DELETE = "delete"
    WRITE_ATTRIBUTES = "write_attributes"
    NOTIFY = "notify"
    SEND = "send"
    HANDSHAKE = "handshake"
    BOOTSTRAP = "bootstrap"
    FIRMWARE_DOWNLOAD = "firmware_download"
    FIRMWARE_UPDATE = "firmware_update"
    SOFTWARE_DOWNLOAD = "software_download"
    SOFTWARE_INSTALL = "software_install"

    @property
    def served(self) -> bool:
        """A request the device answers for the server (not one it sends itself)."""
        return self in SERVED


SERVED: Final = frozenset(
    {
        Operation.READ,
        Operation.WRITE,
        Operation.EXECUTE,
        Operation.OBSERVE,
        Operation.DISCOVER,
        Operation.CREATE,
        Operation.DELETE,
        Operation.WRITE_ATTRIBUTES,
    }
)

PROMETHEUS_BUCKETS: Final = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.0,
    3.0,
    6.0,
    9.0,
    14.0,
    21.0,
    30.0,
    45.0,
    62.0,
    93.0,
    120.0,
)
"""Upper bounds (seconds) of the Prometheus histograms: from 50 µs (a served Read on loopback
takes a few hundred µs, a Register about a millisecond), the usual sub-second ones, then CoAP's
retransmission times (ACK_TIMEOUT 2 s doubled at each retry: 2, 6, 14, 30, 62 s; 3, 9, 21, 45,
93 s with the 1.5 random factor at its top; 93 s is MAX_TRANSMIT_WAIT)."""

DEFAULT_LATE_AFTER: Final = 1.0
"""Seconds past its due time after which a scheduled operation counts as late."""


class OperationStats:
    """Counters and durations of one operation."""

    __slots__ = ("count", "durations", "failures", "injected", "late", "prometheus", "reasons")

    def __init__(self) -> None:
        self.count = 0
        self.failures = 0
        self.reasons: dict[str, int] = {}
        """Real failures by cause (``timeout``, ``port unreachable``, ``4.00 Bad Request``)."""
        self.injected = 0
        self.late = 0
        self.durations = LatencyHistogram()
        self.prometheus = [0] * (len(PROMETHEUS_BUCKETS) + 1)

    def record(
        self,
        duration: float | None,
        *,
        ok: bool = True,
        injected: bool = False,
        reason: str | None = None,
    ) -> None:
        """One attempt; a real failure (``ok=False``, not ``injected``) is counted under
        ``reason`` too (``None``: a failure without a known cause, counted as "other")."""
        self.count += 1
        if injected:
            self.injected += 1
        elif not ok:
            self.failures += 1
            cause = reason or OTHER_REASON
            self.reasons[cause] = self.reasons.get(cause, 0) + 1
        if duration is not None:
            self.durations.record(duration)
            self.prometheus[bisect_left(PROMETHEUS_BUCKETS, duration)] += 1

    @property
    def succeeded(self) -> int:
        return self.count - self.failures - self.injected

    def merge(self, other: OperationStats) -> None:
        self.count += other.count
        self.failures += other.failures
        self.injected += other.injected
        self.late += other.late
        for cause, n in other.reasons.items():
            self.reasons[cause] = self.reasons.get(cause, 0) + n
        self.durations.merge(other.durations)
        self.prometheus = [a + b for a, b in zip(self.prometheus, other.prometheus, strict=True)]


class RunMetrics:
    """Everything counted during a run (one per shard; summaries merge)."""

    def __init__(self, *, late_after: float = DEFAULT_LATE_AFTER) -> None:
        self.late_after = late_after
        self.operations: dict[Operation, OperationStats] = {
            op: OperationStats() for op in Operation
        }
        self.lateness = LatencyHistogram()
        self.lateness_prometheus = [0] * (len(PROMETHEUS_BUCKETS) + 1)
        self.retransmissions = 0
        self.devices: dict[str, int] = {}
        self.faults: dict[str, int] = {}
        """Faults injected on purpose, by action (``reject 4.05``, ``drop``, ``reboot``...)."""
        self.firmware: dict[str, int] = {}
        """Firmware downloads and updates by Update Result (``result 5``), and ``bytes``."""
        self.software: dict[str, int] = {}
        """Object 9 downloads and installs by Update Result (``result 53``), and ``bytes``."""
        self.groups: dict[str, RunMetrics] = {}
        """The same counts per device group (scenarios of several groups; see ``group``)."""

    def group(self, name: str) -> RunMetrics:
        """The metrics of one device group (created on first use)."""
        found = self.groups.get(name)
        if found is None:
            found = self.groups[name] = RunMetrics(late_after=self.late_after)
        return found

    def record(
        self,
        operation: Operation,
        duration: float | None,
        *,
        ok: bool = True,
        injected: bool = False,
        reason: str | None = None,
    ) -> None:
        """One attempt of ``operation`` completed after ``duration`` seconds (a failure's
        short cause in ``reason``)."""
        self.operations[operation].record(duration, ok=ok, injected=injected, reason=reason)

    def started(self, operation: Operation, due: float, now: float) -> bool:
        """A scheduled operation starts at ``now``; count it late when ``now - due`` is too much.

        Every start's lateness goes to the ``lateness`` histogram; returns True
        when it counted as late.
        """
        delay = max(0.0, now - due)
        self.lateness.record(delay)
        self.lateness_prometheus[bisect_left(PROMETHEUS_BUCKETS, delay)] += 1
        if delay > self.late_after:
            self.operations[operation].late += 1
            return True
        return False

    def retransmitted(self, times: int = 1) -> None:
        self.retransmissions += times

    def fault_injected(self, action: str, times: int = 1) -> None:
        """A fault plan injected ``action`` (counted apart from failures the server caused)."""
        self.faults[action] = self.faults.get(action, 0) + times

    def firmware_count(self, key: str, times: int = 1) -> None:
        """Count a firmware outcome (``result N``) or downloaded ``bytes``."""
        self.firmware[key] = self.firmware.get(key, 0) + times

    def software_count(self, key: str, times: int = 1) -> None:
        """Count an Object 9 outcome (``result N``) or downloaded ``bytes``."""
        self.software[key] = self.software.get(key, 0) + times

    def set_devices(self, states: Mapping[str, int]) -> None:
        """Replace the device counts by state (``registered``, ``registering``, ...)."""
        self.devices = {state: n for state, n in states.items() if n}

    def move_device(self, old: str | None, new: str | None) -> None:
        """One device left state ``old`` (None: it is new) for ``new`` (None: it is gone)."""
        if old is not None:
            remaining = self.devices.get(old, 0) - 1
            if remaining > 0:
                self.devices[old] = remaining
            else:
                self.devices.pop(old, None)
        if new is not None:
            self.devices[new] = self.devices.get(new, 0) + 1

    def merge(self, other: RunMetrics) -> None:
        """Add ``other`` (another shard's metrics) to these, exactly."""
        for op, stats in other.operations.items():
            self.operations[op].merge(stats)
        self.lateness.merge(other.lateness)
        self.lateness_prometheus = [
            a + b for a, b in zip(self.lateness_prometheus, other.lateness_prometheus, strict=True)
        ]
        self.retransmissions += other.retransmissions
        for state, n in other.devices.items():
            self.devices[state] = self.devices.get(state, 0) + n
        for action, n in other.faults.items():
            self.faults[action] = self.faults.get(action, 0) + n
        for key, n in other.firmware.items():
            self.firmware[key] = self.firmware.get(key, 0) + n
        for key, n in other.software.items():
            self.software[key] = self.software.get(key, 0) + n
        for name, group in other.groups.items():
            self.group(name).merge(group)

    @classmethod
    def merged(cls, items: Iterable[RunMetrics]) -> RunMetrics:
        """New metrics holding every one of ``items`` (the live view of several shards)."""
        result: RunMetrics | None = None
        for item in items:
            if result is None:
                result = cls(late_after=item.late_after)
            result.merge(item)
        return result if result is not None else cls()

    @property
    def late_operations(self) -> int:
        return sum(stats.late for stats in self.operations.values())

    def stats(self, operation: Operation) -> OperationStats:
        return self.operations[operation]

"""What a running fleet shows on stderr: a live view on a terminal, status lines otherwise.

:func:`snapshot` reads a shard and its metrics into a :class:`Snapshot`;
:func:`status_line` renders one line from two snapshots (rates are the
difference over the time between them)::

    12.0s  phase ramp  registered 180 registering 15 waiting 5  reg/s 20.0  served 42  errors 0

(``phase``: the scenario's arrival phase running, by name or position; ``waiting``: devices
not started yet; ``notifications`` left out here),

and, while devices fail to register, how many and the most common cause::

    30.0s  waiting-retry 20  reg/s 0.0  served 0  notifications 0  errors 20
           failing to register 20 (port unreachable)

(one line on the terminal; cut in two here).

:class:`Progress` prints it: on an interactive terminal it rewrites one line
in place every ``interval`` seconds (default 0.5 s), otherwise it writes a
new line every ``interval`` seconds (default 5 s). ``fleet run --quiet``
does not create one. Only the results go to stdout.

With several shard processes the parent merges the workers' snapshots with
:func:`merge_snapshots` (states and counts add up, the time is the latest)
and shows one line for the whole run (:meth:`Progress.of_source`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, TextIO

from fleet.clock import Clock
from fleet.metrics import SERVED, Operation, RunMetrics
from fleet.runner.phases import current_phase
from fleet.runner.shard import Shard

STATE_ORDER: Final = (
    "registered",
    "registering",
    "updating",
    "waiting-retry",
    "deregistering",
    "rebooting",
    "away",
    "stopped",
    "failed",
    "waiting",
)
FAILING_STATES: Final = ("waiting-retry", "failed")
"""States of a device whose Register (or Update) failed and that is not registered."""
TTY_INTERVAL: Final = 0.5
LINE_INTERVAL: Final = 5.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The numbers of the progress view at one moment (``time``: run seconds)."""

    time: float
    states: Mapping[str, int] = field(default_factory=dict)
    registrations: int = 0
    served: int = 0
    notifications: int = 0
    errors: int = 0
    register_reasons: Mapping[str, int] = field(default_factory=dict)
    """Failed Registers so far by cause (the line names the most common)."""
    phase: str | None = None
    """The arrival phase running (its name, else its position), ``None``: none."""

    @property
    def failing(self) -> int:
        """Devices failing to register now: waiting to retry, or given up."""
        return sum(self.states.get(state, 0) for state in FAILING_STATES)

    @property
    def top_reason(self) -> str | None:
        """The most common cause of failed Registers so far."""
        if not self.register_reasons:
            return None
        return min(self.register_reasons.items(), key=lambda item: (-item[1], item[0]))[0]


def snapshot(shard: Shard, metrics: RunMetrics) -> Snapshot:
    """The current numbers of a running shard."""
    ops = metrics.operations
    return Snapshot(
        shard.run_time(),
        dict(shard.states()),
        ops[Operation.REGISTER].count - ops[Operation.REGISTER].failures,
        sum(ops[op].count for op in SERVED),
        ops[Operation.NOTIFY].count,
        sum(stats.failures for stats in ops.values()),
        dict(ops[Operation.REGISTER].reasons),
        current_phase(shard.plan, shard.run_time()),
    )


def merge_snapshots(snapshots: Iterable[Snapshot]) -> Snapshot:
    """One snapshot of several shards taken at about the same time: everything adds up."""
    items = list(snapshots)
    states: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for item in items:
        states.update(item.states)
        reasons.update(item.register_reasons)
    return Snapshot(
        max((item.time for item in items), default=0.0),
        {state: n for state, n in states.items() if n},
        sum(item.registrations for item in items),
        sum(item.served for item in items),
        sum(item.notifications for item in items),
        sum(item.errors for item in items),
        dict(reasons),
        max(items, key=lambda item: item.time).phase if items else None,
    )


def status_line(now: Snapshot, before: Snapshot | None = None) -> str:
    """One status line; ``reg/s`` over the time since ``before`` (since 0 without it)."""
    states = sorted(
        ((s, n) for s, n in now.states.items() if n),
        key=lambda item: (
            STATE_ORDER.index(item[0]) if item[0] in STATE_ORDER else len(STATE_ORDER),
            item[0],
        ),
    )
    since = before.time if before is not None else 0.0
    registered_before = before.registrations if before is not None else 0
    span = now.time - since
    rate = (now.registrations - registered_before) / span if span > 0 else 0.0
    parts = [f"{now.time:6.1f}s"]
    if now.phase is not None:
        parts.append(f"phase {now.phase}")
    parts.append(" ".join(f"{state} {n}" for state, n in states) or "no devices")
    parts.append(f"reg/s {rate:.1f}")
    parts.append(f"served {now.served}")
    parts.append(f"notifications {now.notifications}")
    parts.append(f"errors {now.errors}")
    if now.failing:
        reason = now.top_reason
        parts.append(f"failing to register {now.failing}" + (f" ({reason})" if reason else ""))
    return "  ".join(parts)


class Progress:
    """Prints status lines about ``shard`` (or any snapshot source) to ``stream`` until
    :meth:`close`."""

    def __init__(
        self,
        shard: Shard | None,
        metrics: RunMetrics | None,
        stream: TextIO,
        *,
        clock: Clock,
        interactive: bool | None = None,
        interval: float | None = None,
        source: Callable[[], Snapshot] | None = None,
    ) -> None:
        if source is None:
            if shard is None or metrics is None:
                raise TypeError("Progress needs a shard and its metrics, or a source")
            source = _shard_source(shard, metrics)
        self.source = source
        self.stream = stream
        self.clock = clock
        self.interactive = stream.isatty() if interactive is None else interactive
        self.interval = interval or (TTY_INTERVAL if self.interactive else LINE_INTERVAL)
        self._before: Snapshot | None = None
        self._task: asyncio.Task[None] | None = None
        self._dirty = False

    def show(self) -> str:
        """Print one update now (and return the line)."""
        now = self.source()
        line = status_line(now, self._before)
        self._before = now
        if self.interactive:
            self.stream.write("\r\x1b[K" + line)
            self._dirty = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        return line

    @classmethod
    def of_source(
        cls,
        source: Callable[[], Snapshot],
        stream: TextIO,
        *,
        clock: Clock,
        interactive: bool | None = None,
        interval: float | None = None,
    ) -> Progress:
        """A view of whatever ``source`` returns (the merged snapshot of several workers)."""
        return cls(
            None,
            None,
            stream,
            clock=clock,
            interactive=interactive,
            interval=interval,
            source=source,
        )

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        next_at = self.clock.now() + self.interval
        while True:
            await self.clock.sleep_until(next_at)
            self.show()
            next_at += self.interval

    async def close(self) -> None:
        """Stop updating; end the live line so what follows starts on a fresh line."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._dirty:
            self.stream.write("\n")
            self.stream.flush()
            self._dirty = False


def _shard_source(shard: Shard, metrics: RunMetrics) -> Callable[[], Snapshot]:
    def read() -> Snapshot:
        shard.update_device_metrics()
        return snapshot(shard, metrics)

    return read

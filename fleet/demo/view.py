"""What the demo shows: :class:`DemoState` and its pure renderings.

:func:`render` draws the live terminal view (a string of at most ``height`` lines, each at
most ``width`` characters): header with the server and the elapsed / simulated time, devices
by state with a bar, message counts by ``messageType``, the latest temperatures in columns
and the most recent received messages. :func:`status_line` is the one-line form printed
periodically when stdout is not a terminal; :func:`summary_lines` the closing summary.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

STATE_ORDER = (
    "registered",
    "registering",
    "updating",
    "waiting-retry",
    "rebooting",
    "deregistering",
    "stopped",
    "failed",
)


@dataclass(slots=True)
class DemoState:
    """Everything the view shows; the demo updates it, :func:`render` only reads it."""

    server: str
    devices: dict[str, str] = field(default_factory=dict)
    """Endpoint -> registration state name."""
    temperatures: dict[str, float] = field(default_factory=dict)
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=50))
    """One-line summaries of the latest received messages, oldest first."""
    counts: Counter[str] = field(default_factory=Counter)
    """Received messages by ``messageType``."""
    elapsed: float = 0.0
    duration: float | None = None
    time_scale: float = 1.0
    simulated_hour: float = 0.0
    registered_ever: set[str] = field(default_factory=set)
    deregistered: set[str] = field(default_factory=set)

    def by_state(self) -> Counter[str]:
        return Counter(self.devices.values())


def _clock(hour: float) -> str:
    minutes = round(hour * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def _states(state: DemoState) -> str:
    counts = state.by_state()
    names = [n for n in STATE_ORDER if counts[n]] + sorted(set(counts) - set(STATE_ORDER))
    return " · ".join(f"{name} {counts[name]}" for name in names) or "no devices"


def render(state: DemoState, width: int, height: int) -> str:
    """The live view, fitted to ``width`` x ``height`` characters."""
    width, height = max(width, 20), max(height, 6)
    total = len(state.devices)
    registered = state.by_state()["registered"]
    until = f" / {state.duration:g} s" if state.duration is not None else ""
    lines = [
        f"lwm2m-fleet demo · server {state.server}",
        f"{state.elapsed:.1f} s{until} · time x{state.time_scale:g}"
        f" · simulated time of day {_clock(state.simulated_hour)}",
        f"Devices ({total}): {_states(state)}",
    ]
    bar_width = max(min(width - 12, 60), 4)
    filled = round(bar_width * registered / total) if total else 0
    lines.append(f"  [{'#' * filled}{'.' * (bar_width - filled)}] {registered}/{total}")
    counts = " · ".join(f"{k} {v}" for k, v in sorted(state.counts.items())) or "none yet"
    lines.append(f"Messages received: {counts}")
    lines.append("")
    lines.append("Latest temperatures (°C):")
    cell = 17
    columns = max(width // cell, 1)
    temps = sorted(state.temperatures.items())
    rows_left = height - len(lines) - 4
    temp_rows = min((len(temps) + columns - 1) // columns, max(rows_left // 2, 1))
    for row in range(temp_rows):
        chunk = temps[row * columns : (row + 1) * columns]
        lines.append("".join(f"  {name} {value:5.1f}".ljust(cell) for name, value in chunk))
    if len(temps) > temp_rows * columns:
        lines.append(f"  … and {len(temps) - temp_rows * columns} more")
    lines.append("")
    lines.append("Recent received messages:")
    room = height - len(lines)
    recent = list(state.recent)[-room:] if room > 0 else []
    lines.extend(f"  {entry}" for entry in recent)
    return "\n".join(_fit(line, width) for line in lines[:height])


def status_line(state: DemoState) -> str:
    """One plain line for a non-interactive stdout."""
    temps = list(state.temperatures.values())
    mean = f"{sum(temps) / len(temps):.1f}" if temps else "-"
    total = sum(state.counts.values())
    return (
        f"[{state.elapsed:6.1f} s] devices: {_states(state)} | messages {total} | "
        f"mean temperature {mean} °C at {_clock(state.simulated_hour)}"
    )


def summary_lines(state: DemoState) -> list[str]:
    """The closing summary."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(state.counts.items())) or "none"
    return [
        f"demo finished after {state.elapsed:.1f} s",
        f"devices: {len(state.devices)} started, {len(state.registered_ever)} registered,"
        f" {len(state.deregistered)} de-registered",
        f"received messages: {sum(state.counts.values())} ({counts})",
    ]

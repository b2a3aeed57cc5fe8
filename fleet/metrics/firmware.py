"""The firmware and software sections of a run's summary: downloads, throughput, outcomes.

:func:`firmware_table` renders what :attr:`RunMetrics.firmware <fleet.metrics.RunMetrics>`
counted (``result N`` per Update Result, ``bytes`` downloaded) with the durations of the
``firmware_download`` and ``firmware_update`` operations. Thresholds use the operations'
named metrics (``firmware_download_duration``, ``firmware_download_failed``,
``firmware_update_failed``) and the campaign's completion (``firmware_completed``: the
``completed`` devices among the ``devices`` with Object 5); the throughput is shown, not a
threshold metric. :func:`software_table` does the same for Object 9 Software Management
(:attr:`RunMetrics.software`, Object 9's Update Result codes, ``software_download`` and
``software_install``; ``software_completed``: devices with Object 9 that installed a package).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from fleet.metrics.histogram import LatencyHistogram

LABELS: Final = {
    0: "initial",
    1: "updated",
    2: "not enough flash",
    3: "out of RAM",
    4: "connection lost",
    5: "integrity check failure",
    6: "unsupported package type",
    7: "invalid URI",
    8: "firmware update failed",
    9: "unsupported protocol",
}
"""Update Result codes (``/5/0/5``) in words."""

SOFTWARE_LABELS: Final = {
    0: "initial",
    1: "downloading",
    2: "installed",
    3: "downloaded and verified",
    50: "not enough storage",
    51: "out of memory",
    52: "connection lost",
    53: "integrity check failure",
    54: "unsupported package type",
    56: "invalid URI",
    57: "device defined update error",
    58: "installation failure",
    59: "uninstallation failure",
}
"""Object 9 Update Result codes (``/9/x/9``) in words (the definition's, 1.0)."""


class Counts(Protocol):
    @property
    def count(self) -> int: ...

    @property
    def durations(self) -> LatencyHistogram: ...


def result_key(result: int) -> str:
    """``result 5``: the key an Update Result is counted under."""
    return f"result {result}"


def result_reason(result: int, labels: Mapping[int, str] = LABELS) -> str:
    """``result 5 integrity check failure``: a failed download's or update's reason."""
    return f"{result_key(result)} {labels.get(result, 'unknown')}"


def throughput(firmware: Mapping[str, int], downloads: Counts) -> float | None:
    """Bytes per second of the average download (bytes over the summed download time)."""
    seconds = downloads.durations.sum_ns / 1e9
    total = firmware.get("bytes", 0)
    return total / seconds if seconds > 0 and total else None


def firmware_table(firmware: Mapping[str, int], downloads: Counts, updates: Counts) -> str:
    """The summary's firmware section (empty text when no device downloaded anything)."""
    return _section("firmware", LABELS, ("updates", "updated"), firmware, downloads, updates)


def software_table(software: Mapping[str, int], downloads: Counts, installs: Counts) -> str:
    """The summary's Object 9 section (empty text when no device downloaded anything)."""
    words = ("installs", "installed")
    return _section("software", SOFTWARE_LABELS, words, software, downloads, installs)


def _section(
    title: str,
    labels: Mapping[int, str],
    words: tuple[str, str],
    counts: Mapping[str, int],
    downloads: Counts,
    updates: Counts,
) -> str:
    if downloads.count == 0 and updates.count == 0:
        return ""
    hist = downloads.durations
    p50, p95 = hist.percentile(50), hist.percentile(95)
    timing = "" if p50 is None or p95 is None else f" (p50 {p50:.3g} s, p95 {p95:.3g} s)"
    rate = throughput(counts, downloads)
    speed = "" if rate is None else f", {rate / 1000:.3g} kB/s a device"
    lines = [
        "",
        f"{title}: {downloads.count} downloads{timing}, {counts.get('bytes', 0)} bytes"
        f"{speed}; {updates.count} {words[0]}",
    ]
    devices = counts.get("devices", 0)
    if devices:
        completed = counts.get("completed", 0)
        lines.append(
            f"  campaign completion: {completed} of {devices} devices {words[1]} "
            f"({100 * completed / devices:.1f} %)"
        )
    results = sorted(
        (int(key.split()[1]), n) for key, n in counts.items() if key.startswith("result ")
    )
    for code, n in results:
        lines.append(f"  result {code} {labels.get(code, '?').ljust(26)} {n}")
    return "\n".join(lines) + "\n"

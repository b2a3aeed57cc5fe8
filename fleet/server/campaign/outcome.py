"""What one device's firmware update came to, and a campaign's tally of them.

A :class:`DeviceOutcome` moves through phases (``pending``, ``downloading``,
``downloaded``, ``updating``) to one final ``kind``:

=============  ===============================================================
``updated``    came back with Update Result 1 and the package's version on ``/3/0/3``
``failed``     the device reported a failure: ``result`` is its Update Result (2..9)
``stalled``    no progress within the download timeout (still ``state`` 1: a hang)
``no-return``  executed Update and never came back within the update timeout
``refused``    the device refused a Write or Execute (``detail`` has the code)
``lost``       the device went away or stopped answering during the campaign
=============  ===============================================================

:class:`CampaignReport` counts them (by kind and by Update Result), with the
download durations and throughput the server saw (Write to Downloaded).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

KINDS: Final = ("updated", "failed", "stalled", "no-return", "refused", "lost")


@dataclass(slots=True)
class DeviceOutcome:
    """One device in a campaign (mutable while it runs)."""

    endpoint: str
    started: float
    phase: str = "pending"
    kind: str | None = None
    result: int | None = None
    """The last Update Result the device reported (or read after its return)."""
    state: int | None = None
    version: str | None = None
    detail: str = ""
    downloaded: float | None = None
    finished: float | None = None

    @property
    def done(self) -> bool:
        return self.kind is not None

    @property
    def download_duration(self) -> float | None:
        return None if self.downloaded is None else self.downloaded - self.started

    def end(self, kind: str, now: float, detail: str = "") -> None:
        if self.kind is None:
            self.kind, self.finished, self.detail = kind, now, detail

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "phase": self.phase,
            "outcome": self.kind,
            "state": self.state,
            "result": self.result,
            "version": self.version,
            "detail": self.detail,
            "download_s": _round(self.download_duration),
        }


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """A campaign's tally (also of one still running)."""

    total: int
    package_size: int
    by_kind: dict[str, int] = field(default_factory=dict)
    by_result: dict[int, int] = field(default_factory=dict)
    """Final Update Results of the devices that reported one (1 for the updated)."""
    by_phase: dict[str, int] = field(default_factory=dict)
    """Devices still running, by phase."""
    download_durations: tuple[float, ...] = ()
    elapsed: float = 0.0

    @classmethod
    def of(cls, outcomes: list[DeviceOutcome], package_size: int, elapsed: float) -> CampaignReport:
        kinds = Counter(o.kind for o in outcomes if o.kind is not None)
        results = Counter(
            o.result for o in outcomes if o.kind in ("updated", "failed") and o.result is not None
        )
        phases = Counter(o.phase for o in outcomes if o.kind is None)
        durations = tuple(d for o in outcomes if (d := o.download_duration) is not None and d >= 0)
        return cls(
            total=len(outcomes),
            package_size=package_size,
            by_kind={k: kinds[k] for k in KINDS if kinds[k]},
            by_result=dict(sorted(results.items())),
            by_phase=dict(sorted(phases.items())),
            download_durations=durations,
            elapsed=elapsed,
        )

    @property
    def finished(self) -> int:
        return sum(self.by_kind.values())

    @property
    def completion(self) -> float:
        """Share of the devices whose outcome is final (0..1)."""
        return self.finished / self.total if self.total else 1.0

    @property
    def updated(self) -> int:
        return self.by_kind.get("updated", 0)

    def throughput(self) -> float | None:
        """Mean bytes per second of the downloads (package size over Write-to-Downloaded)."""
        rates = [self.package_size / d for d in self.download_durations if d > 0]
        return sum(rates) / len(rates) if rates else None

    def as_dict(self) -> dict[str, Any]:
        durations = sorted(self.download_durations)
        return {
            "devices": self.total,
            "finished": self.finished,
            "completion": round(self.completion, 4),
            "outcomes": self.by_kind,
            "update_results": {str(k): v for k, v in self.by_result.items()},
            "running": self.by_phase,
            "package_bytes": self.package_size,
            "download_s": {
                "count": len(durations),
                "p50": _round(_quantile(durations, 0.5)),
                "p95": _round(_quantile(durations, 0.95)),
                "max": _round(durations[-1] if durations else None),
            },
            "throughput_Bps": _round(self.throughput()),
            "elapsed_s": _round(self.elapsed),
        }


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

"""The console's views of a device: its row in ``DEVICES`` and its ``INFO`` (``m2m:dvi``).

Timestamps are whole seconds since the epoch, as the platform's labels give them.
"""

from __future__ import annotations

from typing import Any

from fleet.server import DeviceRecord


def _stamp(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)


def device_row(record: DeviceRecord) -> dict[str, Any]:
    """One device for ``DEVICES``: state and timestamps (seconds since the epoch)."""
    if record.registered:
        state = "registered"
    elif record.expired_at is not None and (record.expired_at >= (record.deregistered_at or 0)):
        state = "expired"
    else:
        state = "deregistered"
    return {
        "endpoint": record.endpoint,
        "state": state,
        "registrations_timestamp": _stamp(record.registered_at),
        "updates_timestamp": _stamp(record.updated_at),
        "deregistrations_timestamp": _stamp(record.deregistered_at),
        "expirations_timestamp": _stamp(record.expired_at),
    }


def device_info(record: DeviceRecord) -> dict[str, Any]:
    """The platform's device info (``m2m:dvi``) of a device, with its timestamp labels."""
    info = record.info
    labels = [
        f"{name}: {stamp}"
        for name, stamp in (
            ("registrations_timestamp", _stamp(record.registered_at)),
            ("updates_timestamp", _stamp(record.updated_at)),
            ("deregistrations_timestamp", _stamp(record.deregistered_at)),
            ("expirations_timestamp", _stamp(record.expired_at)),
        )
        if stamp is not None
    ]
    return {
        "deviceInfo": {
            "deviceLabel": record.endpoint,
            "manufacturer": info.manufacturer,
            "model": info.model,
            "fwVersion": info.firmware_version,
            "swVersion": info.software_version,
            "systemTime": None if info.system_time is None else str(info.system_time),
            "location": info.location,
        },
        "labels": labels,
    }

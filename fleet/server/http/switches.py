"""Fault switches on devices that run in this process (``fleet demo --web``).

The web console's switches reach a device only when its :class:`~fleet.client.device.Device`
lives in the same process as the server (the demo runs both on one event loop). For
``fleet server --http`` the devices are elsewhere: :class:`NoSwitches` says so, and the
console shows the switches disabled.

- ``silence`` on: the device stops sending Updates (:meth:`Device.silence`) and drops every
  request from the server unanswered, so commands end in 408 and the server lets the
  registration expire; off: it answers again and registers afresh.
- ``reject`` on: every request from the server is answered 4.06 Not Acceptable without being
  served (the platform's "Device rejects command, not acceptable"); off: served as usual.
- ``reboot``: one shot; the device de-registers, stays away its ``reboot_delay``, registers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from fleet.client.device import Device
from fleet.client.events import Operation
from fleet.client.registration import RegistrationState
from fleet.client.site import Verdict
from fleet.model import Path

SWITCHES = ("silence", "reject")
ACTIONS = ("reboot",)
REJECT_CODE = "4.06"


class Switches(Protocol):
    """What the console's fault switches talk to."""

    def state(self, endpoint: str) -> dict[str, Any] | None:
        """``{"device": "registered", "silence": False, "reject": False}``; ``None``: not here."""
        ...

    def apply(self, endpoint: str, fault: str, on: bool) -> dict[str, Any] | None:
        """Turn ``fault`` on/off (``reboot``: ``on`` is ignored); the new state, or ``None``."""
        ...


class NoSwitches:
    """No device in this process."""

    def state(self, endpoint: str) -> dict[str, Any] | None:
        return None

    def apply(self, endpoint: str, fault: str, on: bool) -> dict[str, Any] | None:
        return None


@dataclass(slots=True)
class _Flags:
    device: Device
    silence: bool = False
    reject: bool = False

    def intercept(self, request: Any, operation: Operation, path: Path | None) -> Verdict | None:
        if self.silence:
            return Verdict.drop()
        if self.reject:
            return Verdict.answer(REJECT_CODE)
        return None


class DeviceSwitches:
    """Switches on in-process devices (one interceptor each, idle until a switch is on)."""

    def __init__(self, devices: Iterable[Device]) -> None:
        self._flags: dict[str, _Flags] = {}
        for device in devices:
            flags = _Flags(device)
            device.add_interceptor(flags.intercept)
            self._flags[device.name] = flags

    def state(self, endpoint: str) -> dict[str, Any] | None:
        flags = self._flags.get(endpoint)
        if flags is None:
            return None
        return {
            "device": flags.device.state.value,
            "silence": flags.silence,
            "reject": flags.reject,
        }

    def apply(self, endpoint: str, fault: str, on: bool) -> dict[str, Any] | None:
        flags = self._flags.get(endpoint)
        if flags is None:
            return None
        device = flags.device
        if fault == "reboot":
            device.reboot_soon()
        elif fault == "reject":
            flags.reject = on
        elif fault == "silence" and on != flags.silence:
            flags.silence = on
            if on:
                device.silence(None)
            elif device.endpoint is not None and device.state is RegistrationState.STOPPED:
                device.registrar.start()
        return self.state(endpoint)

"""When a device is not there: reboot and disable, silence, network flaps and lost sessions.

:class:`Away` drives the absences of one :class:`~fleet.client.device.Device`
with at most one Clock timer (the end of the absence):

- **reboot** / **disable** (``/3/0/4``, ``/1/0/4``, or a fault): De-register,
  close the socket (over DTLS with close_notify), stay away, then register again from a new socket;
- **silence**: stop sending Updates (the server lets the registration
  expire), the socket stays; optionally register afresh later;
- **flap** (network flap / NAT rebinding): the socket closes without a word
  (over DTLS no close_notify either: the server keeps a stale session until it
  evicts it), and after the away time the device comes back from a new UDP source port
  with an Update (a fresh Register when the server forgot it);
- **lost session**: the DTLS session ended under the device (the transport's
  ``on_lost``) or a fault dropped it (:meth:`Away.lose_session`): a flap with
  no away time, so a new socket and handshake, then an Update.

Opening the new socket (and handshake) can fail: that is reported as a
:class:`~fleet.client.events.RegistrationFailed` and retried by the
registration retry policy (:meth:`fleet.client.registrar.Registrar.connect_failed`),
never raised into the fleet.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fleet.client.registration import RegistrationState
from fleet.clock import TimerHandle
from fleet.errors import FleetError

if TYPE_CHECKING:
    from fleet.client.device import Device

_log = logging.getLogger("fleet.client.device")


class Away:
    """The absences of one device (see the module docstring)."""

    __slots__ = ("_device", "_leaving", "timer")

    def __init__(self, device: Device) -> None:
        self._device = device
        self.timer: TimerHandle | None = None
        """The end of the current absence, while the device is away."""
        self._leaving = False

    @property
    def away(self) -> bool:
        return self.timer is not None

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    # -- reboot and disable -------------------------------------------------------------

    async def go_away(self, seconds: float | None, reason: str, *, deregister: bool = True) -> None:
        """De-register (unless told not to: a crash), close the socket, come back after
        ``seconds`` (reboot, disable; ``None``: never, a bricked device)."""
        device = self._device
        if device.endpoint is None or self._leaving or self.timer is not None:
            return  # stopped, or already going away
        self._leaving = True
        try:
            await device.links.stop(reason, deregister=deregister)
            if deregister:
                await device.registrar.deregister(reason)
            else:
                device.registrar.cancel()
                device.registrar.location = None
                device.registration_changed(False)
            device.close_endpoint()
            device.registrar.state = RegistrationState.REBOOTING
            clock = device.clock
            if seconds is not None:
                self.timer = clock.call_at(clock.now() + seconds, self._come_back)
        finally:
            self._leaving = False

    def _come_back(self) -> None:
        self.timer = None
        # the Register opens the socket first; a failure there is retried by the policy
        # (begin(): a device that must bootstrap first does so)
        self._device.begin(rebooted=True)

    # -- silence ------------------------------------------------------------------------

    def silence(self, duration: float | None) -> None:
        """Stop sending Updates; after ``duration`` seconds (``None``: never) register afresh."""
        device = self._device
        if device.endpoint is None or self.timer is not None:
            return
        registrar = device.registrar
        registrar.cancel()
        registrar.location = None
        device.registration_changed(False)
        registrar.state = RegistrationState.STOPPED
        if duration is not None:
            self.timer = device.clock.call_at(device.clock.now() + duration, self._resume)

    def _resume(self) -> None:
        self.timer = None
        device = self._device
        if device.endpoint is not None:
            device.registrar.start()

    # -- flaps and lost sessions --------------------------------------------------------

    def flap(self, away: float) -> None:
        """Unreachable ``away`` seconds (socket closed), then back from a new source port."""
        device = self._device
        if device.endpoint is None or self.timer is not None or self._leaving:
            return
        device.registrar.cancel()
        device.close_endpoint(notify=False)  # gone without a word: no DTLS close_notify
        self.timer = device.clock.call_at(device.clock.now() + max(0.0, away), self._rebound)

    def lose_session(self, reason: str) -> None:
        """The secure session is gone: new socket and handshake now, then an Update."""
        _log.info("%s: session lost (%s); binding again", self._device.name, reason)
        self.flap(0.0)

    def _rebound(self) -> None:
        self.timer = None
        self._device.spawn(self._rebind())

    async def _rebind(self) -> None:
        device = self._device
        registrar = device.registrar
        try:
            await device.connect()
        except (FleetError, OSError) as error:
            operation = "Register" if registrar.location is None else "Update"
            registrar.connect_failed(operation, error)
            return
        if registrar.location is None:
            registrar.start()
            return
        registrar.state = RegistrationState.REGISTERED
        registrar.request_update()

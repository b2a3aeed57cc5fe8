"""Client events -> :class:`~fleet.metrics.RunMetrics`: what each device did, counted once.

One :class:`MetricsBridge` per shard listens to every device of the shard
(``device.add_listener(bridge)``) and turns each
:class:`~fleet.client.events.ClientEvent` into one ``metrics.record(...)``:

- ``Registered`` / ``RegistrationFailed("Register")`` -> ``register`` (ok / failed);
- ``Updated`` / ``RegistrationFailed("Update")`` -> ``update``;
- ``Deregistered`` -> ``deregister`` (failed when no 2.02 came back);
- ``RequestServed`` -> the served operation (``read``, ``write``, ...; failed on 4.xx/5.xx);
- ``NotificationSent`` -> ``notify``; ``SendDone`` -> ``send``;
- ``Handshake`` (DTLS) -> ``handshake`` (failed when it did not complete);
- ``BootstrapDone`` / ``BootstrapFailed`` -> ``bootstrap`` (failed with its cause).

- ``FirmwareDownloaded`` -> ``firmware_download`` (failed unless Downloaded; a failure
  the device's firmware fault made counts as injected), its bytes and Update Result;
  ``FirmwareUpdated`` -> ``firmware_update`` and its Update Result (a device's first
  success also counts it ``completed``: the campaign completion, ``firmware_completed``);
- ``SoftwareDownloaded`` (Object 9) -> ``software_download`` (failed unless Delivered, 3),
  its bytes and the instance's Update Result; ``SoftwareInstallEnded`` -> ``software_install``
  and its result (a device's first Installed, 2, counts it ``completed``:
  ``software_completed``);
- ``Retransmitted`` -> ``metrics.retransmitted()`` (one per CoAP retransmission).

Durations are measured by the device: each registration event says when its
exchange began (``started``), so ``register`` / ``update`` / ``deregister``
durations run from the request handed to the endpoint (or held by an uplink
fault) to its outcome, retransmissions included; a failure with nothing sent
(the socket or handshake failed) has no duration. ``notify`` records how
late each notification left compared with when it was due
(``NotificationSent.delay``: queue-mode storage, a saturated process). Served
requests carry their own duration. Failures an uplink fault made
(``injected``) are counted apart, like injected answers to server requests. Real
failures are counted by cause too (``RunMetrics.record(..., reason=)``): the event's
``cause`` (``timeout``, ``port unreachable``, ``4.00 Bad Request``...), the code of a
request answered with an error (``4.04 Not Found``), ``no answer`` for a De-register
or Send that got none.

:meth:`MetricsBridge.began` remains for exchanges the runner starts itself:
an event without ``started`` (a device that does not report it) is measured
from there, and :meth:`MetricsBridge.unfinished` closes one still open when
the run ends.
"""

from __future__ import annotations

from typing import Final

from fleet.client.events import (
    BootstrapDone,
    BootstrapFailed,
    ClientEvent,
    Deregistered,
    Handshake,
    NotificationSent,
    Registered,
    RegistrationFailed,
    RequestServed,
    Retransmitted,
    SendDone,
    Updated,
)
from fleet.client.events import Operation as ClientOperation
from fleet.client.firmware.events import (
    FirmwareDownloaded,
    FirmwareUpdated,
    SoftwareDownloaded,
    SoftwareInstallEnded,
)
from fleet.client.reasons import code_reason
from fleet.metrics import Operation, RunMetrics
from fleet.metrics.firmware import SOFTWARE_LABELS, result_key, result_reason
from fleet.metrics.views import COMPLETED

SERVED_OPERATIONS: Final[dict[ClientOperation, Operation]] = {
    ClientOperation.READ: Operation.READ,
    ClientOperation.READ_COMPOSITE: Operation.READ,
    ClientOperation.DISCOVER: Operation.DISCOVER,
    ClientOperation.OBSERVE: Operation.OBSERVE,
    ClientOperation.OBSERVE_COMPOSITE: Operation.OBSERVE,
    ClientOperation.CANCEL_OBSERVATION: Operation.OBSERVE,
    ClientOperation.CANCEL_OBSERVE_COMPOSITE: Operation.OBSERVE,
    ClientOperation.WRITE: Operation.WRITE,
    ClientOperation.WRITE_PARTIAL: Operation.WRITE,
    ClientOperation.WRITE_COMPOSITE: Operation.WRITE,
    ClientOperation.WRITE_ATTRIBUTES: Operation.WRITE_ATTRIBUTES,
    ClientOperation.EXECUTE: Operation.EXECUTE,
    ClientOperation.CREATE: Operation.CREATE,
    ClientOperation.DELETE: Operation.DELETE,
}
"""The client's operation names -> the metrics' operations (``unknown`` is not counted)."""

UNFINISHED: Final = "unanswered when the run ended"
NO_ANSWER: Final = "no answer"

DELIVERED, INSTALLED = 3, 2
"""Object 9 Update Results of a sound download and a successful Install."""

_REGISTRATION: Final = {"Register": Operation.REGISTER, "Update": Operation.UPDATE}


def _ok(code: str | None) -> bool:
    return code is not None and code.startswith("2.")


class MetricsBridge:
    """A client listener feeding one :class:`RunMetrics` (see the module documentation)."""

    __slots__ = ("_began", "_installed", "_updated", "errors", "metrics")

    def __init__(self, metrics: RunMetrics) -> None:
        self.metrics = metrics
        self._began: dict[tuple[str, Operation], float] = {}
        self._updated: set[str] = set()
        """Devices whose firmware update succeeded (a campaign's completion counts each once)."""
        self._installed: set[str] = set()
        """Devices that installed an Object 9 package (counted once each, likewise)."""
        self.errors = 0
        """Failed operations of any kind so far (what the progress view shows)."""

    def began(self, endpoint: str, operation: Operation, when: float) -> None:
        """The device ``endpoint`` begins ``operation`` at ``when`` (used when its event
        does not say, and by :meth:`unfinished`)."""
        self._began[(endpoint, operation)] = when

    def unfinished(self, endpoint: str, operation: Operation, now: float) -> None:
        """``operation`` was still waiting for its answer when the run ended: a failure."""
        duration = self._duration(endpoint, operation, now, None)
        self._record(operation, duration, False, reason=UNFINISHED)

    def _duration(
        self, endpoint: str, operation: Operation, now: float, started: float | None
    ) -> float | None:
        guess = self._began.pop((endpoint, operation), None)
        start = started if started is not None else guess
        if start is None or start > now:
            return None
        return now - start

    def _record(
        self,
        operation: Operation,
        duration: float | None,
        ok: bool,
        *,
        injected: bool = False,
        reason: str | None = None,
    ) -> None:
        self.metrics.record(operation, duration, ok=ok, injected=injected, reason=reason)
        if not ok and not injected:
            self.errors += 1

    def __call__(self, event: ClientEvent) -> None:
        name, now = event.endpoint, event.time
        if isinstance(event, RequestServed):
            operation = SERVED_OPERATIONS.get(event.operation)
            if operation is not None:
                # an answer a fault injector gave is counted apart, never as a failure
                ok = _ok(event.code)
                reason = None if ok else code_reason(event.code)
                self._record(operation, event.duration, ok, injected=event.injected, reason=reason)
        elif isinstance(event, NotificationSent):
            ok = _ok(event.code)
            self._record(Operation.NOTIFY, event.delay, ok, reason=None if ok else event.code)
        elif isinstance(event, FirmwareDownloaded):
            ok = event.result == 0
            reason = None if ok else result_reason(event.result)
            self._record(
                Operation.FIRMWARE_DOWNLOAD,
                event.duration,
                ok,
                injected=event.injected,
                reason=reason,
            )
            self.metrics.firmware_count("bytes", event.size)
            if not ok:
                self.metrics.firmware_count(result_key(event.result))
        elif isinstance(event, FirmwareUpdated):
            ok = event.result == 1
            reason = None if ok else result_reason(event.result)
            self._record(
                Operation.FIRMWARE_UPDATE,
                event.duration,
                ok,
                injected=event.injected,
                reason=reason,
            )
            self.metrics.firmware_count(result_key(event.result))
            if ok and name not in self._updated:
                self._updated.add(name)
                self.metrics.firmware_count(COMPLETED)
        elif isinstance(event, SoftwareDownloaded | SoftwareInstallEnded):
            self._software(event)
        elif isinstance(event, Retransmitted):
            self.metrics.retransmitted()
        elif isinstance(event, Registered):
            duration = self._duration(name, Operation.REGISTER, now, event.started)
            self._record(Operation.REGISTER, duration, True)
        elif isinstance(event, Updated):
            duration = self._duration(name, Operation.UPDATE, now, event.started)
            self._record(Operation.UPDATE, duration, True)
        elif isinstance(event, RegistrationFailed):
            operation = _REGISTRATION.get(event.operation, Operation.REGISTER)
            duration = self._duration(name, operation, now, event.started)
            reason = event.cause or None
            self._record(operation, duration, False, injected=event.injected, reason=reason)
        elif isinstance(event, Deregistered):
            duration = self._duration(name, Operation.DEREGISTER, now, event.started)
            self._record(
                Operation.DEREGISTER,
                duration,
                event.answered,
                injected=event.injected,
                reason=None if event.answered else NO_ANSWER,
            )
        elif isinstance(event, SendDone):
            reason = None if event.ok else (code_reason(event.code) if event.code else NO_ANSWER)
            self._record(Operation.SEND, None, event.ok, reason=reason)
        elif isinstance(event, BootstrapDone):
            self._record(Operation.BOOTSTRAP, event.duration, True)
        elif isinstance(event, BootstrapFailed):
            reason = event.cause or None
            self._record(
                Operation.BOOTSTRAP, event.duration, False, injected=event.injected, reason=reason
            )
        elif isinstance(event, Handshake):
            self._record(Operation.HANDSHAKE, event.duration, event.ok, reason=event.cause or None)

    def _software(self, event: SoftwareDownloaded | SoftwareInstallEnded) -> None:
        """Object 9: a download (3 Delivered, else a failure) or an Install (2, else 58)."""
        if isinstance(event, SoftwareDownloaded):
            operation, ok = Operation.SOFTWARE_DOWNLOAD, event.result == DELIVERED
            self.metrics.software_count("bytes", event.size)
        else:
            operation, ok = Operation.SOFTWARE_INSTALL, event.result == INSTALLED
        reason = None if ok else result_reason(event.result, SOFTWARE_LABELS)
        self._record(operation, event.duration, ok, injected=event.injected, reason=reason)
        self.metrics.software_count(result_key(event.result))
        if ok and operation is Operation.SOFTWARE_INSTALL and event.endpoint not in self._installed:
            self._installed.add(event.endpoint)
            self.metrics.software_count(COMPLETED)

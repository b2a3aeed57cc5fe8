"""Client events -> :class:`~fleet.metrics.RunMetrics`: what each device did, counted once.

One :class:`MetricsBridge` per shard listens to every device of the shard
(``device.add_listener(bridge)``) and turns each
:class:`~fleet.client.events.ClientEvent` into one ``metrics.record(...)``:

- ``Registered`` / ``RegistrationFailed("Register")`` -> ``register`` (ok / failed);
- ``Updated`` / ``RegistrationFailed("Update")`` -> ``update``;
- ``Deregistered`` -> ``deregister`` (failed when no 2.02 came back);
- ``RequestServed`` -> the served operation (``read``, ``write``, ...; failed on 4.xx/5.xx);
- ``NotificationSent`` -> ``notify``; ``SendDone`` -> ``send``;
- ``Handshake`` (DTLS) -> ``handshake`` (failed when it did not complete).

Durations. The client events carry the time they happened, not when the
exchange began, so the bridge remembers when each device's next
registration exchange began: the runner tells it (:meth:`began`) when it
starts a device or stops one, a failed Register with a retry begins again
``retry_in`` later, and an Update is due at
:func:`~fleet.client.registration.update_due` after the last success. A
duration is recorded only when that start is known and not in the future
(an Update the device sent early, e.g. because its lifetime changed, has no
duration, only its outcome). Served requests carry their own duration.
"""

from __future__ import annotations

from typing import Final

from fleet.client.events import (
    ClientEvent,
    Deregistered,
    Handshake,
    NotificationSent,
    Registered,
    RegistrationFailed,
    RequestServed,
    SendDone,
    Updated,
)
from fleet.client.events import Operation as ClientOperation
from fleet.client.registration import update_due
from fleet.metrics import Operation, RunMetrics

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

_REGISTRATION: Final = {"Register": Operation.REGISTER, "Update": Operation.UPDATE}


def _ok(code: str | None) -> bool:
    return code is not None and code.startswith("2.")


class MetricsBridge:
    """A client listener feeding one :class:`RunMetrics` (see the module documentation)."""

    __slots__ = ("_began", "_lifetimes", "errors", "metrics")

    def __init__(self, metrics: RunMetrics) -> None:
        self.metrics = metrics
        self._began: dict[tuple[str, Operation], float] = {}
        self._lifetimes: dict[str, float] = {}
        self.errors = 0
        """Failed operations of any kind so far (what the progress view shows)."""

    def began(self, endpoint: str, operation: Operation, when: float) -> None:
        """The device ``endpoint`` begins (or will begin at ``when``) ``operation``."""
        self._began[(endpoint, operation)] = when

    def unfinished(self, endpoint: str, operation: Operation, now: float) -> None:
        """``operation`` was still waiting for its answer when the run ended: a failure."""
        self._record(operation, self._duration(endpoint, operation, now), False)

    def _duration(self, endpoint: str, operation: Operation, now: float) -> float | None:
        start = self._began.pop((endpoint, operation), None)
        if start is None or start > now:
            return None
        return now - start

    def _record(
        self, operation: Operation, duration: float | None, ok: bool, *, injected: bool = False
    ) -> None:
        self.metrics.record(operation, duration, ok=ok, injected=injected)
        if not ok and not injected:
            self.errors += 1

    def __call__(self, event: ClientEvent) -> None:
        name, now = event.endpoint, event.time
        if isinstance(event, RequestServed):
            operation = SERVED_OPERATIONS.get(event.operation)
            if operation is not None:
                # an answer a fault injector gave is counted apart, never as a failure
                self._record(operation, event.duration, _ok(event.code), injected=event.injected)
        elif isinstance(event, NotificationSent):
            self._record(Operation.NOTIFY, None, _ok(event.code))
        elif isinstance(event, Registered):
            self._record(Operation.REGISTER, self._duration(name, Operation.REGISTER, now), True)
            self._lifetimes[name] = float(event.lifetime)
            self.began(name, Operation.UPDATE, update_due(now, event.lifetime))
        elif isinstance(event, Updated):
            self._record(Operation.UPDATE, self._duration(name, Operation.UPDATE, now), True)
            lifetime = self._lifetime(event)
            if lifetime is not None:
                self.began(name, Operation.UPDATE, update_due(now, lifetime))
        elif isinstance(event, RegistrationFailed):
            operation = _REGISTRATION.get(event.operation, Operation.REGISTER)
            self._record(operation, self._duration(name, operation, now), False)
            self._began.pop((name, Operation.UPDATE), None)
            if event.retry_in is not None:
                self.began(name, Operation.REGISTER, now + event.retry_in)
        elif isinstance(event, Deregistered):
            self._began.pop((name, Operation.UPDATE), None)
            self._lifetimes.pop(name, None)
            duration = self._duration(name, Operation.DEREGISTER, now)
            self._record(Operation.DEREGISTER, duration, event.answered)
        elif isinstance(event, SendDone):
            self._record(Operation.SEND, None, event.ok)
        elif isinstance(event, Handshake):
            self._record(Operation.HANDSHAKE, event.duration, event.ok)

    def _lifetime(self, event: Updated) -> float | None:
        """The lifetime after an Update (``lt=`` in its query when it changed)."""
        for item in event.query:
            key, _, value = item.partition("=")
            if key == "lt" and value.isdigit():
                self._lifetimes[event.endpoint] = float(value)
        return self._lifetimes.get(event.endpoint)

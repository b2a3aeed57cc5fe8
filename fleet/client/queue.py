"""Queue mode (binding ``UQ``, ``Q`` in 1.1+): when a device sleeps, what wakes it, what waits.

LwM2M Core §6.5 "Queue Mode Operation": a client registered in queue mode
stays reachable for a while after the last message it exchanged with the
server, then goes offline (radio off) until it has something to send; the
server queues its requests and sends them when the client shows up again.
Here:

- the device is **awake** while an exchange is in flight and for
  ``awake_time`` seconds (:attr:`~fleet.client.config.DeviceConfig.awake_time`,
  default 93 s, CoAP's MAX_TRANSMIT_WAIT) after the last message it sent or
  received: a Register or Update answered, a notification sent, a request
  served. Then it **sleeps**: its endpoint ignores every datagram
  (:attr:`~fleet.client.coap.core.EndpointCore.asleep`), so a server that
  sends a request gets no answer at all and times out;
- it **wakes** to send an Update on schedule (or any Register, Update,
  De-register or Send), and for a notification that becomes due (a change
  past pmin, pmax): :func:`notification_action`;
- whether a due notification wakes the device is :attr:`QueueRules.notify_wakes`.
  By default it follows the version the device speaks: LwM2M 1.1 and later
  let a client come online to send a Notify (or Send) without an Update
  first, so a due notification wakes the device and leaves at once; the
  LwM2M 1.0 text has the client sleep until its next periodic Update, so a
  1.0 device **stores** due notifications and sends them right after that
  Update succeeded (each with the time it was due, so metrics see the delay).
  :meth:`QueueMode.set_notify_wakes` overrides the default per device.
  At most :data:`STORED_LIMIT` notifications are stored; beyond that the
  oldest is dropped (and logged).

Only a device whose last successful Register or Update carried queue mode
sleeps: the server must know. Timing is on the device's Clock; the driver
holds at most one timer (when to fall asleep) and nothing while asleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Final, Protocol

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.events import ClientEvent, Slept, Woke
from fleet.clock import Clock, TimerHandle

_log = logging.getLogger("fleet.client.queue")

STORED_LIMIT: Final = 100
"""Notifications one sleeping device stores at most (the oldest is dropped beyond)."""
BUSY_RETRY: Final = 1.0
"""Seconds to look again when it is time to sleep but a message still awaits its ACK."""


class NotifyAction(Enum):
    """What to do with a notification that became due."""

    SEND = "send"
    WAKE_AND_SEND = "wake and send"
    STORE = "store"


@dataclass(frozen=True, slots=True)
class QueueRules:
    """How one queue-mode device behaves."""

    awake_time: float
    notify_wakes: bool


def notify_wakes_by_default(lwm2m_version: str) -> bool:
    """LwM2M 1.0 sleeps until the next Update; 1.1 and later may wake to notify."""
    return lwm2m_version != "1.0"


def notification_action(rules: QueueRules, asleep: bool) -> NotifyAction:
    """What a due notification does: sent now, wakes the device first, or waits stored."""
    if not asleep:
        return NotifyAction.SEND
    return NotifyAction.WAKE_AND_SEND if rules.notify_wakes else NotifyAction.STORE


def sleeps_at(last_activity: float, rules: QueueRules) -> float:
    """When a device whose last message was at ``last_activity`` goes to sleep."""
    return last_activity + rules.awake_time


@dataclass(frozen=True, slots=True)
class StoredNotification:
    """A notification that came due while asleep; ``send(due)`` sends it when it may."""

    due: float
    send: Callable[[float], None]


class QueueHost(Protocol):
    """What the queue-mode driver needs from its device."""

    @property
    def name(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def endpoint(self) -> CoapEndpoint | None: ...

    @property
    def listening(self) -> bool: ...

    @property
    def busy(self) -> bool:
        """Whether a registration exchange is in flight (then the device stays awake)."""
        ...

    def emit(self, event: ClientEvent) -> None: ...


class QueueMode:
    """The awake/asleep state of one queue-mode device (see the module docstring)."""

    __slots__ = ("_host", "_since", "_stored", "_timer", "asleep", "rules")

    def __init__(self, host: QueueHost, rules: QueueRules) -> None:
        self._host = host
        self.rules = rules
        self.asleep = False
        self._since = host.clock.now()
        self._timer: TimerHandle | None = None
        self._stored: list[StoredNotification] = []

    @property
    def stored(self) -> int:
        """Notifications waiting for the device to wake."""
        return len(self._stored)

    def set_notify_wakes(self, wakes: bool) -> None:
        """Whether a due notification wakes the device (else it waits for the next Update)."""
        self.rules = QueueRules(self.rules.awake_time, wakes)

    def activity(self) -> None:
        """A message went out or came in: stay awake ``awake_time`` from now."""
        if self.asleep:
            return
        if self._timer is not None:
            self._timer.cancel()
        clock = self._host.clock
        self._timer = clock.call_at(sleeps_at(clock.now(), self.rules), self._fall_asleep)

    def wake(self, reason: str) -> None:
        """Come online to send something (``reason`` names it); no-op when awake."""
        if not self.asleep:
            return
        host = self._host
        now = host.clock.now()
        self.asleep = False
        endpoint = host.endpoint
        if endpoint is not None:
            endpoint.asleep = False
        slept_for, self._since = now - self._since, now
        if host.listening:
            host.emit(Woke(host.name, now, reason, slept_for, len(self._stored)))
        self.activity()

    def on_due(self) -> NotifyAction:
        """A notification is due now: what to do (waking the device when that is the rule)."""
        action = notification_action(self.rules, self.asleep)
        if action is NotifyAction.WAKE_AND_SEND:
            self.wake("notify")
        return action

    def store(self, notification: StoredNotification) -> None:
        """Keep a due notification until the device wakes for its next Update."""
        if len(self._stored) >= STORED_LIMIT:
            dropped = self._stored.pop(0)
            _log.warning(
                "%s: more than %d notifications stored while asleep; dropped the one due at %s",
                self._host.name,
                STORED_LIMIT,
                dropped.due,
            )
        self._stored.append(notification)

    def flush(self) -> int:
        """Send the stored notifications (after a successful Update); how many went."""
        stored, self._stored = self._stored, []
        for notification in stored:
            notification.send(notification.due)
        if stored:
            self.activity()
        return len(stored)

    def reset(self) -> None:
        """The device closed its socket or left queue mode: awake, nothing stored, no timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._stored.clear()
        if self.asleep:
            self.asleep = False
            endpoint = self._host.endpoint
            if endpoint is not None:
                endpoint.asleep = False
        self._since = self._host.clock.now()

    def _fall_asleep(self) -> None:
        self._timer = None
        host = self._host
        endpoint = host.endpoint
        if endpoint is None or self.asleep:
            return
        if host.busy or endpoint.outstanding_count:
            # an exchange or a confirmable message still waits: its end counts as activity
            clock = host.clock
            self._timer = clock.call_at(clock.now() + BUSY_RETRY, self._fall_asleep)
            return
        now = host.clock.now()
        self.asleep = True
        endpoint.asleep = True
        awake_for, self._since = now - self._since, now
        if host.listening:
            host.emit(Slept(host.name, now, awake_for))

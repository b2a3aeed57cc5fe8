"""Queue mode (binding ``UQ``, ``Q`` in 1.1+): when a device sleeps, what wakes it, what waits.

LwM2M Core §6.5 "Queue Mode Operation": a client registered in queue mode
stays reachable for a while after the last message it exchanged with the
server, then goes offline (radio off) until it has something to send; the
server queues its requests and sends them when the client shows up again.
Here:

- the device is **awake** while an exchange is in flight (a Register or Update, a
  confirmable message awaiting its ACK, a Send awaiting its separate response, a server
  request being answered late: :attr:`~fleet.client.coap.core.EndpointCore.in_flight`)
  and for
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
  A notification is stored only when the Server object says so: /1/0/6
  "Notification Storing When Disabled or Offline" (default true); when false
  the client discards what comes due while it is offline
  (:attr:`QueueMode.discarded` counts them). At most :data:`STORED_LIMIT`
  notifications are stored; beyond that the oldest is dropped
  (:attr:`QueueMode.overflowed` counts them; logged once per sleep).

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

from fleet.client.events import Slept, Woke
from fleet.client.hosts import EndpointHost
from fleet.clock import TimerHandle
from fleet.device.store import DeviceStore
from fleet.errors import Lwm2mError
from fleet.model.path import Path

_log = logging.getLogger("fleet.client.queue")

STORED_LIMIT: Final = 100
"""Notifications one sleeping device stores at most (the oldest is dropped beyond)."""
BUSY_RETRY: Final = 1.0
"""Seconds to look again when it is time to sleep but an exchange is still in flight."""
STORING: Final = Path(1, 0, 6)
"""Notification Storing When Disabled or Offline (Server object; default true)."""


class NotifyAction(Enum):
    """What to do with a notification that became due."""

    SEND = "send"
    WAKE_AND_SEND = "wake and send"
    STORE = "store"
    DISCARD = "discard"


@dataclass(frozen=True, slots=True)
class QueueRules:
    """How one queue-mode device behaves."""

    awake_time: float
    notify_wakes: bool


def notify_wakes_by_default(lwm2m_version: str) -> bool:
    """LwM2M 1.0 sleeps until the next Update; 1.1 and later may wake to notify."""
    return lwm2m_version != "1.0"


def notification_action(rules: QueueRules, asleep: bool, storing: bool = True) -> NotifyAction:
    """What a due notification does: sent now, wakes the device first, waits stored, or
    (``storing``: /1/0/6 Notification Storing When Disabled or Offline false) is discarded."""
    if not asleep:
        return NotifyAction.SEND
    if rules.notify_wakes:
        return NotifyAction.WAKE_AND_SEND
    return NotifyAction.STORE if storing else NotifyAction.DISCARD


def notification_storing(tree: DeviceStore) -> bool:
    """/1/0/6 Notification Storing When Disabled or Offline: whether notifications due while
    offline are stored (true; also when the resource is absent) or discarded."""
    try:
        value = tree.value(STORING)
    except Lwm2mError:
        return True
    return value is not False


def sleeps_at(last_activity: float, rules: QueueRules) -> float:
    """When a device whose last message was at ``last_activity`` goes to sleep."""
    return last_activity + rules.awake_time


@dataclass(frozen=True, slots=True)
class StoredNotification:
    """A notification that came due while asleep; ``send(due)`` sends it when it may."""

    due: float
    send: Callable[[float], None]


class QueueHost(EndpointHost, Protocol):
    """What the queue-mode driver needs from its device."""

    @property
    def busy(self) -> bool:
        """Whether a registration exchange is in flight (then the device stays awake)."""
        ...


class QueueMode:
    """The awake/asleep state of one queue-mode device (see the module docstring)."""

    __slots__ = (
        "_held",
        "_host",
        "_since",
        "_spilled",
        "_stored",
        "_timer",
        "asleep",
        "discarded",
        "overflowed",
        "rules",
    )

    def __init__(self, host: QueueHost, rules: QueueRules) -> None:
        self._host = host
        self.rules = rules
        self.asleep = False
        self._since = host.clock.now()
        self._timer: TimerHandle | None = None
        self._stored: list[StoredNotification] = []
        self._held = False
        self._spilled = False
        self.discarded = 0
        """Notifications discarded while asleep because /1/0/6 was false."""
        self.overflowed = 0
        """Stored notifications dropped (the oldest) because the store was full."""

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
        self._spilled = False
        if host.listening:
            host.emit(Woke(host.name, now, reason, slept_for, len(self._stored)))
        self.activity()

    def on_due(self, storing: Callable[[], bool] | None = None) -> NotifyAction:
        """A notification is due now: what to do (waking the device when that is the rule).

        ``storing()`` reads /1/0/6 (Notification Storing When Disabled or Offline), asked
        only when the device sleeps and does not wake for it (default: true). A discarded
        notification is counted in :attr:`discarded`."""
        keep = True
        if self.asleep and not self.rules.notify_wakes and storing is not None:
            keep = storing()
        action = notification_action(self.rules, self.asleep, keep)
        if action is NotifyAction.WAKE_AND_SEND:
            self.wake("notify")
        elif action is NotifyAction.DISCARD:
            self.discarded += 1
        return action

    def store(self, notification: StoredNotification) -> None:
        """Keep a due notification until the device wakes for its next Update."""
        if len(self._stored) >= STORED_LIMIT:
            dropped = self._stored.pop(0)
            self.overflowed += 1
            if not self._spilled:  # once per sleep, not once per notification
                self._spilled = True
                _log.warning(
                    "%s: %d notifications stored while asleep; dropping the oldest from now "
                    "on (the first due at %s) until it wakes",
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
        self._held = self._spilled = False
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
        if host.busy or endpoint.outstanding_count or endpoint.in_flight:
            # an exchange, an answer or an ACK still on its way: its end counts as activity
            self._held = True
            clock = host.clock
            self._timer = clock.call_at(clock.now() + BUSY_RETRY, self._fall_asleep)
            return
        if self._held:
            self._held = False
            self.activity()
            return
        now = host.clock.now()
        self.asleep = True
        endpoint.asleep = True
        awake_for, self._since = now - self._since, now
        if host.listening:
            host.emit(Slept(host.name, now, awake_for))

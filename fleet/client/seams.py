"""The seams of a :class:`~fleet.client.device.Device`: listeners, interceptors, uplink hooks.

:class:`DeviceSeams` is the part of a device that others plug into: event
listeners (metrics, logs, tests), interceptors of the server's requests and
of the device's own Register / Update / De-register (fault injection), and
the two calls the registrar makes around each of those messages, where
queue mode (:mod:`fleet.client.queue`) wakes the device and keeps it awake;
and the absences a fault (or a test) asks for: reboot, go away, silence, flap,
a lost session (:mod:`fleet.client.away`), a skewed clock.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, cast

from fleet.client.clockskew import skew_current_time
from fleet.client.config import DeviceConfig
from fleet.client.events import ClientEvent, ClientListener
from fleet.client.queue import QueueHost, QueueMode, QueueRules, notify_wakes_by_default
from fleet.client.registrar import Registrar
from fleet.client.site import Interceptor, Verdict
from fleet.client.uplink import UplinkInterceptor, uplink_verdict

if TYPE_CHECKING:
    from fleet.client.away import Away
    from fleet.device.tree import ObjectTree

_log = logging.getLogger("fleet.client.device")


class DeviceSeams:
    """Listeners, interceptors and the uplink hooks of one device (a mixin of ``Device``)."""

    __slots__ = ("_interceptors", "_listeners", "_queue", "_uplink", "queue_notify_wakes")

    config: DeviceConfig
    registrar: Registrar
    tree: ObjectTree
    _away: Away

    if TYPE_CHECKING:

        def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...

    def __init__(self) -> None:
        self._listeners: tuple[ClientListener, ...] = ()
        self._interceptors: tuple[Interceptor, ...] = ()
        self._uplink: tuple[UplinkInterceptor, ...] = ()
        self._queue: QueueMode | None = None
        self.queue_notify_wakes: bool | None = None
        """Queue mode: whether a due notification wakes the device (``None``: by version)."""

    @property
    def name(self) -> str:
        """The endpoint name."""
        return self.config.endpoint

    @property
    def lwm2m_version(self) -> str:
        return self.config.lwm2m_version

    # -- listeners ----------------------------------------------------------------------

    def add_listener(self, listener: ClientListener) -> None:
        """Call ``listener(event)`` for every :class:`~fleet.client.events.ClientEvent`."""
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: ClientListener) -> None:
        self._listeners = tuple(x for x in self._listeners if x != listener)

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Ask ``interceptor(request, operation, path)`` about every request from the server.

        It returns ``None`` (serve as usual) or a :class:`~fleet.client.site.Verdict`
        (answer a code, drop, delay, corrupt): the seam faults plug into. Interceptors
        are asked in the order added; a device without any pays nothing.
        """
        self._interceptors = (*self._interceptors, interceptor)

    @property
    def interceptors(self) -> tuple[Interceptor, ...]:
        """The interceptors added, in order (a device's other server links ask them too)."""
        return self._interceptors

    def remove_interceptor(self, interceptor: Interceptor) -> None:
        self._interceptors = tuple(x for x in self._interceptors if x != interceptor)

    def add_uplink_interceptor(self, interceptor: UplinkInterceptor) -> None:
        """Ask ``interceptor(operation)`` before the device sends a Register, Update or
        De-register (``operation`` names it): ``None`` sends as usual, a
        :class:`~fleet.client.site.Verdict` drops, delays or answers it
        (:mod:`fleet.client.uplink`). Asked in the order added."""
        self._uplink = (*self._uplink, interceptor)

    def remove_uplink_interceptor(self, interceptor: UplinkInterceptor) -> None:
        self._uplink = tuple(x for x in self._uplink if x != interceptor)

    @property
    def listening(self) -> bool:
        return bool(self._listeners)

    def emit(self, event: ClientEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                _log.exception("%s: event listener failed on %r", self.name, event)

    # -- around each Register, Update and De-register -----------------------------------

    def before_uplink(self, operation: str) -> Verdict | None:
        """A sleeping queue-mode device wakes; the first uplink interceptor's verdict."""
        if self._queue is not None:
            self._queue.wake(operation.lower())
        return uplink_verdict(self._uplink, operation) if self._uplink else None

    def after_uplink(self, operation: str, ok: bool) -> None:
        """Queue mode follows what the server was told: stay awake ``awake_time`` from now,
        and after a successful Register or Update send the notifications stored asleep."""
        sent = self.registrar.sent
        if sent is None or not sent.queue_mode:
            if self._queue is not None:
                self._queue.reset()
                self._queue = None
            return
        queue = self._queue
        if queue is None:
            wakes = self.queue_notify_wakes
            if wakes is None:
                wakes = notify_wakes_by_default(self.lwm2m_version)
            host = cast(QueueHost, self)  # the Device this is part of
            queue = self._queue = QueueMode(host, QueueRules(self.config.awake_time, wakes))
        queue.activity()
        if ok and operation in ("Register", "Update"):
            queue.flush()

    # -- absences and other faults on demand (fleet.client.away) ---------------------------

    async def reboot(self, delay: float | None = None) -> None:
        """De-register, stay away ``delay`` seconds (default ``reboot_delay``), come back."""
        await self._away.go_away(self.config.reboot_delay if delay is None else delay, "reboot")

    async def go_away(self, seconds: float | None, reason: str, *, deregister: bool = True) -> None:
        """Away for ``seconds`` (``None``: for good) with or without a De-register first."""
        await self._away.go_away(seconds, reason, deregister=deregister)

    def reboot_soon(self, delay: float | None = None) -> None:
        """:meth:`reboot` as a background step (from a timer callback, e.g. a fault)."""
        self.spawn(self.reboot(delay))

    def silence(self, duration: float | None = None) -> None:
        """Stop sending Updates (the server lets the registration expire); the socket stays.

        After ``duration`` seconds (``None``: never) the device registers afresh.
        """
        self._away.silence(duration)

    def flap(self, away: float) -> None:
        """Network flap / NAT rebinding: unreachable ``away`` seconds (socket closed), then
        back from a new UDP source port with an Update (a Register if the server forgot it)."""
        self._away.flap(away)

    def lose_session(self) -> None:
        """Drop the (DTLS) session: a new socket and handshake at once, then an Update.

        On plain UDP this is a flap with no away time (a new source port).
        """
        self._away.lose_session("dropped on purpose")

    def skew_clock(self, seconds: float) -> None:
        """Move the device's clock (``/3/0/13`` Current Time) by ``seconds`` (whole seconds;
        negative: behind); observers of ``/3/0/13`` are notified as for any change."""
        skew_current_time(self.tree, seconds)

    @property
    def queue(self) -> QueueMode | None:
        """The queue-mode state while the device is registered with binding ``UQ``."""
        return self._queue

    @property
    def asleep(self) -> bool:
        """Whether the device sleeps (queue mode): requests from the server are ignored."""
        return self._queue is not None and self._queue.asleep

"""The seams of a :class:`~fleet.client.device.Device`: listeners, interceptors, uplink hooks.

:class:`DeviceSeams` is the part of a device that others plug into: event
listeners (metrics, logs, tests), interceptors of the server's requests and
of the device's own Register / Update / De-register (fault injection), and
the two calls the registrar makes around each of those messages, where
queue mode (:mod:`fleet.client.queue`) wakes the device and keeps it awake.
"""

from __future__ import annotations

import logging
from typing import cast

from fleet.client.config import DeviceConfig
from fleet.client.events import ClientEvent, ClientListener
from fleet.client.queue import QueueHost, QueueMode, QueueRules, notify_wakes_by_default
from fleet.client.registrar import Registrar
from fleet.client.site import Interceptor, Verdict
from fleet.client.uplink import UplinkInterceptor, uplink_verdict

_log = logging.getLogger("fleet.client.device")


class DeviceSeams:
    """Listeners, interceptors and the uplink hooks of one device (a mixin of ``Device``)."""

    __slots__ = ("_interceptors", "_listeners", "_queue", "_uplink", "queue_notify_wakes")

    config: DeviceConfig
    registrar: Registrar

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

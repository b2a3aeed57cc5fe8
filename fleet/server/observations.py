"""An observation the server holds on a device: :class:`ObservationHandle`.

``handle = await server.observe("dev1", "/3303/0/5700", pmin=1, pmax=10)`` sends the Observe
and returns once the device answered: ``handle.result`` is that first answer (the current
value, or the device's error, in which case the handle is already inactive). Then::

    async for notification in handle:      # or: await handle.next(timeout=5)
        print(notification.sequence, notification.value)

The server decodes every notification as it arrives (values, device info, events, counters)
whether or not anybody iterates; the handle buffers the last ``queue_size`` of them.
Iteration stops when the observation ends: :meth:`cancel` (a GET/FETCH with Observe=1),
:meth:`cancel_by_reset` (forget it; the next notification is answered with a Reset), the
device's final non-2.xx notification, the device de-registering or expiring, or the server
stopping.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from fleet.model import Path
from fleet.observe import NotificationAttributes
from fleet.server.results import Notification, Operation, Result


class ObservationHandle:
    """One observation of one path (or several, for Observe-Composite) on one device."""

    def __init__(
        self,
        endpoint: str,
        operation: Operation,
        path: Path | None,
        paths: tuple[Path, ...],
        attributes: NotificationAttributes,
        request_id: str,
        *,
        queue_size: int,
        canceller: Callable[[ObservationHandle, float | None], Awaitable[Result]],
        on_end: Callable[[ObservationHandle], None],
    ) -> None:
        self.endpoint = endpoint
        self.operation = operation
        self.path = path
        self.paths = paths
        self.attributes = attributes
        """The notification attributes sent in the Observe request's query."""
        self.request_id = request_id
        self.result: Result | None = None
        """The device's answer to the Observe request."""
        self.count = 0
        """Notifications received so far (the first answer not included)."""
        self.last: Notification | None = None
        self.coap: Any = None
        """The CoAP-level observation (``fleet.client.coap.Observation``)."""
        self._queue: deque[Notification] = deque(maxlen=max(queue_size, 1))
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._canceller = canceller
        self._on_end = on_end

    def __repr__(self) -> str:
        state = "active" if self.active else "ended"
        return f"<ObservationHandle {self.endpoint} {self.target} {state} n={self.count}>"

    @property
    def target(self) -> str:
        if self.path is not None:
            return str(self.path)
        return ",".join(str(p) for p in self.paths)

    @property
    def token(self) -> bytes:
        return bytes(self.coap.token) if self.coap is not None else b""

    @property
    def active(self) -> bool:
        """Whether notifications may still arrive."""
        return not self._ended

    # -- fed by the server --------------------------------------------------------------

    def _deliver(self, notification: Notification) -> None:
        if self._ended:
            return
        self.count += 1
        self.last = notification
        self._queue.append(notification)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _end(self) -> None:
        """Stop: no more notifications; drop the CoAP observation without a message."""
        if self._ended:
            return
        self._ended = True
        if self.coap is not None and self.coap.active:
            self.coap.cancel_by_reset()
        self._wake()
        self._on_end(self)

    # -- for the user -------------------------------------------------------------------

    def __aiter__(self) -> ObservationHandle:
        return self

    async def __anext__(self) -> Notification:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def next(self, timeout: float | None = None) -> Notification:
        """The next notification, waiting at most ``timeout`` real seconds.

        Raises ``TimeoutError`` when none came, ``StopAsyncIteration`` when the observation
        has ended and nothing is buffered.
        """
        return await asyncio.wait_for(self.__anext__(), timeout)

    def pending(self) -> list[Notification]:
        """Take every buffered notification without waiting."""
        taken = list(self._queue)
        self._queue.clear()
        return taken

    async def cancel(self, *, timeout: float | None = None) -> Result:
        """Actively cancel: send the request again with Observe=1; returns the device's answer.

        The handle ends at once, whatever the answer. Raises like any request
        (:class:`DeviceTimeout`...).
        """
        self._end()
        return await self._canceller(self, timeout)

    def cancel_by_reset(self) -> None:
        """Passively cancel: forget the observation; the device's next notification is
        answered with a Reset, which ends it on the device."""
        self._end()

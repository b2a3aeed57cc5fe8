"""Client role of RFC 7641 Observe: the freshness rule and the :class:`Observation` object.

:func:`is_fresh` is the pure rule of RFC 7641 §3.4 deciding whether a
notification is newer than the last one seen (24-bit sequence numbers that wrap,
plus a 128-second escape). An :class:`Observation` gives the first response
(``await observation.response``) and then the fresh notifications, through an
async iterator and/or a callback; stale and duplicate notifications are dropped.
It ends when the server sends a response without Observe or with an error code,
or when the client cancels: :meth:`Observation.cancel` sends a GET with
Observe=1 (active), :meth:`Observation.cancel_by_reset` forgets the observation
so that the next notification is answered with RST (passive).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fleet.client.coap.errors import CoapError

if TYPE_CHECKING:
    from fleet.client.coap.client import ClientRole, Exchange
    from fleet.client.coap.wire import Address

_log = logging.getLogger("fleet.client.coap")

SEQUENCE_MODULUS = 1 << 24
_HALF = 1 << 23
FRESHNESS_WINDOW = 128.0  # seconds (RFC 7641 §3.4)


def is_fresh(v1: int, t1: float, v2: int, t2: float) -> bool:
    """Whether a notification (sequence ``v2`` received at ``t2``) is newer than the
    last one accepted (``v1`` at ``t1``), per RFC 7641 §3.4."""
    return (
        (v1 < v2 and v2 - v1 < _HALF) or (v1 > v2 and v1 - v2 > _HALF) or t2 > t1 + FRESHNESS_WINDOW
    )


def next_sequence(sequence: int) -> int:
    """The Observe value after ``sequence`` (24 bits, wrapping)."""
    return (sequence + 1) % SEQUENCE_MODULUS


NotificationCallback = Callable[[Any], None]


class Observation:
    """One observation made by this endpoint as a client."""

    __slots__ = (
        "_callback",
        "_ended",
        "_endpoint",
        "_error",
        "_last_seq",
        "_last_time",
        "_queue",
        "_waiter",
        "confirmable",
        "exchange",
        "remote",
        "request",
        "response",
        "stale",
        "token",
    )

    def __init__(
        self,
        endpoint: ClientRole,
        request: Any,
        remote: Address,
        *,
        confirmable: bool,
        callback: NotificationCallback | None,
        queue_size: int,
        response: asyncio.Future[Any],
    ) -> None:
        self._endpoint = endpoint
        self.request = request
        self.remote = remote
        self.confirmable = confirmable
        self._callback = callback
        self._queue: deque[Any] = deque(maxlen=queue_size)
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._last_seq: int | None = None
        self._last_time = 0.0
        self.response = response
        """Future of the first response (the registration's answer)."""
        self.stale = 0
        """How many notifications were dropped as not fresh."""
        self.token = b""
        self.exchange: Exchange | None = None

    @property
    def active(self) -> bool:
        """Whether notifications may still arrive."""
        return not self._ended

    # -- fed by the endpoint ------------------------------------------------------------

    def _receive(self, message: Any) -> None:
        if self._ended:
            return
        now = self._endpoint._clock.now()
        block2 = message.opt.block2
        if block2 is not None and block2.more:
            task = asyncio.ensure_future(self._complete(message, now))
            self._endpoint._keep_task(task)
            return
        self._accept(message, now)

    async def _complete(self, first: Any, received: float) -> None:
        try:
            whole = await self._endpoint._fetch_rest(
                self.request, self.remote, first, self.confirmable, None
            )
        except CoapError as error:
            if not self.response.done():
                self._fail(error)
            return
        self._accept(whole, received)

    def _accept(self, message: Any, now: float) -> None:
        if self._ended:
            return
        sequence = message.opt.observe
        established = sequence is not None and 64 <= message.code < 96
        if not self.response.done():
            self.response.set_result(message)
            if established:
                self._last_seq, self._last_time = sequence, now
            else:
                self._end()
            return
        if not established:
            self._push(message)
            self._end()
            return
        last = self._last_seq
        if last is not None and not is_fresh(last, self._last_time, sequence, now):
            self.stale += 1
            return
        self._last_seq, self._last_time = sequence, now
        self._push(message)

    def _push(self, message: Any) -> None:
        if self._callback is not None:
            try:
                self._callback(message)
            except Exception:
                _log.exception("observation callback failed")
        self._queue.append(message)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        exchange = self.exchange
        if exchange is not None:
            exchange.finish()
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if not self.response.done():
            self.response.set_exception(error)
        self._error = error
        self._end()

    # -- for the user -------------------------------------------------------------------

    def __aiter__(self) -> Observation:
        return self

    async def __anext__(self) -> Any:
        """The next fresh notification; stops when the observation ends."""
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._ended:
                if self._error is not None:
                    if self.response.done() and not self.response.cancelled():
                        self.response.exception()  # mark as retrieved: raised here instead
                    raise self._error
                raise StopAsyncIteration
            waiter = self._endpoint._future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None

    def cancel_by_reset(self) -> None:
        """Forget the observation; the next notification is answered with RST."""
        if not self.response.done():
            self.response.cancel()
        self._end()

    async def cancel(self, *, timeout: float | None = None) -> Any:
        """Deregister: a GET with Observe=1 and the registration's token and options.

        Returns the server's response to it. The observation ends at once. A
        notification still in flight with the same token may be taken for that
        response (RFC 7641 §3.6 leaves this to the client).
        """
        self.cancel_by_reset()
        endpoint = self._endpoint
        request = endpoint._derived(self.request, observe=1)
        deadline = None if timeout is None else endpoint._clock.now() + timeout
        return await endpoint._exchange(
            request, self.remote, self.confirmable, deadline, token=self.token
        )

"""Everything that happens at the embedded server, as events; and its counters.

Each :class:`ServerEvent` has a kind named after the platform's ``messageType``
(``registration``, ``update``, ``deregistration``, ``registration-expire``, ``notify``,
``response``, plus ``send`` and the embedded Bootstrap-Server's ``bootstrap-request``,
``bootstrap-discover``, ``bootstrap-read``, ``bootstrap-delete``, ``bootstrap-write``,
``bootstrap-finish``), the endpoint, a wall-clock time and what belongs to the kind: the
registration, the :class:`~fleet.server.results.Result` of a response (or the error of a
request that got none), the notification, the values of a Send, a bootstrap step's code.

The :class:`EventBus` delivers them three ways: synchronous listeners (``listen``), async
iterators with a bounded queue (``stream``), and one-shot futures (``expect``) that a test
creates *before* triggering what it waits for. It also keeps the last events (``history``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType, TracebackType

from fleet.codec import TimedValue
from fleet.model import Path, Value
from fleet.server.directory import Registration
from fleet.server.errors import RequestFailed
from fleet.server.results import Notification, Result

_log = logging.getLogger("fleet.server")


class EventKind(StrEnum):
    """What happened; the values are the platform's ``messageType`` names (and ``send``)."""

    REGISTRATION = "registration"
    UPDATE = "update"
    DEREGISTRATION = "deregistration"
    EXPIRATION = "registration-expire"
    SEND = "send"
    NOTIFICATION = "notify"
    RESPONSE = "response"
    BOOTSTRAP_REQUEST = "bootstrap-request"
    BOOTSTRAP_DISCOVER = "bootstrap-discover"
    BOOTSTRAP_READ = "bootstrap-read"
    BOOTSTRAP_DELETE = "bootstrap-delete"
    BOOTSTRAP_WRITE = "bootstrap-write"
    BOOTSTRAP_FINISH = "bootstrap-finish"


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One thing that happened at the server."""

    kind: EventKind
    endpoint: str
    time: float
    """Wall-clock seconds since the Unix epoch."""
    registration: Registration | None = None
    """Registration events: the registration (as it was when it ended, for the last two)."""
    result: Result | None = None
    """Responses: what the device answered (``None`` when ``error`` is set)."""
    error: RequestFailed | None = None
    """Responses: why there is no answer (a :class:`DeviceTimeout` is the platform's 408)."""
    notification: Notification | None = None
    values: Mapping[Path, Value] = field(default_factory=dict)
    """Responses, notifications and Sends: the decoded values."""
    timed: tuple[TimedValue, ...] = ()
    """Sends: every value with its time as the device stamped it."""
    request_id: str = ""
    """Responses and notifications: the id of the request (shared by an observation's chain)."""
    code: str | None = None
    """Bootstrap events: the code answered (``2.04``, ``4.06``; ``None``: no answer)."""
    path: str | None = None
    """Bootstrap events: the path of the operation (``/0/1``)."""
    detail: str = ""
    """Bootstrap events: what went wrong, or what was done."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @property
    def time_ms(self) -> int:
        """The time in milliseconds since the epoch, as the platform prints it."""
        return round(self.time * 1000)


Listener = Callable[[ServerEvent], None]
Predicate = Callable[[ServerEvent], bool]


def _matcher(
    kinds: Collection[EventKind] | EventKind | None,
    endpoint: str | None,
    predicate: Predicate | None,
) -> Predicate:
    wanted = (
        None if kinds is None else frozenset((kinds,) if isinstance(kinds, EventKind) else kinds)
    )

    def match(event: ServerEvent) -> bool:
        if wanted is not None and event.kind not in wanted:
            return False
        if endpoint is not None and event.endpoint != endpoint:
            return False
        return predicate is None or predicate(event)

    return match


class EventStream:
    """An async iterator over the server's events from its creation on.

    Holds at most ``maxsize`` undelivered events (the oldest are dropped and counted in
    ``dropped``). Use it as a (sync or async) context manager, or call :meth:`close`; iteration
    stops once it is closed and drained.
    """

    def __init__(self, bus: EventBus, match: Predicate, maxsize: int) -> None:
        self._bus = bus
        self._match = match
        self._queue: deque[ServerEvent] = deque(maxlen=maxsize)
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0

    def _offer(self, event: ServerEvent) -> None:
        if self._closed or not self._match(event):
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(event)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._bus._streams.discard(self)
            self._wake()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> ServerEvent:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def next(self, timeout: float | None = None) -> ServerEvent:
        """The next event, waiting at most ``timeout`` real seconds (``TimeoutError``)."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventBus:
    """Fan-out of server events to listeners, streams and one-shot futures."""

    def __init__(self, history: int = 1000) -> None:
        self._listeners: list[Listener] = []
        self._streams: set[EventStream] = set()
        self._waiters: list[tuple[Predicate, asyncio.Future[ServerEvent]]] = []
        self.history: deque[ServerEvent] = deque(maxlen=max(history, 1))

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event; returns a function that unsubscribes."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def stream(
        self,
        kinds: Collection[EventKind] | EventKind | None = None,
        *,
        endpoint: str | None = None,
        maxsize: int = 10_000,
    ) -> EventStream:
        """An :class:`EventStream` of the matching events from now on."""
        stream = EventStream(self, _matcher(kinds, endpoint, None), max(maxsize, 1))
        self._streams.add(stream)
        return stream

    def expect(
        self,
        kinds: Collection[EventKind] | EventKind | None = None,
        *,
        endpoint: str | None = None,
        predicate: Predicate | None = None,
    ) -> asyncio.Future[ServerEvent]:
        """A future of the next matching event (subscribed now, before you trigger it)."""
        future: asyncio.Future[ServerEvent] = asyncio.get_running_loop().create_future()
        self._waiters.append((_matcher(kinds, endpoint, predicate), future))
        return future

    def emit(self, event: ServerEvent) -> None:
        self.history.append(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("server event listener failed on %s", event.kind)
        for stream in list(self._streams):
            stream._offer(event)
        if self._waiters:
            keep: list[tuple[Predicate, asyncio.Future[ServerEvent]]] = []
            for match, future in self._waiters:
                if future.done():
                    continue
                if match(event):
                    future.set_result(event)
                else:
                    keep.append((match, future))
            self._waiters = keep

    def close(self) -> None:
        """End every stream and cancel every waiting future."""
        for stream in list(self._streams):
            stream.close()
        for _, future in self._waiters:
            future.cancel()
        self._waiters = []

    def clear(self) -> None:
        """Forget the history (streams and listeners stay)."""
        self.history.clear()


@dataclass(slots=True)
class ServerCounters:
    """Counts for metrics; :meth:`snapshot` flattens them to ``{name: number}``."""

    registrations: int = 0
    updates: int = 0
    deregistrations: int = 0
    expirations: int = 0
    rejected: int = 0
    """Registration-interface requests answered with an error (bad Register, unknown Update)."""
    sends: int = 0
    notifications: int = 0
    timeouts: int = 0
    resets: int = 0
    rebinds: int = 0
    """Updates (or Sends) accepted from a new source address in the registration's own
    security context (NAT rebinding; see :mod:`fleet.server.binding`)."""
    refused_context: int = 0
    """Registration-interface requests and Sends refused because they came in another
    security context than the registration's (also counted in ``rejected``)."""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests sent to devices, by operation name."""
    responses: Counter[str] = field(default_factory=Counter)
    """Answers received, by code (``"2.05"``)."""

    def snapshot(self) -> dict[str, int]:
        """``{"registrations": 3, "requests.read": 7, "responses.2.05": 7, ...}``."""
        flat = {
            name: getattr(self, name)
            for name in (
                "registrations",
                "updates",
                "deregistrations",
                "expirations",
                "rejected",
                "sends",
                "notifications",
                "timeouts",
                "resets",
                "rebinds",
                "refused_context",
            )
        }
        flat.update({f"requests.{k}": v for k, v in sorted(self.requests.items())})
        flat.update({f"responses.{k}": v for k, v in sorted(self.responses.items())})
        return flat

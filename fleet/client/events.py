"""Typed events of one virtual device, for metrics, logs and test fixtures.

A :class:`~fleet.client.device.Device` hands every :class:`ClientEvent` to the
listeners added with ``device.add_listener(fn)``. Events are small frozen
records built only when somebody listens, so a fleet without listeners pays
nothing for them. A listener runs inside the device's protocol code: it must
be quick and must not raise (an exception is logged and swallowed).

Times are the device clock's monotonic seconds (``Clock.now()``). The
registration events also say when their exchange began (``started``: the
request was handed to the endpoint, or the uplink fault that held it began),
so ``duration`` is measured, never guessed; ``NotificationSent.due`` says when
the notification was due, so ``delay`` is how late it left (queue mode stores
notifications while the device sleeps; a busy process sends them late).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from fleet.model.path import Path


class Operation(Enum):
    """The LwM2M operation a request was mapped to (the specification's names)."""

    __hash__ = object.__hash__  # identity, as equality (Enum's own hash runs in Python)

    READ = "Read"
    DISCOVER = "Discover"
    OBSERVE = "Observe"
    CANCEL_OBSERVATION = "Cancel Observation"
    READ_COMPOSITE = "Read-Composite"
    OBSERVE_COMPOSITE = "Observe-Composite"
    CANCEL_OBSERVE_COMPOSITE = "Cancel Observation-Composite"
    WRITE = "Write"
    WRITE_PARTIAL = "Write (partial update)"
    WRITE_ATTRIBUTES = "Write-Attributes"
    WRITE_COMPOSITE = "Write-Composite"
    EXECUTE = "Execute"
    CREATE = "Create"
    DELETE = "Delete"
    BOOTSTRAP_WRITE = "Bootstrap-Write"
    BOOTSTRAP_READ = "Bootstrap-Read"
    BOOTSTRAP_DISCOVER = "Bootstrap-Discover"
    BOOTSTRAP_DELETE = "Bootstrap-Delete"
    BOOTSTRAP_FINISH = "Bootstrap-Finish"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """Something one device did; ``endpoint`` names the device, ``time`` is ``Clock.now()``."""

    endpoint: str
    time: float


@dataclass(frozen=True, slots=True)
class Registered(ClientEvent):
    """A Register was answered 2.01; ``location`` is the Location-Path (``/rd/5a3f``)."""

    location: str
    lifetime: int
    started: float | None = None
    """When the Register began (``None``: not known)."""
    server: tuple[str, int] | None = None
    """The server's numeric address the Register went to (one of its name's addresses)."""

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started


@dataclass(frozen=True, slots=True)
class Updated(ClientEvent):
    """An Update was answered 2.04; ``query`` holds what it changed (``lt=60``, ...)."""

    location: str
    query: tuple[str, ...]
    links: bool
    """Whether the Update carried the object links (they changed)."""
    started: float | None = None
    """When the Update began (``None``: not known)."""

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started


@dataclass(frozen=True, slots=True)
class Deregistered(ClientEvent):
    """The device left the server: De-register sent (``answered``: a 2.02 came back)."""

    location: str
    answered: bool
    reason: str
    started: float | None = None
    """When the De-register began (``None``: not known)."""
    injected: bool = False
    """The answer (or its absence) was made by an uplink fault, not by the server."""

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started


@dataclass(frozen=True, slots=True)
class RegistrationFailed(ClientEvent):
    """A Register or Update did not succeed.

    ``retry_in`` is when the next Register is tried (seconds), ``None`` when the
    device gave up (:attr:`final`): the retry policy is exhausted.
    """

    operation: str
    reason: str
    attempt: int
    sequence: int
    retry_in: float | None
    started: float | None = None
    """When the failed exchange began (``None``: nothing was sent, e.g. no socket)."""
    injected: bool = False
    """The failure was made by an uplink fault (dropped, answered), not by the server."""
    cause: str = ""
    """The short cause the summary counts (``timeout``, ``port unreachable``,
    ``4.00 Bad Request``: :mod:`fleet.client.reasons`); ``reason`` has the full words."""

    @property
    def final(self) -> bool:
        return self.retry_in is None

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started


@dataclass(frozen=True, slots=True)
class RequestServed(ClientEvent):
    """A request from the server was answered."""

    method: str
    """CoAP method: ``GET``, ``PUT``, ``POST``, ``DELETE``, ``FETCH``, ``iPATCH``."""
    operation: Operation
    path: str
    content_format: int | None
    """The format of the answer's payload, or of the request's when the answer has none."""
    code: str
    """The response code as written in the specification, e.g. ``2.05`` or ``4.04``."""
    duration: float
    """Seconds the device spent on it (device clock; 0 under a manual clock)."""
    remote: tuple[str, int]
    payload: bytes = b""
    """The request's payload (a Write's body, an Execute's arguments)."""
    query: tuple[str, ...] = ()
    request_format: int | None = None
    """The request's own Content-Format."""
    response_format: int | None = None
    """The answer's own Content-Format."""
    response_payload: bytes = b""
    injected: bool = False
    """Answered by an interceptor (an injected fault), not by the device."""


@dataclass(frozen=True, slots=True)
class NotificationSent(ClientEvent):
    """An Observe notification went out (``paths``: the observed path or paths)."""

    paths: tuple[Path, ...]
    content_format: int | None
    confirmable: bool
    code: str
    remote: tuple[str, int]
    due: float | None = None
    """When it was due (pmin ended with a change pending, pmax, a change): ``time - due``
    is how late it left, e.g. stored while a queue-mode device slept."""

    @property
    def delay(self) -> float | None:
        return None if self.due is None else max(0.0, self.time - self.due)


@dataclass(frozen=True, slots=True)
class ObservationEnded(ClientEvent):
    """An observation ended: cancelled by the server (``reason`` says how) or dropped."""

    paths: tuple[Path, ...]
    reason: str
    remote: tuple[str, int]


@dataclass(frozen=True, slots=True)
class SendDone(ClientEvent):
    """A Send (POST /dp) finished: ``code`` answered, or ``error`` when none came."""

    paths: tuple[Path, ...]
    content_format: int
    code: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.code is not None and self.code.startswith("2.")


@dataclass(frozen=True, slots=True)
class Handshake(ClientEvent):
    """A DTLS handshake with the server ended after ``duration`` seconds: done when
    ``error`` is ``None``, failed (wrong key, no answer) otherwise."""

    remote: tuple[str, int]
    duration: float
    error: str | None = None
    cause: str = ""
    """A failure's short cause (``DTLS alert 40 (handshake_failure) received``,
    ``handshake timeout``...)."""

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Slept(ClientEvent):
    """Queue mode: the device went to sleep (radio off); requests are ignored until it wakes."""

    awake_for: float
    """Seconds it had been awake."""


@dataclass(frozen=True, slots=True)
class Woke(ClientEvent):
    """Queue mode: the device woke up to send something (``reason``: ``update``, ``register``,
    ``notify``, ``send``, ``de-register``) after ``slept_for`` seconds asleep."""

    reason: str
    slept_for: float
    stored: int = 0
    """Notifications stored while asleep, sent now (or after the Update)."""


@dataclass(frozen=True, slots=True)
class Retransmitted(ClientEvent):
    """The device's CoAP endpoint sent one of its confirmable messages again (no ACK yet)."""

    remote: tuple[str, int]


ClientListener = Callable[[ClientEvent], None]
"""What ``device.add_listener`` takes."""


def code_text(code: int) -> str:
    """A CoAP code number (``69``) as the specification writes it (``2.05``)."""
    return f"{code >> 5}.{code & 31:02d}"


@dataclass(frozen=True, slots=True)
class BootstrapDone(ClientEvent):
    """Bootstrap-Finish was accepted (2.04): the device now registers with ``server``.

    ``mode`` is the security mode of that account (``NoSec``, ``PSK``); ``initiated``
    says who began (``client``: a Bootstrap-Request, ``server``: the Bootstrap-Server
    wrote unasked); ``started`` is when the bootstrap began (first Bootstrap-Request
    of this attempt, or the server's first operation).
    """

    server: str
    mode: str
    initiated: str = "client"
    started: float | None = None

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started


@dataclass(frozen=True, slots=True)
class BootstrapFailed(ClientEvent):
    """A bootstrap attempt failed at ``step`` (``Bootstrap-Request``: refused or no answer;
    ``Bootstrap-Finish``: never came in time; ``connect``: no socket or handshake).

    ``retry_in`` is when the next Bootstrap-Request goes out, ``None`` when the device
    gave up (:attr:`final`).
    """

    step: str
    reason: str
    attempt: int
    retry_in: float | None
    started: float | None = None
    injected: bool = False
    cause: str = ""
    """The short cause the summary counts (``timeout``, ``4.01 Unauthorized``,
    ``no Bootstrap-Finish``: :mod:`fleet.client.reasons`); ``reason`` has the full words."""

    @property
    def final(self) -> bool:
        return self.retry_in is None

    @property
    def duration(self) -> float | None:
        return None if self.started is None else self.time - self.started

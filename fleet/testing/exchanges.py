"""What a virtual device under test received, and what a test asks of it.

:class:`Exchange` is one request the device got from a server with the answer it gave
(operation, path, format, payload, code). :class:`Expectation` ("a Write on ``/3442/0/110``
within 5 s") is met by the first matching exchange; :class:`Fault` answers the next matching
request(s) with an error code instead of serving them. :func:`format_exchanges` renders a log
for failure messages and test reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from fleet.client.events import Operation
from fleet.errors import FleetError


def operation_name(operation: Operation) -> str:
    """The short name tests use: ``Operation.WRITE_ATTRIBUTES`` -> ``"write-attributes"``."""
    return operation.name.lower().replace("_", "-")


OPERATION_NAMES = tuple(operation_name(op) for op in Operation)
"""Every name :func:`as_operation` accepts (besides the enum and its specification names)."""


def as_operation(operation: Operation | str) -> Operation:
    """``"write"``, ``"Write"``, ``"write-attributes"`` or an :class:`Operation` -> the enum."""
    if isinstance(operation, Operation):
        return operation
    wanted = operation.strip().lower()
    for op in Operation:
        if wanted in (operation_name(op), op.value.lower()):
            return op
    raise ValueError(f"unknown operation {operation!r}; one of: {', '.join(OPERATION_NAMES)}")


def as_code(code: str | int) -> int:
    """``"4.05"`` or ``133`` -> the CoAP code number."""
    if isinstance(code, int):
        return code
    major, dot, minor = code.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit() or len(minor) != 2:
        raise ValueError(f"a CoAP code is written like 4.05, got {code!r}")
    number = (int(major) << 5) | int(minor)
    if not 64 <= number < 192:
        raise ValueError(f"{code}: not a response code")
    return number


def code_text(code: int) -> str:
    return f"{code >> 5}.{code & 31:02d}"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request a device received and what it answered."""

    endpoint: str
    time: float
    """Device clock seconds (``Clock.now()``) when the request arrived."""
    operation: Operation
    method: str
    path: str
    """The Uri-Path as sent, e.g. ``/3442/0/110`` (``/`` for composites)."""
    content_format: int | None
    """The request's Content-Format (Write, Execute, composites)."""
    payload: bytes
    query: tuple[str, ...]
    code: str
    """The answer's code, e.g. ``2.04``."""
    response_format: int | None
    response_payload: bytes
    faulted: bool = False
    """Answered by an injected :class:`Fault` instead of the device."""

    @property
    def name(self) -> str:
        """The operation's short name, e.g. ``write``."""
        return operation_name(self.operation)

    def describe(self, origin: float = 0.0) -> str:
        """One line: ``t=0.000 WRITE /3442/0/110 fmt=0 payload=b'x' -> 2.04``
        (``t``: seconds since ``origin`` on the device clock)."""
        parts = [f"t={self.time - origin:.3f}", self.name.upper(), self.path]
        if self.query:
            parts.append("?" + "&".join(self.query))
        if self.content_format is not None:
            parts.append(f"fmt={self.content_format}")
        if self.payload:
            parts.append(f"payload={_short(self.payload)}")
        answer = f"-> {self.code}"
        if self.response_payload:
            answer += f" ({len(self.response_payload)} bytes"
            if self.response_format is not None:
                answer += f", fmt={self.response_format}"
            answer += ")"
        if self.faulted:
            answer += " [injected fault]"
        parts.append(answer)
        return " ".join(parts)


def _short(payload: bytes, limit: int = 48) -> str:
    text = repr(payload[:limit])
    return text + f"...({len(payload)} bytes)" if len(payload) > limit else text


def format_exchanges(endpoint: str, exchanges: Iterable[Exchange], origin: float = 0.0) -> str:
    """The device's log, one exchange a line (or a note that it received nothing)."""
    lines = [f"  {exchange.describe(origin)}" for exchange in exchanges]
    if not lines:
        return f"{endpoint}: no requests received"
    return f"{endpoint}: {len(lines)} request(s) received\n" + "\n".join(lines)


class ExpectationError(FleetError, AssertionError):
    """Expectations of a virtual device that were not met (an ``AssertionError``)."""


@dataclass(eq=False)
class Matcher:
    """Which requests something applies to: an operation and/or a path (``None``: any)."""

    operation: Operation | None
    path: str | None

    def matches(self, exchange: Exchange) -> bool:
        return self.matches_request(exchange.operation, exchange.path)

    def matches_request(self, operation: Operation, path: str) -> bool:
        if self.operation is not None and operation is not self.operation:
            return False
        return (
            self.path is None
            or path.rstrip("/") == self.path.rstrip("/")
            or (self.path == "/" and path == "/")
        )

    def describe(self) -> str:
        what = operation_name(self.operation).upper() if self.operation else "any request"
        return f"{what} on {self.path}" if self.path else what


@dataclass(eq=False)
class Expectation:
    """ "This device receives <operation> on <path> within <within> s" (device clock).

    Met by the first matching exchange (received at most ``within`` seconds after the
    expectation was made; exchanges received before it count too unless ``past=False``).
    ``await expectation`` waits for it (real seconds, up to what is left of ``within`` under a
    real clock) and returns the exchange, or raises :class:`ExpectationError`.
    """

    matcher: Matcher
    code: str | None
    created: float
    within: float
    met_by: Exchange | None = None
    _future: asyncio.Future[Exchange] | None = field(default=None, repr=False)

    @property
    def deadline(self) -> float:
        return self.created + self.within

    @property
    def met(self) -> bool:
        return self.met_by is not None

    def offer(self, exchange: Exchange) -> bool:
        """Record ``exchange`` if it meets the expectation (and it was not met yet)."""
        if self.met_by is not None or not self.matcher.matches(exchange):
            return False
        if self.code is not None and exchange.code != self.code:
            return False
        if exchange.time > self.deadline:
            return False
        self.met_by = exchange
        if self._future is not None and not self._future.done():
            self._future.set_result(exchange)
        return True

    def describe(self) -> str:
        answered = f" answered {self.code}" if self.code else ""
        return f"{self.matcher.describe()}{answered} within {self.within:g} s"

    async def wait(self, timeout: float | None = None) -> Exchange:
        """The exchange that met it, waiting at most ``timeout`` real seconds (default:
        ``within``); :class:`ExpectationError` when it does not come."""
        limit = self.within if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(self.waiter()), limit)
        except TimeoutError:
            raise ExpectationError(f"expected {self.describe()}, not received") from None

    def __await__(self) -> Generator[Any, None, Exchange]:
        return self.wait().__await__()

    def waiter(self) -> asyncio.Future[Exchange]:
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
            if self.met_by is not None:
                self._future.set_result(self.met_by)
        return self._future


@dataclass(eq=False)
class Fault:
    """Answer the next ``times`` matching requests with ``code`` instead of serving them."""

    matcher: Matcher
    code: int
    times: int = 1
    hits: list[Exchange] = field(default_factory=list)

    @property
    def spent(self) -> bool:
        return len(self.hits) >= self.times

    def describe(self) -> str:
        return (
            f"{code_text(self.code)} for {self.matcher.describe()} ({len(self.hits)}/{self.times})"
        )

"""The one place where a CoAP request becomes an LwM2M operation and an error becomes a code.

:func:`serve` is the device's CoAP handler. It maps the request to an
operation (LwM2M 1.1 core §8, "Device Management and Service Enablement
Interface" and "Information Reporting Interface"):

=======  ==========================================  ============================
method   request                                     operation
=======  ==========================================  ============================
GET      Accept: link-format (40)                    Discover
GET      Observe: 0 / 1                              Observe / Cancel Observation
GET      otherwise                                   Read
FETCH    ``/``, SenML list of paths; Observe 0 / 1   Read-Composite / Observe-Composite
PUT      a payload or Content-Format                 Write (replace)
PUT      no payload, a query                         Write-Attributes
POST     an object                                   Create (Location-Path in the answer)
POST     an executable resource                      Execute (payload = arguments)
POST     an instance, resource or resource instance  Write (partial update)
iPATCH   ``/``                                       Write-Composite
DELETE   an object instance                          Delete
=======  ==========================================  ============================

and answers it synchronously (the hot path creates no task). Whatever goes
wrong is translated here and only here: an
:class:`~fleet.errors.Lwm2mError` becomes its own code with its message as
diagnostic payload; any other exception is a bug in the device, logged and
answered 5.00 — a malformed request never gets a 5.xx. A path that is not an
LwM2M path (``/rd/...``, ``/bs``, ``/dp``, names, leading zeros) is 4.04.

With listeners, each answer is reported as a
:class:`~fleet.client.events.RequestServed`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from fleet.client import operations as ops
from fleet.client.coap.results import NO_REPLY, Duplicate
from fleet.client.coap.wire import Message
from fleet.client.content import resource_at
from fleet.client.events import ClientEvent, Operation, RequestServed, code_text
from fleet.clock import Clock
from fleet.errors import BadRequest, Lwm2mError, MethodNotAllowed, NotFound
from fleet.model.path import MAX_ID, Path

_log = logging.getLogger("fleet.client.site")

GET, POST, PUT, DELETE, FETCH, PATCH, IPATCH = 1, 2, 3, 4, 5, 6, 7
METHOD_NAMES: Final = {
    GET: "GET",
    POST: "POST",
    PUT: "PUT",
    DELETE: "DELETE",
    FETCH: "FETCH",
    PATCH: "PATCH",
    IPATCH: "iPATCH",
}
INTERNAL_SERVER_ERROR: Final = 160
DIAGNOSTIC_LIMIT: Final = 200
"""Bytes of an error's message sent as diagnostic payload."""


class SiteHost(ops.OperationHost, Protocol):
    """What the site needs from its device, beyond what the operations need."""

    @property
    def name(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def listening(self) -> bool: ...

    def emit(self, event: ClientEvent) -> None: ...


Runner = Callable[[ops.OperationHost, Path, Any], Any]


def _write_replace(host: ops.OperationHost, path: Path, request: Any) -> Any:
    return ops.write(host, path, request, replace=True)


def _write_partial(host: ops.OperationHost, path: Path, request: Any) -> Any:
    return ops.write(host, path, request, replace=False)


def _not_allowed(host: ops.OperationHost, path: Path, request: Any) -> Any:
    method = METHOD_NAMES.get(int(request.code), str(request.code))
    raise MethodNotAllowed(f"{path}: {method} is not an LwM2M operation on this target")


RUNNERS: Final[dict[Operation, Runner]] = {
    Operation.READ: ops.read,
    Operation.DISCOVER: ops.discover,
    Operation.OBSERVE: ops.observe,
    Operation.CANCEL_OBSERVATION: ops.cancel_observation,
    Operation.READ_COMPOSITE: ops.read_composite_op,
    Operation.OBSERVE_COMPOSITE: ops.observe_composite,
    Operation.CANCEL_OBSERVE_COMPOSITE: ops.cancel_observe_composite,
    Operation.WRITE: _write_replace,
    Operation.WRITE_PARTIAL: _write_partial,
    Operation.WRITE_ATTRIBUTES: ops.write_attributes,
    Operation.WRITE_COMPOSITE: ops.write_composite,
    Operation.EXECUTE: ops.execute,
    Operation.CREATE: ops.create,
    Operation.DELETE: ops.delete,
    Operation.UNKNOWN: _not_allowed,
}


@functools.lru_cache(maxsize=1024)
def parse_uri_path(segments: tuple[str, ...]) -> Path | None:
    """The LwM2M path of a request's Uri-Path, or ``None`` when it is not one (the answers
    are kept: a server asks for the same few paths again and again)."""
    if segments and segments[-1] == "":  # a trailing slash
        segments = segments[:-1]
    if len(segments) > 4:
        return None
    ids: list[int] = []
    for segment in segments:
        if not segment.isascii() or not segment.isdigit():
            return None
        if len(segment) > 1 and segment[0] == "0":
            return None
        value = int(segment)
        if value > MAX_ID:
            return None
        ids.append(value)
    return Path(*ids)


def classify(host: ops.OperationHost, method: int, path: Path, request: Any) -> Operation:
    """The operation a request asks for (see the module's table)."""
    opt = request.opt
    if method == GET:
        accept = opt.accept
        if accept is not None and int(accept) == ops.LINK_FORMAT:
            return Operation.DISCOVER
        observe = opt.observe
        if observe == 0:
            return Operation.OBSERVE
        if observe == 1:
            return Operation.CANCEL_OBSERVATION
        return Operation.READ
    if method == FETCH:
        if opt.observe == 0:
            return Operation.OBSERVE_COMPOSITE
        if opt.observe == 1:
            return Operation.CANCEL_OBSERVE_COMPOSITE
        return Operation.READ_COMPOSITE
    if method == PUT:
        if request.payload or opt.content_format is not None or not opt.uri_query:
            return Operation.WRITE
        return Operation.WRITE_ATTRIBUTES
    if method == POST:
        if len(path) == 1:
            return Operation.CREATE
        if len(path) == 3:
            resource = resource_at(host.tree, path)
            if resource is not None and resource.executable:
                return Operation.EXECUTE
        return Operation.WRITE_PARTIAL if path else Operation.UNKNOWN
    if method == IPATCH:
        return Operation.WRITE_COMPOSITE
    if method == DELETE:
        return Operation.DELETE
    return Operation.UNKNOWN


def error_response(error: Lwm2mError) -> Any:
    """The answer to an :class:`~fleet.errors.Lwm2mError`: its code, its message as diagnostic."""
    code = (error.code[0] << 5) | error.code[1]
    diagnostic = str(error).encode("utf-8", "replace")[:DIAGNOSTIC_LIMIT]
    diagnostic = diagnostic.decode("utf-8", "ignore").encode("utf-8")  # no half a character
    return Message(code=code, payload=diagnostic)


def serve(host: SiteHost, request: Any) -> Any:
    """Answer one request of the LwM2M server (the device's CoAP handler)."""
    listening = host.listening
    started = host.clock.now() if listening else 0.0
    operation = Operation.UNKNOWN
    path = parse_uri_path(request.opt.uri_path)
    method = int(request.code)
    try:
        if path is None:
            raise NotFound(f"/{'/'.join(request.opt.uri_path)}: not an LwM2M path")
        operation = classify(host, method, path, request)
        response = RUNNERS[operation](host, path, request)
    except Lwm2mError as error:
        response = error_response(error)
    except (ValueError, OverflowError) as error:
        # a payload a codec did not turn into a CodecError: still the request's fault
        _log.warning("bad request %s not caught as CodecError: %r", request, error)
        response = error_response(BadRequest(f"malformed request: {error}"))
    except Exception:
        _log.exception("device %s failed to answer %s", host.name, request)
        response = Message(code=INTERNAL_SERVER_ERROR)
    if listening:
        report_served(host, request, operation, method, response, started)
    return response


def report_served(
    host: SiteHost,
    request: Any,
    operation: Operation,
    method: int,
    response: Any,
    started: float,
    *,
    injected: bool = False,
) -> None:
    """Tell the listeners how ``request`` was answered (a :class:`RequestServed`)."""
    answered = response.opt.content_format
    requested = request.opt.content_format
    given = answered if answered is not None else requested
    host.emit(
        RequestServed(
            endpoint=host.name,
            time=host.clock.now(),
            method=METHOD_NAMES.get(method, str(method)),
            operation=operation,
            path="/" + "/".join(request.opt.uri_path),
            content_format=None if given is None else int(given),
            code=code_text(int(response.code)),
            duration=host.clock.now() - started,
            remote=request.remote,
            payload=bytes(request.payload),
            query=tuple(request.opt.uri_query),
            request_format=None if requested is None else int(requested),
            response_format=None if answered is None else int(answered),
            response_payload=bytes(response.payload),
            injected=injected,
        )
    )


# -- interception: where faults plug in -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an interceptor decides about one request (see :func:`intercept`).

    Build one with the class methods: :meth:`answer` (a code instead of the
    operation), :meth:`drop` (never answered: the handler gives
    :data:`~fleet.client.coap.core.NO_REPLY`, and CoAP deduplication drops the
    server's retransmissions too), :meth:`delay` (served ``seconds`` later: a
    CON gets an empty ACK, then a separate response), :meth:`corrupt` (served,
    then the answer's payload mangled), :meth:`duplicate` (served, and the
    answer's datagram sent twice). ``delay`` combines with ``corrupt`` and
    ``duplicate`` (build it with ``dataclasses.replace``).

    The same verdicts answer a device's own uplink (see :mod:`fleet.client.uplink`),
    where ``corrupt`` and ``duplicate`` do not apply.
    """

    code: int | None = None
    dropped: bool = False
    delay_s: float = 0.0
    corrupted: bool = False
    duplicated: bool = False

    @classmethod
    def answer(cls, code: int | str) -> Verdict:
        """Answer ``code`` (``133`` or ``"4.05"``) without running the operation."""
        return cls(code=parse_code(code))

    @classmethod
    def drop(cls) -> Verdict:
        return cls(dropped=True)

    @classmethod
    def delay(cls, seconds: float) -> Verdict:
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        return cls(delay_s=seconds)

    @classmethod
    def corrupt(cls) -> Verdict:
        return cls(corrupted=True)

    @classmethod
    def duplicate(cls) -> Verdict:
        """Serve as usual and send the answer twice (the server must deduplicate)."""
        return cls(duplicated=True)

    @property
    def kind(self) -> str:
        """``answer``, ``drop``, ``delay``, ``corrupt``, ``duplicate`` or ``serve``."""
        if self.dropped:
            return "drop"
        if self.code is not None:
            return "answer"
        if self.delay_s > 0:
            return "delay"
        if self.corrupted:
            return "corrupt"
        return "duplicate" if self.duplicated else "serve"


Interceptor = Callable[[Any, Operation, "Path | None"], "Verdict | None"]
"""``fn(request, operation, path) -> Verdict | None`` (``None``: serve as usual)."""


def parse_code(code: int | str) -> int:
    """``"4.05"`` -> ``133``; a number is taken as it is. ``ValueError`` on anything else."""
    if isinstance(code, int):
        number = code
    else:
        head, dot, tail = code.partition(".")
        if not dot or not head.isdigit() or not tail.isdigit() or len(tail) != 2:
            raise ValueError(f"{code!r} is not a CoAP code like 4.05")
        number = (int(head) << 5) | int(tail)
    if not 64 <= number < 192:
        raise ValueError(f"{code!r} is not a response code (2.00 to 5.31)")
    return number


def corrupted(response: Any) -> Any:
    """``response`` with a mangled payload (bytes flipped, cut short; garbage if empty)."""
    payload = bytes(response.payload)
    if payload:
        body = bytes(b ^ 0xA5 for b in payload[: max(1, len(payload) // 2)])
    else:
        body = b"\xff\x00\xa5"
    out = Message(code=response.code, payload=body)
    if response.opt.content_format is not None:
        out.opt.content_format = response.opt.content_format
    return out


def intercept(host: SiteHost, request: Any, interceptors: tuple[Interceptor, ...]) -> Any:
    """Answer one request through ``interceptors`` (the first verdict wins), then :func:`serve`."""
    path = parse_uri_path(request.opt.uri_path)
    method = int(request.code)
    operation = Operation.UNKNOWN
    if path is not None:
        try:
            operation = classify(host, method, path, request)
        except Exception:  # serve() answers such requests itself
            operation = Operation.UNKNOWN
    verdict: Verdict | None = None
    for interceptor in interceptors:
        verdict = interceptor(request, operation, path)
        if verdict is not None:
            break
    if verdict is None:
        return serve(host, request)
    if verdict.dropped:
        return NO_REPLY
    if verdict.code is not None:
        response = Message(code=verdict.code)
        if host.listening:
            report_served(
                host, request, operation, method, response, host.clock.now(), injected=True
            )
        return response
    if verdict.delay_s > 0:
        return _delayed(host, request, verdict)
    return _altered(serve(host, request), verdict)


def _altered(response: Any, verdict: Verdict) -> Any:
    if verdict.corrupted:
        response = corrupted(response)
    return Duplicate(response) if verdict.duplicated else response


async def _delayed(host: SiteHost, request: Any, verdict: Verdict) -> Any:
    await host.clock.sleep_until(host.clock.now() + verdict.delay_s)
    return _altered(serve(host, request), verdict)

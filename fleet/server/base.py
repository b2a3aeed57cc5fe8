"""The state every part of the embedded server shares, and the one place requests go out.

:class:`ServerCore` holds the CoAP endpoint, the clock, the object definitions, the
registration directory, the per-device records, the event bus and the counters.
:meth:`ServerCore._perform` sends one request to a registered device and turns what happens into
a :class:`~fleet.server.results.Result` (any code) or a :class:`~fleet.server.errors.RequestFailed`
(no answer), recording decoded values and emitting the ``response`` event either way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from fleet.client.coap import (
    Address,
    BlockwiseError,
    CoapEndpoint,
    CoapReset,
    CoapTimeout,
    EndpointClosed,
)
from fleet.clock import Clock
from fleet.codec import ContentFormat
from fleet.model import ModelRegistry, Path
from fleet.server.binding import NOSEC, Context, Peer, describe, may_send
from fleet.server.directory import Directory
from fleet.server.errors import (
    DeviceReset,
    DeviceTimeout,
    InsecureRoute,
    InvalidRequest,
    RequestFailed,
    ServerClosed,
    TransferFailed,
    UnknownEndpoint,
)
from fleet.server.events import EventBus, EventKind, ServerCounters, ServerEvent
from fleet.server.observations import ObservationHandle
from fleet.server.records import DeviceRecord
from fleet.server.requests import (
    COMPOSITE_DEFAULT,
    FormatLike,
    PathLike,
    as_path,
    pick_format,
)
from fleet.server.results import (
    Decoded,
    Operation,
    Result,
    code_text,
    decode_answer,
    message_format,
)
from fleet.server.secure import DualTransport

_log = logging.getLogger("fleet.server")

Decoder = Callable[[Any, DeviceRecord], Decoded]
"""Decodes a response message for one request (knows the path and format it asked for)."""


def new_request_id() -> str:
    """A fresh id for a request (and the chain of messages that follows it)."""
    return str(uuid.uuid4())


class ServerCore:
    """Shared state of :class:`~fleet.server.server.Lwm2mServer`; not used on its own."""

    _endpoint: CoapEndpoint | None
    clock: Clock
    models: ModelRegistry
    directory: Directory
    counters: ServerCounters
    request_timeout: float | None
    _bus: EventBus
    _records: dict[str, DeviceRecord]
    _observations: dict[str, dict[bytes, ObservationHandle]]
    _tasks: set[asyncio.Task[Any]]
    _dual: DualTransport | None

    def _context(self, address: Address) -> Context:
        """The security context the server holds for ``address`` now (see
        :mod:`fleet.server.binding`): the DTLS session's identity, or NoSec."""
        dual = self._dual
        if dual is None or not dual.is_secure(address):
            return NOSEC
        identity = dual.identity(address)
        return NOSEC if identity is None else Peer("psk", identity)

    def _coap(self) -> CoapEndpoint:
        endpoint = self._endpoint
        if endpoint is None or endpoint.closed:
            raise ServerClosed("the server is stopped")
        return endpoint

    def _require(self, endpoint: str) -> DeviceRecord:
        """The record of a registered device, or :class:`UnknownEndpoint`."""
        if self._endpoint is None:
            raise ServerClosed("the server is stopped")
        record = self._records.get(endpoint)
        if record is None or record.registration is None:
            raise UnknownEndpoint(endpoint)
        return record

    def _emit(self, event: ServerEvent) -> None:
        self._bus.emit(event)

    def _keep(self, coroutine: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _failure(
        self,
        error: BaseException,
        endpoint: str,
        operation: Operation,
        request_id: str,
        target: str,
    ) -> RequestFailed | ServerClosed:
        """The API error for what the CoAP layer raised: counted, and a ``response`` event
        with the error (except when the server itself stopped)."""
        where = f"{endpoint}: {operation} {target}"
        kw: dict[str, Any] = {
            "endpoint": endpoint,
            "operation": str(operation),
            "request_id": request_id,
            "target": target,
        }
        failure: RequestFailed
        if isinstance(error, CoapTimeout):
            self.counters.timeouts += 1
            failure = DeviceTimeout(f"{where}: the device did not answer in time", **kw)
        elif isinstance(error, CoapReset):
            self.counters.resets += 1
            failure = DeviceReset(f"{where}: the device answered with a Reset", **kw)
        elif isinstance(error, BlockwiseError):
            failure = TransferFailed(f"{where}: {error}", **kw)
        else:
            return ServerClosed(f"{where}: the server stopped while waiting")
        wall = self.clock.wall()
        self._emit(
            ServerEvent(EventKind.RESPONSE, endpoint, wall, error=failure, request_id=request_id)
        )
        return failure

    async def _perform(
        self,
        endpoint: str,
        operation: Operation,
        message: Any,
        decoder: Decoder,
        *,
        path: Path | None,
        paths: tuple[Path, ...] = (),
        timeout: float | None,
        request_id: str | None,
        record_under: tuple[Path, ...] = (),
    ) -> Result:
        """Send ``message`` to ``endpoint`` and wait for the answer (see the module docstring).

        ``record_under``: on success, the decoded values replace what was known below
        these paths (a Read); empty: values are not recorded (a Write).
        """
        record = self._require(endpoint)
        registration = record.registration
        assert registration is not None
        coap = self._coap()
        if not may_send(registration.security, self._context(registration.address)):
            raise InsecureRoute(
                f"{endpoint} registered over {describe(registration.security)} and has no"
                " such DTLS session now: not sending in the clear"
            )
        rid = request_id or new_request_id()
        self.counters.requests[str(operation)] += 1
        target = str(path) if path is not None else ",".join(str(p) for p in paths) or "/"
        wait = timeout if timeout is not None else self.request_timeout
        try:
            response = await coap.request(message, registration.address, timeout=wait)
        except (CoapTimeout, CoapReset, BlockwiseError, EndpointClosed) as error:
            raise self._failure(error, endpoint, operation, rid, target) from error
        return self._result(record, operation, response, decoder, path, paths, rid, record_under)

    def _result(
        self,
        record: DeviceRecord,
        operation: Operation,
        response: Any,
        decoder: Decoder,
        path: Path | None,
        paths: tuple[Path, ...],
        request_id: str,
        record_under: tuple[Path, ...],
    ) -> Result:
        code = code_text(int(response.code))
        self.counters.responses[code] += 1
        ok = code.startswith("2.")
        decoded = decoder(response, record) if ok else Decoded()
        location = None
        if ok and response.opt.location_path:
            try:
                location = Path(*(int(p) for p in response.opt.location_path[-2:]))
            except ValueError:
                location = None
        result = Result(
            endpoint=record.endpoint,
            operation=operation,
            path=path,
            code=code,
            content_format=message_format(response),
            payload=bytes(response.payload),
            values=decoded.values,
            node=decoded.node,
            links=decoded.links,
            location=location,
            paths=paths,
            decode_error=decoded.error,
            unmodelled=decoded.unmodelled,
            request_id=request_id,
            time=self.clock.wall(),
        )
        if ok and record_under and decoded.values:
            record.record(decoded.values, under=record_under)
        self._emit(
            ServerEvent(
                EventKind.RESPONSE,
                record.endpoint,
                result.time,
                result=result,
                values=result.values,
                request_id=request_id,
            )
        )
        return result

    def _target(
        self, endpoint: str, path: PathLike, fmt: FormatLike | None
    ) -> tuple[Path, ContentFormat | None, tuple[str, ...]]:
        record = self._require(endpoint)
        return as_path(path), pick_format(fmt), record.objects.root

    def _composite(
        self, endpoint: str, paths: Iterable[PathLike], fmt: FormatLike | None
    ) -> tuple[tuple[Path, ...], ContentFormat, tuple[str, ...]]:
        record = self._require(endpoint)
        targets = tuple(as_path(p) for p in paths)
        if not targets:
            raise InvalidRequest("a composite operation names at least one path")
        chosen = pick_format(fmt) or COMPOSITE_DEFAULT
        if chosen not in (ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON):
            raise InvalidRequest("composite paths travel in SenML CBOR or JSON", status=415)
        return targets, chosen, record.objects.root

    def _decoder(self, path: Path) -> Decoder:
        """Decode an answer for ``path`` with the device's object versions."""

        def decode(response: Any, record: DeviceRecord) -> Decoded:
            return decode_answer(
                message_format(response),
                bytes(response.payload),
                path,
                self.models,
                record.versions,
            )

        return decode


def no_values(response: Any, record: DeviceRecord) -> Decoded:
    """The decoder of operations whose answer carries no values (Write, Execute...)."""
    return Decoded()

"""Information reporting: Observe and Observe-Composite, notifications, cancellation.

``await server.observe(endpoint, path, pmin=.., pmax=..)`` sends a GET with Observe=0 (the
attributes in its query) and returns an :class:`~fleet.server.observations.ObservationHandle`
once the device answered. Each notification is decoded here as it arrives, with the device's
object versions: its values are recorded on the device's record, a ``notify`` event is emitted
(carrying the Observe request's ``request_id``, so that a platform can label the whole chain),
and the handle buffers it for whoever iterates. Cancelling actively sends the request again
with Observe=1; a device's final non-2.xx notification, a de-registration or an expiry end
the observation too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from fleet.client.coap import BlockwiseError, CoapReset, CoapTimeout, EndpointClosed
from fleet.codec import encode_composite_request
from fleet.model import Path
from fleet.server.base import Decoder, ServerCore, new_request_id
from fleet.server.events import EventKind, ServerEvent
from fleet.server.observations import ObservationHandle
from fleet.server.requests import (
    FETCH,
    GET,
    ROOT,
    FormatLike,
    PathLike,
    as_path,
    attribute_query,
    attributes_of,
    build_request,
)
from fleet.server.results import Decoded, Notification, Operation, Result, code_text, message_format

AttributeArg = float | int | bool | None


class ReportingMixin(ServerCore):
    """The information reporting API of :class:`~fleet.server.server.Lwm2mServer`."""

    observation_queue: int

    async def observe(
        self,
        endpoint: str,
        path: PathLike,
        *,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
        **attributes: AttributeArg,
    ) -> ObservationHandle:
        """Observe ``path``; notification attributes (``pmin=1, pmax=10``...) go in the query.

        Returns when the device answered; see :class:`ObservationHandle`.
        """
        target, fmt, root = self._target(endpoint, path, format)
        query = attribute_query(attributes) if attributes else []
        message = build_request(GET, root, target, accept=fmt, query=query)
        return await self._observe(
            endpoint, Operation.OBSERVE, message, target, (), query, timeout, request_id
        )

    async def observe_composite(
        self,
        endpoint: str,
        paths: Iterable[PathLike],
        *,
        format: FormatLike | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
        **attributes: AttributeArg,
    ) -> ObservationHandle:
        """Observe-Composite (FETCH with Observe): several paths in one observation."""
        targets, fmt, root = self._composite(endpoint, paths, format)
        query = attribute_query(attributes) if attributes else []
        message = build_request(
            FETCH,
            root,
            ROOT,
            payload=encode_composite_request(fmt, targets),
            content_format=fmt,
            accept=fmt,
            query=query,
        )
        return await self._observe(
            endpoint,
            Operation.OBSERVE_COMPOSITE,
            message,
            None,
            targets,
            query,
            timeout,
            request_id,
        )

    def observations(self, endpoint: str | None = None) -> list[ObservationHandle]:
        """The active observations (of one endpoint, or all)."""
        if endpoint is not None:
            return list(self._observations.get(endpoint, {}).values())
        return [h for handles in self._observations.values() for h in handles.values()]

    def find_observation(self, endpoint: str, path: PathLike) -> ObservationHandle | None:
        """The active observation of exactly ``path`` on ``endpoint``, if any."""
        target = as_path(path)
        for handle in self._observations.get(endpoint, {}).values():
            if handle.path == target:
                return handle
        return None

    async def _observe(
        self,
        endpoint: str,
        operation: Operation,
        message: Any,
        path: Path | None,
        paths: tuple[Path, ...],
        query: list[str],
        timeout: float | None,
        request_id: str | None,
    ) -> ObservationHandle:
        record = self._require(endpoint)
        registration = record.registration
        assert registration is not None
        coap = self._coap()
        rid = request_id or new_request_id()
        handle = ObservationHandle(
            endpoint,
            operation,
            path,
            paths,
            attributes_of(query),
            rid,
            queue_size=self.observation_queue,
            canceller=self._cancel_observation,
            on_end=self._observation_ended,
        )
        decoder = self._decoder(path if path is not None else ROOT)
        self.counters.requests[str(operation)] += 1
        wait = timeout if timeout is not None else self.request_timeout
        handle.coap = coap.observe(
            message,
            registration.address,
            timeout=wait,
            callback=lambda note: self._notified(handle, note, decoder),
        )
        try:
            response = await handle.coap.response
        except (CoapTimeout, CoapReset, BlockwiseError, EndpointClosed) as error:
            handle._end()
            raise self._failure(error, endpoint, operation, rid, handle.target) from error
        except asyncio.CancelledError:
            handle._end()
            raise
        under = paths if path is None else (path,)
        handle.result = self._result(record, operation, response, decoder, path, paths, rid, under)
        if handle.result.ok and handle.coap.active and record.holds(registration):
            self._observations.setdefault(endpoint, {})[handle.token] = handle
        else:
            handle._end()
        return handle

    def _notified(self, handle: ObservationHandle, message: Any, decoder: Decoder) -> None:
        record = self._records.get(handle.endpoint)
        if record is None or record.registration is None or not handle.active:
            handle._end()
            return
        code = code_text(int(message.code))
        established = code.startswith("2.") and message.opt.observe is not None
        decoded = decoder(message, record) if code.startswith("2.") else Decoded()
        notification = Notification(
            endpoint=handle.endpoint,
            path=handle.path,
            sequence=message.opt.observe,
            code=code,
            content_format=message_format(message),
            payload=bytes(message.payload),
            values=decoded.values,
            node=decoded.node,
            time=self.clock.wall(),
            request_id=handle.request_id,
            paths=handle.paths,
            decode_error=decoded.error,
            unmodelled=decoded.unmodelled,
        )
        if decoded.values:
            under = handle.paths if handle.path is None else (handle.path,)
            record.record(decoded.values, under=under)
        self.counters.notifications += 1
        self._emit(
            ServerEvent(
                EventKind.NOTIFICATION,
                handle.endpoint,
                notification.time,
                notification=notification,
                values=notification.values,
                request_id=handle.request_id,
            )
        )
        handle._deliver(notification)
        if not established:
            handle._end()

    async def _cancel_observation(self, handle: ObservationHandle, timeout: float | None) -> Result:
        record = self._require(handle.endpoint)
        operation = Operation.CANCEL_OBSERVATION
        self.counters.requests[str(operation)] += 1
        wait = timeout if timeout is not None else self.request_timeout
        try:
            response = await handle.coap.cancel(timeout=wait)
        except (CoapTimeout, CoapReset, BlockwiseError, EndpointClosed) as error:
            failure = self._failure(
                error, handle.endpoint, operation, handle.request_id, handle.target
            )
            raise failure from error
        decoder = self._decoder(handle.path if handle.path is not None else ROOT)
        under = handle.paths if handle.path is None else (handle.path,)
        return self._result(
            record,
            Operation.CANCEL_OBSERVATION,
            response,
            decoder,
            handle.path,
            handle.paths,
            handle.request_id,
            under,
        )

    def _observation_ended(self, handle: ObservationHandle) -> None:
        handles = self._observations.get(handle.endpoint)
        if handles is not None and handles.get(handle.token) is handle:
            del handles[handle.token]
            if not handles:
                del self._observations[handle.endpoint]

"""What the embedded Bootstrap-Server sends one device: single operations and the session.

:class:`BootstrapOperations` is the sending half of
:class:`~fleet.server.bootstrap.server.BootstrapServer` (a mixin; the server
owns the sockets and answers Bootstrap-Requests):

- :meth:`~BootstrapOperations.discover`, ``read``, ``delete``, ``write``,
  ``finish``: one bootstrap operation each (LwM2M 1.1 Core 5.2.7), for tests
  of a client's rules and for scripts;
- the session after an accepted Bootstrap-Request (or a server-initiated
  bootstrap): the steps of :mod:`.plan` in order (Discover ``/``, Delete of
  each configured path, the Writes, Finish), each reported as a
  :class:`~fleet.server.events.ServerEvent` with the code the device answered.
  A step answered with an error, or not at all, ends the session (``detail``
  says why; the device retries on its own). Server-side faults fail a Write
  (an undecodable payload) or never send the Finish.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fleet.client.bootstrap.configs import BootstrapConfig
from fleet.client.coap import (
    Address,
    BlockwiseError,
    CoapEndpoint,
    CoapReset,
    CoapTimeout,
    EndpointClosed,
)
from fleet.client.coap.wire import Message
from fleet.clock import Clock
from fleet.codec.registry import encode
from fleet.model import ModelRegistry
from fleet.server.bootstrap.faults import BootstrapFaults
from fleet.server.bootstrap.plan import Discovered, Step, parse_discover, plan_writes
from fleet.server.events import EventBus, EventKind, ServerEvent
from fleet.server.results import code_text

POST, GET, PUT, DELETE = 2, 1, 3, 4
LINK_FORMAT = 40


class BootstrapOperations:
    """The operations a Bootstrap-Server sends, one at a time or as a session."""

    clock: Clock
    models: ModelRegistry
    request_timeout: float | None
    faults: BootstrapFaults
    counters: Counter[str]
    finished: dict[str, int]
    _bus: EventBus

    def _coap(self) -> CoapEndpoint:
        raise NotImplementedError  # pragma: no cover - the server's socket

    # -- single operations (tests, scripts) -----------------------------------------------

    async def request(
        self, endpoint: str, address: Address, kind: EventKind, path: str, message: Any
    ) -> tuple[str | None, bytes]:
        """Send one bootstrap operation to ``address``; ``(code, payload)`` (code ``None``:
        no answer). Reported as an event like the session's steps."""
        response = await self._step(kind, endpoint, address, path, message, keep=True)
        if response is None:
            return None, b""
        return code_text(int(response.code)), bytes(response.payload)

    async def discover(
        self, endpoint: str, address: Address, path: str = "/"
    ) -> tuple[str | None, bytes]:
        """Bootstrap-Discover ``path`` (``/`` or an object)."""
        message = Message(code=GET, uri_path=segments(path), accept=LINK_FORMAT)
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_DISCOVER, path, message)

    async def read(
        self, endpoint: str, address: Address, path: str, accept: int | None = None
    ) -> tuple[str | None, bytes]:
        """Bootstrap-Read ``path`` (1.1: the Server or Access Control object)."""
        message = Message(code=GET, uri_path=segments(path))
        if accept is not None:
            message.opt.accept = accept
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_READ, path, message)

    async def delete(self, endpoint: str, address: Address, path: str) -> tuple[str | None, bytes]:
        """Bootstrap-Delete ``path`` (``/``, an object or an instance)."""
        message = Message(code=DELETE, uri_path=segments(path))
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_DELETE, path, message)

    async def write(self, endpoint: str, address: Address, step: Step) -> tuple[str | None, bytes]:
        """Bootstrap-Write one step (its node encoded in its content format)."""
        message = self._write_message(step)
        return await self.request(
            endpoint, address, EventKind.BOOTSTRAP_WRITE, str(step.path), message
        )

    async def finish(self, endpoint: str, address: Address) -> tuple[str | None, bytes]:
        """Bootstrap-Finish (``POST /bs``)."""
        message = Message(code=POST, uri_path=("bs",))
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_FINISH, "/bs", message)

    # -- the session --------------------------------------------------------------------

    async def _session(
        self, endpoint: str, address: Address, config: BootstrapConfig, delay: float
    ) -> bool:
        await asyncio.sleep(0)  # the 2.04 goes out before the first operation
        if delay > 0:
            await self.clock.sleep_until(self.clock.now() + delay)
        discovered: Discovered | None = None
        if config.discover:
            message = Message(code=GET, accept=LINK_FORMAT)
            response = await self._step(
                EventKind.BOOTSTRAP_DISCOVER, endpoint, address, "/", message
            )
            if response is None:
                return self._fail(endpoint)
            discovered = parse_discover(bytes(response.payload))
        for target in config.delete:
            message = Message(code=DELETE, uri_path=segments(str(target)))
            response = await self._step(
                EventKind.BOOTSTRAP_DELETE, endpoint, address, str(target), message
            )
            if response is None:
                return self._fail(endpoint)
        for index, step in enumerate(plan_writes(config, endpoint, discovered)):
            message = self._write_message(step)
            if self.faults.failing_write(endpoint, index):
                message = Message(code=PUT, uri_path=message.opt.uri_path, payload=b"\xff\x00")
                message.opt.content_format = int(step.content_format)
            response = await self._step(
                EventKind.BOOTSTRAP_WRITE, endpoint, address, str(step.path), message
            )
            if response is None:
                return self._fail(endpoint)
        if self.faults.failing_finish(endpoint):
            self._event(
                EventKind.BOOTSTRAP_FINISH, endpoint, None, "/bs", "not sent (injected fault)"
            )
            return self._fail(endpoint)
        message = Message(code=POST, uri_path=("bs",))
        response = await self._step(EventKind.BOOTSTRAP_FINISH, endpoint, address, "/bs", message)
        if response is None:
            return self._fail(endpoint)
        self.counters["finished"] += 1
        self.finished[endpoint] = self.finished.get(endpoint, 0) + 1
        return True

    def _fail(self, endpoint: str) -> bool:
        self.counters["failed"] += 1
        return False

    def _write_message(self, step: Step) -> Any:
        payload = encode(step.content_format, step.node, step.path, self.models)
        message = Message(code=PUT, uri_path=tuple(str(i) for i in step.path), payload=payload)
        message.opt.content_format = int(step.content_format)
        return message

    async def _step(
        self,
        kind: EventKind,
        endpoint: str,
        address: Address,
        path: str,
        message: Any,
        *,
        keep: bool = False,
    ) -> Any | None:
        """Send one operation; the response when it succeeded (2.xx, ``keep``: any code),
        else ``None``."""
        self.counters[f"steps.{kind.value}"] += 1
        try:
            response = await self._coap().request(message, address, timeout=self.request_timeout)
        except (CoapTimeout, CoapReset, BlockwiseError, EndpointClosed) as error:
            self._event(kind, endpoint, None, path, f"no answer: {type(error).__name__}")
            return None
        code = code_text(int(response.code))
        ok = code.startswith("2.")
        detail = "" if ok else bytes(response.payload).decode("utf-8", "replace")
        self._event(kind, endpoint, code, path, detail)
        return response if ok or keep else None

    def _event(
        self, kind: EventKind, endpoint: str, code: str | None, path: str, detail: str
    ) -> None:
        self._bus.emit(
            ServerEvent(kind, endpoint, self.clock.wall(), code=code, path=path, detail=detail)
        )


def segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)

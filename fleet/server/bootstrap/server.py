"""``BootstrapServer``: a real LwM2M Bootstrap-Server in process, for tests, demos and storms.

One :class:`~fleet.client.coap.CoapEndpoint` (plain UDP, plus a DTLS-PSK socket
when a configuration names a bootstrap PSK, :mod:`fleet.server.secure`) answers
Bootstrap-Requests (``POST /bs?ep=..[&pct=..]``, LwM2M 1.1 Core 6.1.3):

- no configuration for the endpoint: 4.00 Bad Request (as Leshan answers);
- the configuration has a bootstrap PSK and the request did not come over a
  DTLS session with that identity: 4.01 Unauthorized;
- otherwise 2.04 Changed, then a short task sends the steps of
  :mod:`.plan` in order (Discover, Delete, Write..., Finish), each reported as
  a :class:`~fleet.server.events.ServerEvent` (``bootstrap-discover``,
  ``bootstrap-delete``, ``bootstrap-write``, ``bootstrap-finish`` with the code
  the device answered). A step answered with an error or not at all ends the
  session (``detail`` says why); the device then retries on its own.

:meth:`BootstrapServer.bootstrap` runs the same steps toward a device that did
not ask (server-initiated bootstrap). Server-side faults
(:class:`~fleet.server.bootstrap.faults.BootstrapFaults`) refuse, misconfigure,
fail a Write or the Finish, or slow the server down, seeded and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from types import TracebackType
from typing import Any

from fleet.client.coap import (
    Address,
    BlockwiseError,
    CoapEndpoint,
    CoapReset,
    CoapTimeout,
    EndpointClosed,
    EndpointLimits,
    TransmissionParameters,
)
from fleet.client.coap.wire import Code, Message
from fleet.clock import Clock, LoopClock
from fleet.codec import ContentFormat
from fleet.codec.registry import encode
from fleet.errors import BadRequest, FleetError, MethodNotAllowed, NotFound, Unauthorized
from fleet.model import ModelRegistry
from fleet.model.shipped import shipped_registry
from fleet.server.bootstrap.config import BootstrapConfig, BootstrapConfigs
from fleet.server.bootstrap.faults import BootstrapFaults
from fleet.server.bootstrap.plan import Discovered, Step, parse_discover, plan_writes
from fleet.server.events import EventBus, EventKind, ServerEvent
from fleet.server.results import code_text
from fleet.server.secure import DualTransport, open_server_endpoint

_log = logging.getLogger("fleet.server.bootstrap")

_POST, _GET, _PUT, _DELETE = 2, 1, 3, 4
LINK_FORMAT = 40
RECEIVE_BUFFER = 4 << 20
"""Bytes of UDP receive buffer asked for (as the LwM2M server's)."""


def _uri(scheme: str, address: Address) -> str:
    host, port = address
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class BootstrapServer:
    """The embedded Bootstrap-Server. Create it with :meth:`start`."""

    def __init__(
        self,
        configs: BootstrapConfigs,
        *,
        clock: Clock,
        models: ModelRegistry,
        bus: EventBus,
        request_timeout: float | None,
        faults: BootstrapFaults | None,
    ) -> None:
        self.configs = configs
        self.clock = clock
        self.models = models
        self.request_timeout = request_timeout
        self.faults = faults if faults is not None else BootstrapFaults()
        self.counters: Counter[str] = Counter()
        """``requests``, ``accepted``, ``rejected``, ``finished``, ``failed``, ``steps.<op>``."""
        self.finished: dict[str, int] = {}
        """Endpoint -> how many bootstraps it finished (Finish answered 2.04)."""
        self._bus = bus
        self._endpoint: CoapEndpoint | None = None
        self._dual: DualTransport | None = None
        self._sessions: dict[str, asyncio.Task[bool]] = {}

    @classmethod
    async def start(
        cls,
        configs: BootstrapConfigs,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        dtls_port: int = 0,
        clock: Clock | None = None,
        models: ModelRegistry | None = None,
        bus: EventBus | None = None,
        request_timeout: float | None = None,
        params: TransmissionParameters | None = None,
        faults: BootstrapFaults | None = None,
        limits: EndpointLimits | None = None,
        receive_buffer: int | None = RECEIVE_BUFFER,
    ) -> BootstrapServer:
        """Bind the UDP socket (and, when a configuration has a bootstrap PSK, the DTLS one on
        ``dtls_port``). ``bus``: share another server's events (``Lwm2mServer``'s);
        ``limits`` / ``receive_buffer``: as :meth:`Lwm2mServer.start` (a storm of thousands
        of devices overflows the kernel's default UDP buffer)."""
        server = cls(
            configs,
            clock=clock if clock is not None else LoopClock(asyncio.get_running_loop()),
            models=models if models is not None else shipped_registry(),
            bus=bus if bus is not None else EventBus(),
            request_timeout=request_timeout,
            faults=faults,
        )
        options: dict[str, Any] = {
            "handler": server._handle,
            "clock": server.clock,
            "params": params if params is not None else TransmissionParameters(),
        }
        if limits is not None:
            options["limits"] = limits
        if configs.secure:
            server._endpoint, server._dual = await open_server_endpoint(
                host, port, dtls_port=dtls_port, lookup=configs.key_for, **options
            )
            if receive_buffer is not None:
                server._dual.set_receive_buffer(receive_buffer)
        else:
            server._endpoint = await CoapEndpoint.bind(
                host, port, receive_buffer=receive_buffer, **options
            )
        return server

    # -- lifecycle ----------------------------------------------------------------------

    def _coap(self) -> CoapEndpoint:
        if self._endpoint is None:
            raise FleetError("the bootstrap server is stopped")
        return self._endpoint

    @property
    def address(self) -> Address:
        return self._coap().address

    @property
    def uri(self) -> str:
        """``coap://host:port`` for devices' ``bootstrap`` setting."""
        return _uri("coap", self.address)

    @property
    def secure_uri(self) -> str | None:
        """``coaps://host:port`` of the DTLS socket (``None`` when no PSK is configured)."""
        return None if self._dual is None else _uri("coaps", self._dual.secure_address())

    @property
    def running(self) -> bool:
        return self._endpoint is not None and not self._endpoint.closed

    async def stop(self) -> None:
        """Stop the sessions and close the sockets (idempotent)."""
        tasks = list(self._sessions.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._sessions.clear()
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            endpoint.close()
        self._dual = None

    async def __aenter__(self) -> BootstrapServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        where = self.uri if self.running else "stopped"
        return f"<BootstrapServer {where} configs={len(self.configs)}>"

    # -- waiting ------------------------------------------------------------------------

    def expect_finish(self, endpoint: str | None = None) -> asyncio.Future[ServerEvent]:
        """A future of the next accepted Bootstrap-Finish (create it before the device starts)."""
        return self._bus.expect(
            EventKind.BOOTSTRAP_FINISH,
            endpoint=endpoint,
            predicate=lambda event: event.code == "2.04",
        )

    async def wait_for_sessions(self) -> None:
        """Wait until every running session ended."""
        while self._sessions:
            await asyncio.gather(*list(self._sessions.values()), return_exceptions=True)

    # -- Bootstrap-Request --------------------------------------------------------------

    def _handle(self, request: Any) -> Any:
        path = tuple(request.opt.uri_path)
        if path != ("bs",):
            raise NotFound(f"no resource /{'/'.join(path)} (a Bootstrap-Server serves /bs)")
        if int(request.code) != _POST:
            raise MethodNotAllowed("a Bootstrap-Request is a POST")
        return self._bootstrap_request(request)

    def _bootstrap_request(self, request: Any) -> Any:
        self.counters["requests"] += 1
        endpoint, pct = _query(list(request.opt.uri_query))
        address: Address = (request.remote[0], request.remote[1])
        delay = self.faults.slow(endpoint)
        try:
            config = self._authorize(endpoint, address)
        except (BadRequest, Unauthorized) as error:
            self.counters["rejected"] += 1
            code = "4.01" if isinstance(error, Unauthorized) else "4.00"
            self._event(EventKind.BOOTSTRAP_REQUEST, endpoint, code, "/bs", str(error))
            raise
        self.counters["accepted"] += 1
        self._event(
            EventKind.BOOTSTRAP_REQUEST,
            endpoint,
            "2.04",
            "/bs",
            "" if pct is None else f"pct={pct}",
        )
        self._begin(endpoint, address, config, delay)
        return Message(code=Code.CHANGED)

    def _authorize(self, endpoint: str, address: Address) -> BootstrapConfig:
        refused = self.faults.refusal(endpoint)
        if refused == "unauthorized":
            raise Unauthorized(f"{endpoint}: not authorized (injected)")
        config = None if refused == "no-config" else self.configs.for_endpoint(endpoint)
        if config is None:
            raise BadRequest(f"no bootstrap configuration for endpoint {endpoint}")
        if config.psk is not None:
            identity = self._dual.identity(address) if self._dual is not None else None
            if identity is None or config.psk.key_for(identity) is None:
                raise Unauthorized(
                    f"{endpoint}: the Bootstrap-Request must come over DTLS with an identity "
                    f"of {config.psk.identity}"
                )
            if config.psk.uses("endpoint") and not config.psk.uses("index"):
                wanted = config.bootstrap_credentials(endpoint)
                if wanted is not None and identity != wanted.identity:
                    raise Unauthorized(f"{endpoint}: PSK identity {identity!r} is another device's")
        return config

    def _begin(
        self, endpoint: str, address: Address, config: BootstrapConfig, delay: float
    ) -> None:
        old = self._sessions.pop(endpoint, None)
        if old is not None:
            old.cancel()
        task = asyncio.ensure_future(self._session(endpoint, address, config, delay))
        self._sessions[endpoint] = task

        def done(finished: asyncio.Task[bool]) -> None:
            if self._sessions.get(endpoint) is finished:
                del self._sessions[endpoint]
            if not finished.cancelled() and finished.exception() is not None:
                _log.error(
                    "bootstrap session of %s failed", endpoint, exc_info=finished.exception()
                )

        task.add_done_callback(done)

    async def bootstrap(self, endpoint: str, address: Address) -> bool:
        """Server-initiated bootstrap: run the steps toward ``address`` unasked.

        Answers whether Finish was accepted (2.04)."""
        config = self.configs.for_endpoint(endpoint)
        if config is None:
            raise BadRequest(f"no bootstrap configuration for endpoint {endpoint}")
        self._begin(endpoint, address, config, 0.0)
        return await asyncio.shield(self._sessions[endpoint])

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
        message = Message(code=_GET, uri_path=_segments(path), accept=LINK_FORMAT)
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_DISCOVER, path, message)

    async def read(
        self, endpoint: str, address: Address, path: str, accept: int | None = None
    ) -> tuple[str | None, bytes]:
        """Bootstrap-Read ``path`` (1.1: the Server or Access Control object)."""
        message = Message(code=_GET, uri_path=_segments(path))
        if accept is not None:
            message.opt.accept = accept
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_READ, path, message)

    async def delete(self, endpoint: str, address: Address, path: str) -> tuple[str | None, bytes]:
        """Bootstrap-Delete ``path`` (``/``, an object or an instance)."""
        message = Message(code=_DELETE, uri_path=_segments(path))
        return await self.request(endpoint, address, EventKind.BOOTSTRAP_DELETE, path, message)

    async def write(self, endpoint: str, address: Address, step: Step) -> tuple[str | None, bytes]:
        """Bootstrap-Write one step (its node encoded in its content format)."""
        message = self._write_message(step)
        return await self.request(
            endpoint, address, EventKind.BOOTSTRAP_WRITE, str(step.path), message
        )

    async def finish(self, endpoint: str, address: Address) -> tuple[str | None, bytes]:
        """Bootstrap-Finish (``POST /bs``)."""
        message = Message(code=_POST, uri_path=("bs",))
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
            message = Message(code=_GET, accept=LINK_FORMAT)
            response = await self._step(
                EventKind.BOOTSTRAP_DISCOVER, endpoint, address, "/", message
            )
            if response is None:
                return self._fail(endpoint)
            discovered = parse_discover(bytes(response.payload))
        for target in config.delete:
            message = Message(code=_DELETE, uri_path=_segments(str(target)))
            response = await self._step(
                EventKind.BOOTSTRAP_DELETE, endpoint, address, str(target), message
            )
            if response is None:
                return self._fail(endpoint)
        for index, step in enumerate(plan_writes(config, endpoint, discovered)):
            message = self._write_message(step)
            if self.faults.failing_write(endpoint, index):
                message = Message(code=_PUT, uri_path=message.opt.uri_path, payload=b"\xff\x00")
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
        message = Message(code=_POST, uri_path=("bs",))
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
        message = Message(code=_PUT, uri_path=tuple(str(i) for i in step.path), payload=payload)
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


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


def _query(query: list[str]) -> tuple[str, ContentFormat | int | None]:
    """``ep`` (required) and ``pct`` (optional) of a Bootstrap-Request; 4.00 otherwise."""
    endpoint: str | None = None
    pct: int | None = None
    for item in query:
        name, _, value = item.partition("=")
        if name == "ep":
            endpoint = value
        elif name == "pct":
            if not value.isdigit():
                raise BadRequest(f"pct={value!r} is not a content format number")
            pct = int(value)
        else:
            raise BadRequest(f"unknown Bootstrap-Request parameter {name!r}")
    if not endpoint:
        raise BadRequest("a Bootstrap-Request names its endpoint (ep=)")
    return endpoint, pct

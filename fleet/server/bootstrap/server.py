"""``BootstrapServer``: a real LwM2M Bootstrap-Server in process, for tests, demos and storms.

One :class:`~fleet.client.coap.CoapEndpoint` (plain UDP, plus a DTLS-PSK socket
when a configuration names a bootstrap PSK, :mod:`fleet.server.secure`) answers
Bootstrap-Requests (``POST /bs?ep=..[&pct=..]``, LwM2M 1.1 Core 6.1.3):

- no configuration for the endpoint: 4.00 Bad Request (as Leshan answers);
- the configuration has a bootstrap PSK and the request did not come over a
  DTLS session with that identity: 4.01 Unauthorized;
- otherwise 2.04 Changed, then a short task runs the session of
  :mod:`.session`: the steps of :mod:`.plan` in order (Discover, Delete,
  Write..., Finish), each reported as a :class:`~fleet.server.events.ServerEvent`
  (``bootstrap-discover``, ``bootstrap-delete``, ``bootstrap-write``,
  ``bootstrap-finish`` with the code the device answered). A step answered with
  an error or not at all ends the session (``detail`` says why); the device then
  retries on its own.

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

from fleet.client.bootstrap.configs import BootstrapConfig, BootstrapConfigs
from fleet.client.coap import Address, CoapEndpoint, EndpointLimits, TransmissionParameters
from fleet.client.coap.wire import Code, Message
from fleet.clock import Clock, LoopClock
from fleet.codec import ContentFormat
from fleet.errors import BadRequest, FleetError, MethodNotAllowed, NotFound, Unauthorized
from fleet.model import ModelRegistry
from fleet.model.shipped import shipped_registry
from fleet.server.bootstrap.faults import BootstrapFaults
from fleet.server.bootstrap.session import POST, BootstrapOperations
from fleet.server.events import EventBus, EventKind, ServerEvent
from fleet.server.secure import DualTransport, open_server_endpoint

_log = logging.getLogger("fleet.server.bootstrap")

RECEIVE_BUFFER = 4 << 20
"""Bytes of UDP receive buffer asked for (as the LwM2M server's)."""


def _uri(scheme: str, address: Address) -> str:
    host, port = address
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class BootstrapServer(BootstrapOperations):
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
        self.faults = (
            faults if faults is not None else BootstrapFaults(configs.faults, seed=configs.seed)
        )
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
        of devices overflows the kernel's default UDP buffer); ``faults``: instead of the
        configurations' own (``configs.faults`` with ``configs.seed``)."""
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
        if int(request.code) != POST:
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

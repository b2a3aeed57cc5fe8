"""``Lwm2mServer``: a real LwM2M server in process, for demos, tests and benchmarks.

One :class:`~fleet.client.coap.CoapEndpoint` (bound with limits sized for many devices) serves
every device: the Registration interface and Send come in (:mod:`.inbound`), device
management (:mod:`.management`) and observations (:mod:`.reporting`) go out. Everything that
happens is an event (:mod:`.events`). Typical use::

    async with await Lwm2mServer.start(read_on_register=("/3", "/6")) as server:
        ...  # point a device at server.uri
        await server.wait_for_registration("dev1", hooks=True)
        print(server.device("dev1").info.manufacturer)
        result = await server.write("dev1", "/3442/0/110", "Hello")
        assert result.ok
        async with server.events() as events:
            ...

With ``psk=lookup`` (``identity -> key``, e.g. from
:func:`fleet.client.credentials.key_lookup`) the server also accepts DTLS-PSK devices on
``dtls_port`` (:attr:`Lwm2mServer.secure_uri`, ``coaps://``): one endpoint over both
sockets (:mod:`.secure`), requests to a device go back over the session it opened.

Time (lifetimes, retransmissions, request timeouts) follows the ``clock`` given to
:meth:`Lwm2mServer.start`; with a :class:`~fleet.clock.ManualClock` a test moves it by hand.
Timeouts of the ``wait_for_*`` helpers are real seconds: they wait for network traffic.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from types import TracebackType
from typing import Any

from fleet.client.bootstrap.configs import ServerAccountSpec, single
from fleet.client.coap import Address, CoapEndpoint, EndpointLimits, TransmissionParameters
from fleet.client.coap.x509 import X509Credentials
from fleet.clock import Clock, LoopClock
from fleet.model import ModelRegistry
from fleet.model.shipped import shipped_registry
from fleet.server.bootstrap import BootstrapConfigs, BootstrapFaults, BootstrapServer
from fleet.server.directory import Directory, Registration
from fleet.server.errors import UnknownEndpoint
from fleet.server.events import (
    EventBus,
    EventKind,
    EventStream,
    Listener,
    Predicate,
    ServerCounters,
    ServerEvent,
)
from fleet.server.hooks import read_on_register as read_hook
from fleet.server.inbound import InboundMixin, OnRegister
from fleet.server.management import ManagementMixin
from fleet.server.records import DeviceRecord
from fleet.server.reporting import ReportingMixin
from fleet.server.requests import PathLike
from fleet.server.secure import DualTransport, KeyLookup, open_server_endpoint

SERVER_RECEIVE_BUFFER = 4 << 20
"""Bytes of UDP receive buffer the server asks for (see :meth:`Lwm2mServer.start`)."""

SERVER_LIMITS = EndpointLimits(
    dedup_max_entries=100_000,
    max_body_size=1 << 20,
    max_block1_transfers=256,
    max_held_responses=256,
    observation_queue=1,
)
"""CoAP limits for one endpoint talking to many devices. ``observation_queue=1``: the server
takes notifications through a callback and buffers them on its own handles."""


class Lwm2mServer(InboundMixin, ManagementMixin, ReportingMixin):
    """The embedded LwM2M server. Create it with :meth:`start`."""

    def __init__(
        self,
        *,
        clock: Clock,
        models: ModelRegistry,
        hooks: Iterable[OnRegister] = (),
        request_timeout: float | None = None,
        default_lifetime: int = 86400,
        observation_queue: int = 64,
        history: int = 1000,
        retired_records: int = 1000,
    ) -> None:
        self.clock = clock
        self.models = models
        self.request_timeout = request_timeout
        self.observation_queue = observation_queue
        self.directory = Directory(clock, default_lifetime=default_lifetime)
        self.counters = ServerCounters()
        self._endpoint = None
        self._dual: DualTransport | None = None
        self._bus = EventBus(history)
        self._records = {}
        self._observations = {}
        self._tasks = set()
        self._by_address = {}
        self._retired = OrderedDict()
        self.retired_records = retired_records
        self._hooks = list(hooks)
        self.directory.subscribe(self._on_directory)
        self.bootstrap: BootstrapServer | None = None
        """The Bootstrap-Server started with :meth:`start_bootstrap` (its events are this
        server's)."""

    @classmethod
    async def start(
        cls,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Clock | None = None,
        models: ModelRegistry | None = None,
        read_on_register: Iterable[PathLike] = (),
        on_register: Iterable[OnRegister] = (),
        request_timeout: float | None = None,
        default_lifetime: int = 86400,
        params: TransmissionParameters | None = None,
        limits: EndpointLimits = SERVER_LIMITS,
        observation_queue: int = 64,
        history: int = 1000,
        retired_records: int = 1000,
        psk: KeyLookup | None = None,
        dtls_port: int = 0,
        handshake_timeout: float | None = None,
        receive_buffer: int | None = SERVER_RECEIVE_BUFFER,
        certificate: X509Credentials | None = None,
    ) -> Lwm2mServer:
        """Bind the server's UDP socket (and with ``psk`` its DTLS one) and start answering.

        - ``clock``: drives lifetimes, retransmissions and request timeouts (default: the loop);
        - ``models``: object definitions to decode and encode with (default: the shipped
          objects); values of resources without one are named in ``Result.unmodelled`` and
          a Write to one goes as text/plain (:mod:`.unmodelled`);
        - ``read_on_register``: paths read after every Register (e.g. ``("/3", "/6")``: the
          device info), run before the ``on_register`` hooks;
        - ``request_timeout``: default bound of every request, in clock seconds (default:
          CoAP's retransmission limits, about 93 s);
        - ``params`` / ``limits``: the CoAP endpoint's transmission parameters and bounds;
        - ``observation_queue``: notifications each observation handle buffers;
        - ``history``: how many recent events :attr:`recent_events` keeps;
        - ``retired_records``: how many records of ended registrations :meth:`device` still
          answers for (older ones are released: memory follows the registrations);
        - ``psk``: ``lookup(identity) -> key | None``; given, the server accepts DTLS-PSK on
          ``dtls_port`` (0: a free port) of the same host, and ``handshake_timeout`` (real
          seconds, default 10) drops handshakes that do not finish;
        - ``certificate``: the server's certificate and key, and (its ``trust``) the CAs
          device certificates must verify to: the DTLS port then takes certificate devices
          over OpenSSL instead of PSK devices (not both: docs/dtls.md);
        - ``receive_buffer``: bytes of UDP receive buffer asked of the kernel (default 4 MiB:
          a burst of thousands of devices de-registering at once otherwise overflows the
          kernel's default ~208 KiB, and the dropped datagrams come back only after CoAP's
          2-3 s ACK timeout); ``None`` keeps the system default.

        Raises :class:`~fleet.client.coap.BindError`, or
        :class:`~fleet.client.coap.dtls.DtlsUnavailable` with ``psk`` but no DTLS package.
        """
        hooks: list[OnRegister] = []
        paths = tuple(read_on_register)
        if paths:
            hooks.append(read_hook(paths))
        hooks.extend(on_register)
        server = cls(
            clock=clock if clock is not None else LoopClock(asyncio.get_running_loop()),
            models=models if models is not None else shipped_registry(),
            hooks=hooks,
            request_timeout=request_timeout,
            default_lifetime=default_lifetime,
            observation_queue=observation_queue,
            history=history,
            retired_records=retired_records,
        )
        options: dict[str, Any] = {
            "handler": server._handle,
            "clock": server.clock,
            "params": params if params is not None else TransmissionParameters(),
            "limits": limits,
        }
        if psk is None and certificate is None:
            server._endpoint = await CoapEndpoint.bind(
                host, port, receive_buffer=receive_buffer, **options
            )
        else:
            if handshake_timeout is not None:
                options["handshake_timeout"] = handshake_timeout
            server._endpoint, server._dual = await open_server_endpoint(
                host, port, dtls_port=dtls_port, lookup=psk, certificate=certificate, **options
            )
            if receive_buffer is not None:
                server._dual.set_receive_buffer(receive_buffer)
        return server

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def address(self) -> Address:
        """``(host, port)`` the server listens on."""
        return self._coap().address

    @property
    def uri(self) -> str:
        """``coap://host:port`` for devices to register with."""
        host, port = self.address
        return f"coap://[{host}]:{port}" if ":" in host else f"coap://{host}:{port}"

    @property
    def secure_address(self) -> Address | None:
        """``(host, port)`` of the DTLS socket (``None`` without ``psk``)."""
        return None if self._dual is None else self._dual.secure_address()

    @property
    def secure_uri(self) -> str | None:
        """``coaps://host:port`` for DTLS-PSK devices (``None`` without ``psk``)."""
        address = self.secure_address
        if address is None:
            return None
        host, port = address
        return f"coaps://[{host}]:{port}" if ":" in host else f"coaps://{host}:{port}"

    def psk_identity(self, endpoint: str) -> bytes | None:
        """The PSK identity of the DTLS session the registered ``endpoint`` talks over
        (``None``: registered over plain UDP, or not registered)."""
        registration = self.directory.get(endpoint)
        if registration is None or self._dual is None:
            return None
        return self._dual.identity(registration.address)

    @property
    def running(self) -> bool:
        return self._endpoint is not None and not self._endpoint.closed

    async def start_bootstrap(
        self,
        configs: BootstrapConfigs | None = None,
        port: int = 0,
        *,
        host: str | None = None,
        dtls_port: int = 0,
        faults: BootstrapFaults | None = None,
    ) -> BootstrapServer:
        """Start a Bootstrap-Server beside this server (:attr:`bootstrap`), on ``port`` of the
        same host; its steps are this server's events. Without ``configs`` it writes this
        server's own account (NoSec, Short Server ID 1) for every endpoint."""
        if configs is None:
            configs = single([ServerAccountSpec(self.uri)])
        self.bootstrap = await BootstrapServer.start(
            configs,
            self.address[0] if host is None else host,
            port,
            dtls_port=dtls_port,
            clock=self.clock,
            models=self.models,
            bus=self._bus,
            request_timeout=self.request_timeout,
            faults=faults,
            limits=SERVER_LIMITS,
        )
        return self.bootstrap

    async def stop(self) -> None:
        """Stop answering, end observations and streams, close the socket (idempotent)."""
        if self.bootstrap is not None:
            await self.bootstrap.stop()
        endpoint, self._endpoint = self._endpoint, None
        for handle in self.observations():
            handle._end()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if endpoint is not None:
            endpoint.close()
        self._dual = None
        self.directory.clear()
        for record in self._records.values():
            record.registration = None  # records stay readable; nobody is registered now
        self._by_address.clear()
        self._bus.close()

    async def __aenter__(self) -> Lwm2mServer:
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
        return f"<Lwm2mServer {where} registered={len(self.directory)}>"

    def reset(self) -> None:
        """Forget every registration, record, observation, counter and past event (for tests).

        Nothing is sent; devices that still think they are registered get 4.04 on their next
        Update and register again. Listeners and open event streams stay.
        """
        for handle in self.observations():
            handle._end()
        for task in list(self._tasks):
            task.cancel()
        self.directory.clear()
        self._records.clear()
        self._retired.clear()
        self._by_address.clear()
        self._observations.clear()
        self.counters = ServerCounters()
        self._bus.clear()

    def add_on_register(self, hook: OnRegister) -> Callable[[], None]:
        """Run ``hook(server, registration)`` after every Register; returns a remover."""
        self._hooks.append(hook)

        def remove() -> None:
            if hook in self._hooks:
                self._hooks.remove(hook)

        return remove

    # -- registrations ------------------------------------------------------------------

    def registrations(self) -> list[Registration]:
        """Every current registration."""
        return list(self.directory)

    def registration(self, endpoint: str) -> Registration | None:
        return self.directory.get(endpoint)

    def device(self, endpoint: str) -> DeviceRecord | None:
        """What the server knows about an endpoint (also after it de-registered: the
        records of the last ``retired_records`` ended registrations are kept, older ones
        released)."""
        return self._records.get(endpoint)

    def devices(self) -> list[DeviceRecord]:
        return list(self._records.values())

    async def wait_for_registration(
        self, endpoint: str, timeout: float | None = 10.0, *, hooks: bool = False
    ) -> Registration:
        """The endpoint's registration, waiting for its Register if needed.

        ``hooks=True`` also waits for the on-register hooks (e.g. the device-info reads).
        ``timeout`` is in real seconds; ``TimeoutError`` when it runs out, saying which
        endpoint was awaited and which are registered.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        record = self._records.get(endpoint)
        if record is None or record.registration is None:
            future = self.expect(EventKind.REGISTRATION, endpoint=endpoint)
            try:
                await asyncio.wait_for(future, _left(deadline, loop))
            except TimeoutError:
                known = ", ".join(sorted(r.endpoint for r in self.registrations())[:5]) or "none"
                raise TimeoutError(
                    f"no Register from endpoint {endpoint!r} within {timeout:g} s "
                    f"(registered: {known})"
                ) from None
            finally:
                future.cancel()
            record = self._records[endpoint]
        registration = record.registration
        if registration is None:
            raise UnknownEndpoint(endpoint)
        if hooks and record.hooks_done is not None:
            await asyncio.wait_for(asyncio.shield(record.hooks_done), _left(deadline, loop))
        return registration

    # -- events -------------------------------------------------------------------------

    def events(
        self,
        kinds: Collection[EventKind] | EventKind | None = None,
        *,
        endpoint: str | None = None,
        maxsize: int = 10_000,
    ) -> EventStream:
        """An async iterator over the events from now on (see :class:`EventStream`)::

        async with server.events(EventKind.NOTIFICATION, endpoint="dev1") as stream:
            event = await stream.next(timeout=5)
        """
        return self._bus.stream(kinds, endpoint=endpoint, maxsize=maxsize)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` synchronously for every event; returns a remover."""
        return self._bus.listen(listener)

    def expect(
        self,
        kinds: Collection[EventKind] | EventKind | None = None,
        *,
        endpoint: str | None = None,
        predicate: Predicate | None = None,
    ) -> asyncio.Future[ServerEvent]:
        """A future of the next matching event; create it *before* causing the event."""
        return self._bus.expect(kinds, endpoint=endpoint, predicate=predicate)

    @property
    def recent_events(self) -> list[ServerEvent]:
        """The last events (up to ``history`` of them), oldest first."""
        return list(self._bus.history)

    def stats(self) -> dict[str, Any]:
        """Counters, registrations now and the CoAP endpoint's own counters."""
        flat: dict[str, Any] = dict(self.counters.snapshot())
        flat["registered"] = len(self.directory)
        flat["observations"] = len(self.observations())
        if self._endpoint is not None:
            flat["coap"] = self._endpoint.stats()
        if self._dual is not None:
            flat["dtls"] = self._dual.dtls_stats()
        return flat


def _left(deadline: float | None, loop: asyncio.AbstractEventLoop) -> float | None:
    return None if deadline is None else max(deadline - loop.time(), 0.0)

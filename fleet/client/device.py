"""One virtual LwM2M device: its object tree, one CoAP endpoint, and the drivers joining them.

A :class:`Device` is data plus one UDP socket. ``await device.start()`` binds
the socket and begins registering; ``await device.registered`` waits until
the server accepted it; ``await device.stop()`` de-registers and closes the
socket. While idle a device runs nothing: the next Update, retries,
notification deadlines and the end of a reboot are timers of its
:class:`~fleet.clock.Clock`, and only an exchange in flight has a short task.

What joins what:

- requests from the server go to :func:`fleet.client.site.serve` (synchronous);
- the registration is a :class:`~fleet.client.registrar.Registrar`;
- the tree's change listener feeds the observations and watches the Server
  object: a new lifetime (``/1/0/1``) or binding (``/1/0/7``) is sent in an
  Update, new default periods (``/1/0/2``, ``/1/0/3``) reach the observations;
- the tree's events: ``/1/0/8`` and created/deleted instances send an Update;
  ``/3/0/4`` Reboot answers the Execute, de-registers, stays away
  ``reboot_delay`` seconds (socket closed), then binds a new socket and
  registers again with the values kept; Object 5 Firmware Update events go to
  :attr:`Device.firmware` (:mod:`fleet.client.firmware`); ``/1/0/4`` Disable does the same for
  the Disable Timeout (``/1/0/5``); ``/3442/0/5`` sends the listed paths
  (:mod:`fleet.client.send`). Factory Reset is the tree's own business; what
  it changes reaches the server like any other change;
- absences (reboot, disable, silence, flap, lost DTLS session) are
  :mod:`fleet.client.away`; a socket or handshake that fails (at start, after
  a reboot or a flap) is a failed Register retried by the retry policy;
- queue mode (binding ``UQ``) is :mod:`fleet.client.queue`: the device
  sleeps ``awake_time`` after its last message and ignores the server until
  it wakes to send something;
- fault seams: :meth:`Device.add_interceptor` (requests from the server),
  :meth:`Device.add_uplink_interceptor` (the device's Register / Update /
  De-register, :mod:`fleet.client.uplink`), :meth:`Device.skew_clock`,
  :meth:`Device.lose_session`, :meth:`Device.flap`, :meth:`Device.silence`,
  :meth:`Device.reboot_soon`.

Typed :mod:`events <fleet.client.events>` go to listeners added with
:meth:`Device.add_listener`; none are built while nobody listens.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Iterable
from typing import Any

from fleet.client.addresses import ServerAddresses
from fleet.client.away import Away
from fleet.client.bootstrap import rules as bootstrap_rules
from fleet.client.bootstrap.driver import Bootstrapper
from fleet.client.bootstrap.factory import (
    forget_accounts,
    install_bootstrap_account,
    wants_bootstrap,
)
from fleet.client.bootstrap.fallback import falls_back
from fleet.client.bootstrap.site import serve_bootstrap
from fleet.client.clockskew import skew_current_time
from fleet.client.coap.dtls import DtlsEndpoint
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.params import TransmissionParameters
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig, DeviceProfile, profile_for
from fleet.client.events import Retransmitted, SendDone
from fleet.client.firmware.driver import FIRMWARE_EVENTS, FirmwareClient
from fleet.client.flag import Flag, shared_loop_clock
from fleet.client.observations import Observations
from fleet.client.per_server import PerServer
from fleet.client.queue import QueueMode
from fleet.client.registrar import Registrar
from fleet.client.registration import RegistrationState
from fleet.client.seams import DeviceSeams
from fleet.client.send import SendNotAllowed, send_values
from fleet.client.servers import ServerLinks
from fleet.client.site import intercept, serve
from fleet.client.transport import open_endpoint, warn_wildcard_bind
from fleet.client.uri import ServerUri
from fleet.clock import Clock
from fleet.codec.formats import ContentFormat
from fleet.device.events import (
    BootstrapRequested,
    DeviceEvent,
    DisableRequested,
    ObjectsChanged,
    RebootRequested,
    RegistrationUpdateRequested,
    SendRequested,
)
from fleet.device.firmware.connectivity import note_address
from fleet.device.randomness import Rng
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.observe import AttributeStore

_log = logging.getLogger("fleet.client.device")


class Device(DeviceSeams, PerServer):
    """A virtual LwM2M device (see the module docstring)."""

    __slots__ = (
        "__weakref__",
        "_attributes",
        "_away",
        "_bootstrap_at",
        "_endpoint",
        "_firmware",
        "_observations",
        "_rng",
        "_server",
        "_target",
        "_tasks",
        "_where",
        "bootstrap",
        "clock",
        "config",
        "links",
        "profile",
        "registered",
        "registrar",
        "tree",
    )

    def __init__(
        self,
        config: DeviceConfig,
        *,
        clock: Clock | None = None,
        rng: Rng | None = None,
        profile: DeviceProfile | None = None,
    ) -> None:
        """``profile`` defaults to the shared one of ``config``; ``clock`` to the running
        loop's; ``rng`` seeds value generators and the CoAP message ids and tokens."""
        super().__init__()
        self.config = config
        self.profile = profile if profile is not None else profile_for(config)
        self.clock: Clock = clock if clock is not None else shared_loop_clock()
        self._rng = rng
        self._server: Address | None = config.server_address
        self._where = ServerAddresses(config.resolved if self._server is not None else None)
        """Every address of the server and the one in use (:mod:`fleet.client.addresses`)."""
        self.tree = ObjectTree(
            self.profile.template,
            clock=self.clock,
            # without a stream of its own, one seeded by its name: its values (Object 4's
            # cell and signal...) are its own and the same run after run
            rng=rng if rng is not None else random.Random(config.endpoint),
            values=self.profile.initial_values(config),
        )
        if config.bootstrap is not None:
            install_bootstrap_account(self.tree, config)
        self.tree.add_change_listener(self._on_change)
        self.tree.add_event_listener(self._on_event)
        self.registrar = Registrar(self)
        self.links = ServerLinks(self, rng)
        """Registrations with the accounts after the first (:mod:`fleet.client.servers`)."""
        self.bootstrap = Bootstrapper(self) if config.bootstrap is not None else None
        """The bootstrap driver of a device with a Bootstrap-Server (``config.bootstrap``)."""
        self._target: bootstrap_rules.ServerAccount | None = None
        self._bootstrap_at: Address | None = None
        """The Bootstrap-Server's address as last looked up (its URI may be a name)."""
        self.registered = Flag()
        """Set while the device is registered: ``await device.registered``."""
        self._endpoint: CoapEndpoint | None = None
        self._observations: Observations | None = None
        self._attributes: AttributeStore | None = None
        self._away = Away(self)
        self._firmware: FirmwareClient | None = None
        self._tasks: set[asyncio.Future[Any]] | None = None

    def __repr__(self) -> str:
        return f"<Device {self.name} {self.state.value}>"

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def state(self) -> RegistrationState:
        return self.registrar.state

    @property
    def endpoint(self) -> CoapEndpoint | None:
        """The CoAP endpoint while the socket is open."""
        return self._endpoint

    @property
    def address(self) -> Address | None:
        """The local ``(host, port)`` while the socket is open."""
        return self._endpoint.address if self._endpoint is not None else None

    async def start(self) -> None:
        """Bind the socket and begin registering (``await device.registered`` to wait).

        A socket or DTLS handshake that fails is a failed Register
        (:class:`~fleet.client.events.RegistrationFailed`, ``reason`` the error), retried
        by the registration retry policy; it is never raised from here. Starting a
        device that is already started raises :class:`~fleet.errors.FleetError`.
        """
        if self._endpoint is not None or self.state is not RegistrationState.STOPPED:
            raise FleetError(f"{self.name}: already started")
        if self.bootstrap is not None:
            self.begin()
            return
        try:
            await self.connect()
        except (FleetError, OSError) as error:
            self.registrar.connect_failed("Register", error)
            return
        self.registrar.start()

    async def stop(self, *, deregister: bool = True) -> None:
        """De-register (unless told not to), drop observations and close the socket."""
        self._away.cancel()
        if self.bootstrap is not None:
            self.bootstrap.cancel()
        for task in list(self._tasks or ()):
            if task is not asyncio.current_task():
                task.cancel()
        await self.links.stop("stopped", deregister=deregister)
        if deregister:
            await self.registrar.deregister("stopped")
        else:
            self.registrar.cancel()
            self.registrar.location = None
            self.registration_changed(False)
        self.registrar.state = RegistrationState.STOPPED
        self.close_endpoint()

    async def connect(self) -> None:
        """Open the endpoint (and secure session) unless open; raises ``FleetError``/``OSError``.

        A server named by a DNS name is looked up again on every connect after the
        first (a reboot, a flap, a lost session): the address the shard resolved is
        used once (:class:`~fleet.client.uri.UnresolvedName` when the name is gone)."""
        if self._endpoint is not None:
            return
        server = await self._lookup()
        endpoint = await open_endpoint(
            self.config,
            server,
            account=self._target,
            handler=self._handle,
            clock=self.clock,
            rng=self._rng,
            on_cancel=self._on_cancel,
            emit=self.emit,
            on_lost=self._on_lost,
        )
        endpoint.on_retransmit = self._on_retransmit
        self._endpoint = endpoint
        note_address(self.tree, endpoint.address[0], server)
        self._listen_to(server)
        warn_wildcard_bind(self.config, server, endpoint.address)

    def _listen_to(self, server: Address) -> None:
        """Ignore datagrams from any address but the server's (unless ``any_source``); a
        device with a Bootstrap-Server hears it too (server-initiated bootstrap)."""
        if self._endpoint is not None and not self.config.any_source:
            peers = {server}
            account = bootstrap_rules.bootstrap_account(self.tree) if self.bootstrap else None
            known = self._bootstrap_address(account)
            if known is not None:
                peers.add(known)
            self._endpoint.peers = frozenset(peers)

    def _uri(self) -> ServerUri:
        """The URI of the server talked to: an account the Bootstrap-Server wrote (or its
        own), else the configured one."""
        return (
            self.config.uri
            if self._target is None
            else bootstrap_rules.judged_uri(self._target.uri)
        )

    async def _lookup(self) -> Address:
        """The server's numeric address for a new socket (see :meth:`connect`)."""
        self._server = await self._where.for_connect(self._uri(), self.config.resolver)
        if self._target is not None and self._target.bootstrap:
            self._bootstrap_at = self._server
        return self._server

    def _bootstrap_address(self, account: bootstrap_rules.ServerAccount | None) -> Address | None:
        """The Bootstrap-Server's numeric address: its literal, or what its name was looked
        up to when the device last connected to it (``None``: not known)."""
        if account is None:
            return None
        return account.address if account.address is not None else self._bootstrap_at

    def address_failed(self) -> Address | None:
        """The server did not answer at its current address (see
        :mod:`fleet.client.addresses`): move to its next address and return it (the socket
        is closed: the next connect opens one toward it), or ``None`` when every address
        was tried. A named server's socket is closed then too, so the retry looks the name
        up again; a literal keeps its socket."""
        following = self._where.advance()
        if following is not None or self._uri().literal is None:
            self.close_endpoint(notify=False)
        if following is not None:
            self._server = following
        return following

    @property
    def address_position(self) -> str:
        """Which of the server's addresses is in use: ``"address 2 of 2"``."""
        return self._where.position

    def fall_back(self) -> str | None:
        """The next LwM2M version after a 4.12 (see :meth:`DeviceConfig.falling_back`)."""
        config = self.config.falling_back()
        if config is None:
            return None
        self.config = config
        return config.lwm2m_version

    async def server_forgot(self) -> None:
        """An Update answered 4.04: a named server is looked up again (a new socket when
        its address family changed)."""
        uri = self._uri()
        if uri.literal is not None:
            return
        old = self._server
        self._server = await self._where.look_up(uri, self.config.resolver)
        if old is not None and (":" in old[0]) != (":" in self._server[0]):
            self.close_endpoint()
            self._where.keep()
        else:
            self._listen_to(self._server)

    # -- bootstrap (fleet.client.bootstrap) ---------------------------------------------

    def begin(self, *, rebooted: bool = False) -> None:
        """Register, or bootstrap first when a Bootstrap-Server is configured and no LwM2M
        Server account is usable (LwM2M 1.1 Core 6.1); after a reboot what the bootstrap
        wrote is kept, so the device registers with it."""
        if rebooted and self.bootstrap is not None and self.config.bootstrap_forget:
            forget_accounts(self.tree)
        if self.bootstrap is not None and wants_bootstrap(self.tree, self.config):
            self.registrar.state = RegistrationState.STOPPED
            self.bootstrap.start()
            return
        if self.bootstrap is not None:
            first, *others = bootstrap_rules.server_accounts(self.tree)[0]
            self._use(first)
            self.links.start(others)
        self.registrar.start()

    @property
    def account(self) -> bootstrap_rules.ServerAccount | None:
        """The account the device talks to now when it has a Bootstrap-Server (``None``:
        the configured ``server``)."""
        return self._target

    def _use(self, account: bootstrap_rules.ServerAccount) -> None:
        if self._target != account:
            self.close_endpoint()
            self._server = None
            self._where = ServerAddresses()
        self._target = account

    async def connect_to(self, account: bootstrap_rules.ServerAccount) -> None:
        """Open the endpoint toward ``account`` (the one open toward another is closed)."""
        self._use(account)
        await self.connect()

    def bootstrapped(self, account: bootstrap_rules.ServerAccount) -> None:
        """Bootstrap-Finish was accepted: leave the old registration, register at ``account``."""
        self.spawn(self._switch(account))

    async def _switch(self, account: bootstrap_rules.ServerAccount) -> None:
        await asyncio.sleep(0)  # the Finish's answer goes out over the old endpoint first
        if self.bootstrap is not None:
            self.bootstrap.report_done(account)
        await self.links.stop("bootstrapped")
        if self.registrar.location is not None:
            await self.registrar.deregister("bootstrapped")
        self.registrar.cancel()
        self._use(account)
        accounts = bootstrap_rules.server_accounts(self.tree)[0]
        self.links.start([a for a in accounts if a != account])  # each server written
        self.registrar.start()

    @property
    def _bootstrapping(self) -> bool:
        return self.bootstrap is not None and self.bootstrap.active

    async def _bootstrap_triggered(self) -> None:
        """/1/x/9 Bootstrap-Request Trigger: leave the server, bootstrap now."""
        await asyncio.sleep(0)  # the Execute's answer goes out first
        if self.bootstrap is None:  # pragma: no cover - only spawned with one
            return
        await self.links.stop("bootstrap requested")
        if self.registrar.location is not None:
            await self.registrar.deregister("bootstrap requested")
        self.registrar.cancel()
        self.registrar.state = RegistrationState.STOPPED
        self.bootstrap.start(hold_off=False)

    def bootstrap_finish(self) -> str | None:
        assert self.bootstrap is not None
        return self.bootstrap.finish()

    def bootstrap_touched(self) -> None:
        assert self.bootstrap is not None
        self.bootstrap.touched()

    def bootstrap_finish_ignored(self) -> None:
        assert self.bootstrap is not None
        self.bootstrap.finish_ignored()

    def registration_gave_up(self) -> None:
        """A server account (this one or a link's) gave up registering: with a
        Bootstrap-Server, bootstrap again once every account failed and one of them
        has /1/x/16 true (:func:`~fleet.client.bootstrap.fallback.falls_back`)."""
        if self.bootstrap is None or self.bootstrap.active:
            return
        accounts = [(self.server_instance, self.registrar.state is RegistrationState.FAILED)]
        accounts += self.links.failures()
        if falls_back(self.tree, accounts):
            self.registrar.state = RegistrationState.STOPPED
            self.bootstrap.fall_back()

    @property
    def server_instance(self) -> int | None:
        """The Server object instance of the account in use (``0`` without bootstrap)."""
        return 0 if self._target is None else self._target.server_instance

    def _from_bootstrap_server(self, remote: Any) -> bool:
        if self.bootstrap is None:
            return False
        account = bootstrap_rules.bootstrap_account(self.tree)
        if account is None:
            return False
        address = (remote[0], remote[1])
        if address != self._bootstrap_address(account):
            return False
        return self.bootstrap.active or address != self._server

    def close_endpoint(self, *, notify: bool = True) -> None:
        """Drop observations, stored notifications and the socket (no CoAP message sent).

        A DTLS session ends with close_notify, or with ``notify=False`` without a word (a
        flap or a lost session: the server keeps the stale session)."""
        if self._queue is not None:
            self._queue.reset()
        if self._observations is not None:
            self._observations.clear("closed")
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is None:
            return
        if not notify and isinstance(endpoint, DtlsEndpoint):
            endpoint.abort()
        else:
            endpoint.close()

    def request_update(self) -> None:
        """Send a registration Update now (or right after the exchange in flight)."""
        self.registrar.request_update()

    async def reboot(self, delay: float | None = None) -> None:
        """De-register, stay away ``delay`` seconds (default ``reboot_delay``), come back."""
        await self._away.go_away(self.config.reboot_delay if delay is None else delay, "reboot")

    async def go_away(self, seconds: float | None, reason: str, *, deregister: bool = True) -> None:
        """Away for ``seconds`` (``None``: for good) with or without a De-register first."""
        await self._away.go_away(seconds, reason, deregister=deregister)

    @property
    def firmware(self) -> FirmwareClient:
        """Object 5 downloads and updates (:mod:`fleet.client.firmware`; created on first use)."""
        if self._firmware is None:
            self._firmware = FirmwareClient(self, self.config.firmware)
        return self._firmware

    def reboot_soon(self, delay: float | None = None) -> None:
        """:meth:`reboot` as a background step (from a timer callback, e.g. a fault)."""
        self.spawn(self.reboot(delay))

    def silence(self, duration: float | None = None) -> None:
        """Stop sending Updates (the server lets the registration expire); the socket stays.

        After ``duration`` seconds (``None``: never) the device registers afresh.
        """
        self._away.silence(duration)

    def flap(self, away: float) -> None:
        """Network flap / NAT rebinding: unreachable ``away`` seconds (socket closed), then
        back from a new UDP source port with an Update (a Register if the server forgot it)."""
        self._away.flap(away)

    def lose_session(self) -> None:
        """Drop the (DTLS) session: a new socket and handshake at once, then an Update.

        On plain UDP this is a flap with no away time (a new source port).
        """
        self._away.lose_session("dropped on purpose")

    def skew_clock(self, seconds: float) -> None:
        """Move the device's clock (``/3/0/13`` Current Time) by ``seconds`` (whole seconds;
        negative: behind); observers of ``/3/0/13`` are notified as for any change."""
        skew_current_time(self.tree, seconds)

    @property
    def queue(self) -> QueueMode | None:
        """The queue-mode state while the device is registered with binding ``UQ``."""
        return self._queue

    @property
    def asleep(self) -> bool:
        """Whether the device sleeps (queue mode): requests from the server are ignored."""
        return self._queue is not None and self._queue.asleep

    async def send(
        self,
        paths: Iterable[Path | str],
        *,
        content_format: ContentFormat | int = ContentFormat.SENML_CBOR,
        timeout: float | None = None,
        timestamp: bool = False,
    ) -> SendDone:
        """Send the current values at ``paths`` (LwM2M 1.1 Send, POST /dp); wakes a sleeping
        queue-mode device."""
        if self._queue is not None:
            self._queue.wake("send")
        try:
            return await send_values(
                self, paths, content_format=content_format, timeout=timeout, timestamp=timestamp
            )
        finally:
            if self._queue is not None:
                self._queue.activity()

    # -- what the site, observations, registrar and Send read ---------------------------

    @property
    def models(self) -> ModelRegistry:
        return self.profile.models

    @property
    def preferred_format(self) -> ContentFormat | None:
        return self.config.content_format

    @property
    def confirmable_notifications(self) -> bool:
        return self.config.confirmable_notifications

    @property
    def server_address(self) -> Address:
        """The server's numeric address (known once the device connected)."""
        if self._server is None:
            raise FleetError(f"{self.name}: the server name {self.config.uri.host} is not resolved")
        return self._server

    @property
    def exchange_timeout(self) -> float | None:
        return self.config.exchange_timeout

    @property
    def transmission(self) -> TransmissionParameters:
        return self.config.params

    @property
    def busy(self) -> bool:
        """Whether a registration exchange is in flight."""
        return self.registrar.busy

    @property
    def send_enabled(self) -> bool:
        return self.config.send_enabled

    @property
    def is_registered(self) -> bool:
        return self.registered.is_set()

    def registration_changed(self, registered: bool) -> None:
        if registered:
            self.registered.set()
            if self.bootstrap is not None:
                self.bootstrap.registered()
            return
        self.registered.clear()
        if self._queue is not None:
            self._queue.reset()
            self._queue = None
        if self._observations is not None:
            self._observations.clear("registration ended")

    # -- wiring -------------------------------------------------------------------------

    def _handle(self, request: Any) -> Any:
        if self.bootstrap is not None and self._from_bootstrap_server(request.remote):
            return serve_bootstrap(self, request, self._interceptors)
        if self._interceptors:
            response = intercept(self, request, self._interceptors)
        else:
            response = serve(self, request)
        if self._queue is not None:
            self._queue.activity()
        return response

    def _on_lost(self, reason: str) -> None:
        if self._endpoint is not None:
            self._away.lose_session(reason)

    def _on_retransmit(self, remote: Address) -> None:
        if self._listeners:
            self.emit(Retransmitted(self.name, self.clock.now(), remote))

    def _on_change(self, paths: tuple[Path, ...]) -> None:
        if self._observations is not None and len(self._observations):
            self._observations.on_change(paths)
        if self._bootstrapping:
            return
        if self.links:
            self.links.on_change(paths)
        self._settings_touched(paths)

    def _on_event(self, event: DeviceEvent) -> None:
        # Runs inside the operation (e.g. the Execute): act after its answer is sent.
        if isinstance(event, RegistrationUpdateRequested | ObjectsChanged):
            if not self._bootstrapping:
                self.registrar.request_update()
                if self.links:
                    server = isinstance(event, RegistrationUpdateRequested) and len(event.path) > 1
                    self.links.request_update(event.path[1] if server else None)
        elif isinstance(event, BootstrapRequested):
            if self.bootstrap is not None:
                self.spawn(self._bootstrap_triggered())
        elif isinstance(event, RebootRequested):
            self.reboot_soon()
        elif isinstance(event, DisableRequested):
            self.spawn(self._away.go_away(float(event.timeout), "disable"))
        elif isinstance(event, SendRequested):
            self.spawn(self._send_requested(event))
        elif isinstance(event, FIRMWARE_EVENTS):
            self.firmware.on_event(event)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as a background step of this device (cancelled by :meth:`stop`)."""
        task = asyncio.ensure_future(work)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        if self._tasks is not None:
            self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("%s: background step failed", self.name, exc_info=task.exception())

    async def _send_requested(self, event: SendRequested) -> None:
        fmt = event.content_format if event.content_format is not None else ContentFormat.SENML_CBOR
        try:
            await self.send(event.paths, content_format=fmt, timeout=event.timeout)
        except (SendNotAllowed, FleetError) as error:
            _log.info("%s: Send asked by %s not done: %s", self.name, event.path, error)
            if self.listening:
                self.emit(
                    SendDone(self.name, self.clock.now(), event.paths, int(fmt), None, str(error))
                )

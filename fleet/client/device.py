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
  registers again with the values kept; ``/1/0/4`` Disable does the same for
  the Disable Timeout (``/1/0/5``); ``/3442/0/5`` sends the listed paths
  (:mod:`fleet.client.send`). Factory Reset is the tree's own business; what
  it changes reaches the server like any other change.

Typed :mod:`events <fleet.client.events>` go to listeners added with
:meth:`Device.add_listener`; none are built while nobody listens.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Iterable
from typing import Any

from fleet.client import settings
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig, DeviceProfile, device_overrides, profile_for
from fleet.client.events import ClientEvent, ClientListener, SendDone
from fleet.client.flag import Flag, shared_loop_clock
from fleet.client.observations import Observations
from fleet.client.registrar import Registrar
from fleet.client.registration import RegistrationParams, RegistrationState, RetryPolicy
from fleet.client.send import SendNotAllowed, send_values
from fleet.client.site import Interceptor, intercept, serve
from fleet.client.transport import open_endpoint
from fleet.clock import Clock, TimerHandle
from fleet.codec.formats import ContentFormat
from fleet.device.events import (
    DeviceEvent,
    DisableRequested,
    ObjectsChanged,
    RebootRequested,
    RegistrationUpdateRequested,
    SendRequested,
)
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.observe import AttributeStore

_log = logging.getLogger("fleet.client.device")

_REGISTRATION_SETTINGS = (settings.LIFETIME, settings.BINDING)
_DEFAULT_PERIODS = (settings.DEFAULT_PMIN, settings.DEFAULT_PMAX)


class Device:
    """A virtual LwM2M device (see the module docstring)."""

    __slots__ = (
        "__weakref__",
        "_attributes",
        "_away",
        "_endpoint",
        "_interceptors",
        "_leaving",
        "_listeners",
        "_observations",
        "_rng",
        "_server",
        "_tasks",
        "clock",
        "config",
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
        rng: random.Random | None = None,
        profile: DeviceProfile | None = None,
    ) -> None:
        """``profile`` defaults to the shared one of ``config``; ``clock`` to the running
        loop's; ``rng`` seeds value generators and the CoAP message ids and tokens."""
        self.config = config
        self.profile = profile if profile is not None else profile_for(config)
        self.clock: Clock = clock if clock is not None else shared_loop_clock()
        self._rng = rng
        self._server: Address = config.server_address
        overrides = device_overrides(config, self.profile)
        self.tree = ObjectTree(
            self.profile.template, clock=self.clock, rng=rng, values=overrides or None
        )
        self.tree.add_change_listener(self._on_change)
        self.tree.add_event_listener(self._on_event)
        self.registrar = Registrar(self)
        self.registered = Flag()
        """Set while the device is registered: ``await device.registered``."""
        self._endpoint: CoapEndpoint | None = None
        self._listeners: tuple[ClientListener, ...] = ()
        self._interceptors: tuple[Interceptor, ...] = ()
        self._observations: Observations | None = None
        self._attributes: AttributeStore | None = None
        self._away: TimerHandle | None = None
        self._leaving = False
        self._tasks: set[asyncio.Future[Any]] | None = None

    def __repr__(self) -> str:
        return f"<Device {self.name} {self.state.value}>"

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The endpoint name."""
        return self.config.endpoint

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
        """Bind the socket and begin registering (``await device.registered`` to wait)."""
        if self._endpoint is not None:
            raise FleetError(f"{self.name}: already started")
        await self._bind()
        self.registrar.start()

    async def stop(self, *, deregister: bool = True) -> None:
        """De-register (unless told not to), drop observations and close the socket."""
        if self._away is not None:
            self._away.cancel()
            self._away = None
        for task in list(self._tasks or ()):
            if task is not asyncio.current_task():
                task.cancel()
        if deregister:
            await self.registrar.deregister("stopped")
        else:
            self.registrar.cancel()
            self.registrar.location = None
            self.registration_changed(False)
        self.registrar.state = RegistrationState.STOPPED
        self._close()

    async def _bind(self) -> None:
        self._endpoint = await open_endpoint(
            self.config,
            handler=self._handle,
            clock=self.clock,
            rng=self._rng,
            on_cancel=self._on_cancel,
            emit=self.emit,
        )

    def _close(self) -> None:
        if self._observations is not None:
            self._observations.clear("closed")
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None

    def request_update(self) -> None:
        """Send a registration Update now (or right after the exchange in flight)."""
        self.registrar.request_update()

    async def reboot(self, delay: float | None = None) -> None:
        """De-register, stay away ``delay`` seconds (default ``reboot_delay``), come back."""
        await self._go_away(self.config.reboot_delay if delay is None else delay, "reboot")

    def reboot_soon(self, delay: float | None = None) -> None:
        """:meth:`reboot` as a background step (from a timer callback, e.g. a fault)."""
        self._spawn(self.reboot(delay))

    def silence(self, duration: float | None = None) -> None:
        """Stop sending Updates (the server lets the registration expire); the socket stays.

        After ``duration`` seconds (``None``: never) the device registers afresh.
        """
        if self._endpoint is None or self._away is not None:
            return
        self.registrar.cancel()
        self.registrar.location = None
        self.registration_changed(False)
        self.registrar.state = RegistrationState.STOPPED
        if duration is not None:
            self._away = self.clock.call_at(self.clock.now() + duration, self._resume)

    def flap(self, away: float) -> None:
        """Network flap / NAT rebinding: unreachable ``away`` seconds (socket closed), then
        back from a new UDP source port with an Update (a Register if the server forgot it)."""
        if self._endpoint is None or self._away is not None:
            return
        self.registrar.cancel()
        self._close()
        self._away = self.clock.call_at(self.clock.now() + away, self._rebound)

    def _resume(self) -> None:
        self._away = None
        if self._endpoint is not None:
            self.registrar.start()

    def _rebound(self) -> None:
        self._away = None
        self._spawn(self._rebind())

    async def _rebind(self) -> None:
        await self._bind()
        registrar = self.registrar
        if registrar.location is None:
            registrar.start()
            return
        registrar.state = RegistrationState.REGISTERED
        registrar.request_update()

    async def send(
        self,
        paths: Iterable[Path | str],
        *,
        content_format: ContentFormat | int = ContentFormat.SENML_CBOR,
        timeout: float | None = None,
        timestamp: bool = False,
    ) -> SendDone:
        """Send the current values at ``paths`` (LwM2M 1.1 Send, POST /dp)."""
        return await send_values(
            self, paths, content_format=content_format, timeout=timeout, timestamp=timestamp
        )

    # -- listeners ----------------------------------------------------------------------

    def add_listener(self, listener: ClientListener) -> None:
        """Call ``listener(event)`` for every :class:`~fleet.client.events.ClientEvent`."""
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: ClientListener) -> None:
        self._listeners = tuple(x for x in self._listeners if x != listener)

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Ask ``interceptor(request, operation, path)`` about every request from the server.

        It returns ``None`` (serve as usual) or a :class:`~fleet.client.site.Verdict`
        (answer a code, drop, delay, corrupt): the seam faults plug into. Interceptors
        are asked in the order added; a device without any pays nothing.
        """
        self._interceptors = (*self._interceptors, interceptor)

    def remove_interceptor(self, interceptor: Interceptor) -> None:
        self._interceptors = tuple(x for x in self._interceptors if x != interceptor)

    @property
    def listening(self) -> bool:
        return bool(self._listeners)

    def emit(self, event: ClientEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                _log.exception("%s: event listener failed on %r", self.name, event)

    # -- what the site, observations, registrar and Send read ---------------------------

    @property
    def models(self) -> ModelRegistry:
        return self.profile.models

    @property
    def lwm2m_version(self) -> str:
        return self.config.lwm2m_version

    @property
    def preferred_format(self) -> ContentFormat | None:
        return self.config.content_format

    @property
    def confirmable_notifications(self) -> bool:
        return self.config.confirmable_notifications

    @property
    def server_address(self) -> Address:
        return self._server

    @property
    def exchange_timeout(self) -> float | None:
        return self.config.exchange_timeout

    @property
    def send_enabled(self) -> bool:
        return self.config.send_enabled

    @property
    def is_registered(self) -> bool:
        return self.registered.is_set()

    @property
    def attributes(self) -> AttributeStore:
        """The server's Write-Attributes (created on first use)."""
        if self._attributes is None:
            pmin, pmax = settings.default_periods(self.tree, self.config)
            self._attributes = AttributeStore(default_pmin=pmin, default_pmax=pmax)
        return self._attributes

    def has_attributes(self) -> bool:
        return self._attributes is not None

    @property
    def observations(self) -> Observations:
        """The observations served (created on first use)."""
        if self._observations is None:
            self._observations = Observations(self)
        return self._observations

    def has_observations(self) -> bool:
        return self._observations is not None and len(self._observations) > 0

    def registration_params(self) -> RegistrationParams:
        return settings.registration_params(self.tree, self.config)

    def register_payload(self) -> bytes:
        return settings.register_links(self.tree, self.config)

    def retry_policy(self) -> RetryPolicy:
        return settings.retry_policy(self.tree, self.config)

    def registration_changed(self, registered: bool) -> None:
        if registered:
            self.registered.set()
            return
        self.registered.clear()
        if self._observations is not None:
            self._observations.clear("registration ended")

    # -- wiring -------------------------------------------------------------------------

    def _handle(self, request: Any) -> Any:
        if self._interceptors:
            return intercept(self, request, self._interceptors)
        return serve(self, request)

    def _on_cancel(self, remote: Address, token: bytes) -> None:
        if self._observations is not None:
            self._observations.cancel(remote, token, "reset by the server")

    def _on_change(self, paths: tuple[Path, ...]) -> None:
        if self._observations is not None and len(self._observations):
            self._observations.on_change(paths)
        for path in paths:
            if settings.touches_server_resource(path, _REGISTRATION_SETTINGS):
                self.registrar.settings_changed()
            if self._attributes is not None and settings.touches_server_resource(
                path, _DEFAULT_PERIODS
            ):
                self._attributes.set_defaults(*settings.default_periods(self.tree, self.config))
                if self._observations is not None:
                    self._observations.attributes_changed(None)

    def _on_event(self, event: DeviceEvent) -> None:
        # Runs inside the operation (e.g. the Execute): act after its answer is sent.
        if isinstance(event, RegistrationUpdateRequested | ObjectsChanged):
            self.registrar.request_update()
        elif isinstance(event, RebootRequested):
            self._spawn(self._go_away(self.config.reboot_delay, "reboot"))
        elif isinstance(event, DisableRequested):
            self._spawn(self._go_away(float(event.timeout), "disable"))
        elif isinstance(event, SendRequested):
            self._spawn(self._send_requested(event))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
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

    async def _go_away(self, seconds: float, reason: str) -> None:
        """De-register, close the socket, come back after ``seconds`` (reboot, disable)."""
        if self._endpoint is None or self._leaving or self._away is not None:
            return  # stopped, or already going away
        self._leaving = True
        try:
            await self.registrar.deregister(reason)
            self._close()
            self.registrar.state = RegistrationState.REBOOTING
            self._away = self.clock.call_at(self.clock.now() + seconds, self._come_back)
        finally:
            self._leaving = False

    def _come_back(self) -> None:
        self._away = None
        self._spawn(self._restart())

    async def _restart(self) -> None:
        await self._bind()
        self.registrar.start()

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

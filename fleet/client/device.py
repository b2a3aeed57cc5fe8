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

The class is built in layers, each its own module: :mod:`fleet.client.seams` (listeners,
interceptors, the absences on demand), :mod:`fleet.client.connection` (account, server
addresses, endpoint), :mod:`fleet.client.bootstrapping` (when to bootstrap, whom to
register with after) and :mod:`fleet.client.per_server` (attributes, observations and
registration settings of the server account); this module joins them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Iterable
from typing import Any

from fleet.client.away import Away
from fleet.client.bootstrap.driver import Bootstrapper
from fleet.client.bootstrap.factory import (
    install_bootstrap_account,
)
from fleet.client.bootstrap.site import serve_bootstrap
from fleet.client.bootstrapping import DeviceBootstrap
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig, DeviceProfile, profile_for
from fleet.client.events import Retransmitted, SendDone
from fleet.client.firmware.driver import FIRMWARE_EVENTS, FirmwareClient
from fleet.client.flag import Flag, shared_loop_clock
from fleet.client.observations import Observations
from fleet.client.per_server import PerServer
from fleet.client.registrar import Registrar
from fleet.client.registration import RegistrationState
from fleet.client.send import SendNotAllowed, send_values
from fleet.client.servers import ServerLinks
from fleet.client.site import intercept, serve
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
from fleet.device.randomness import Rng
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.observe import AttributeStore

_log = logging.getLogger("fleet.client.device")


class Device(DeviceBootstrap, PerServer):
    """A virtual LwM2M device (see the module docstring)."""

    __slots__ = (
        "__weakref__",
        "_attributes",
        "_away",
        "_firmware",
        "_observations",
        "_rng",
        "_tasks",
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
        super().__init__(config)
        self.config = config
        self.profile = profile if profile is not None else profile_for(config)
        self.clock: Clock = clock if clock is not None else shared_loop_clock()
        self._rng = rng
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
        self.registered = Flag()
        """Set while the device is registered: ``await device.registered``."""
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

    def fall_back(self) -> str | None:
        """The next LwM2M version after a 4.12 (see :meth:`DeviceConfig.falling_back`)."""
        config = self.config.falling_back()
        if config is None:
            return None
        self.config = config
        return config.lwm2m_version

    def request_update(self) -> None:
        """Send a registration Update now (or right after the exchange in flight)."""
        self.registrar.request_update()

    # -- firmware and Send ----------------------------------------------------------------

    @property
    def firmware(self) -> FirmwareClient:
        """Object 5 downloads and updates (:mod:`fleet.client.firmware`; created on first use)."""
        if self._firmware is None:
            self._firmware = FirmwareClient(self, self.config.firmware)
        return self._firmware

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

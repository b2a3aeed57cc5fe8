"""A device registered with several LwM2M servers: one :class:`ServerLink` per extra account.

LwM2M 1.1 Core 6.2: a client registers with *each* LwM2M Server it has an
account for (a Security instance joined to a Server instance by Short Server
ID). The :class:`~fleet.client.device.Device` talks to its first account
(the lowest Server instance) itself, as it always did; every further account a
Bootstrap-Server wrote gets a :class:`ServerLink`:

- its own UDP socket toward that server, plain or DTLS-PSK as the account's
  Security Mode says (:func:`~fleet.client.transport.open_endpoint` with the
  account), so the server sees the device from its own source port;
- its own :class:`~fleet.client.registrar.Registrar`: Register with the
  lifetime and binding of *its* Server instance (``/1/y/1``, ``/1/y/7``), Update
  before its lifetime runs out, De-register, retries by its own ``/1/y/17..20``;
- its own Write-Attributes and observations (attributes are per server), and
  the device's site for that server's requests (Read, Write, Execute,
  Observe...), through the device's interceptors (request faults hit every
  server's requests alike); the device's uplink faults hit its Register /
  Update / De-register too.

Each link reports through the device's listeners: a ``Registered``,
``Updated`` or ``Deregistered`` per server, so the summary's ``register`` row
counts one Register per server account (a device at two servers: two), while
the devices-by-state counts follow the device's first account. What the first
account alone does: queue mode (binding ``UQ``: the other servers find the
device awake), Send (``/dp``), the bootstrap fall-back (decided by the device
once every account gave up: :mod:`fleet.client.bootstrap.fallback`), and the
absences of :mod:`fleet.client.away` other than reboot and disable (a silence or
flap leaves the other servers' registrations as they are). :class:`ServerLinks`
holds a device's links: started after a bootstrap (or at power-on with the
accounts kept), stopped (De-register) on stop, reboot, disable and a new
bootstrap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any, Protocol

from fleet.client.addresses import ServerAddresses
from fleet.client.bootstrap.rules import ServerAccount, judged_uri
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig
from fleet.client.events import ClientEvent
from fleet.client.observations import Observations
from fleet.client.operations import OperationHost
from fleet.client.per_server import PerServer
from fleet.client.queue import QueueMode
from fleet.client.registrar import Registrar
from fleet.client.registration import RegistrationState
from fleet.client.site import Interceptor, Verdict, intercept, serve
from fleet.client.transport import open_endpoint
from fleet.clock import Clock
from fleet.codec.formats import ContentFormat
from fleet.device.randomness import Rng
from fleet.device.tree import ObjectTree
from fleet.errors import FleetError
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.observe import AttributeStore

_log = logging.getLogger("fleet.client.servers")


class LinkDevice(OperationHost, Protocol):
    """What a server link needs from its device: what the operations need (its tree,
    models, version and preferred format), and more."""

    @property
    def name(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def config(self) -> DeviceConfig: ...

    @property
    def confirmable_notifications(self) -> bool: ...

    @property
    def interceptors(self) -> tuple[Interceptor, ...]: ...

    @property
    def listening(self) -> bool: ...

    def emit(self, event: ClientEvent) -> None: ...

    def registration_gave_up(self) -> None: ...

    def before_uplink(self, operation: str) -> Verdict | None: ...


class ServerLink(PerServer):
    """The registration with one further LwM2M server (see the module docstring)."""

    __slots__ = (
        "_attributes",
        "_device",
        "_endpoint",
        "_observations",
        "_rng",
        "_server",
        "_where",
        "account",
        "registrar",
    )

    def __init__(self, device: LinkDevice, account: ServerAccount, rng: Rng | None = None) -> None:
        self._device = device
        self.account = account
        self._rng = rng
        self._server: Address | None = None
        self._where = ServerAddresses()
        self._endpoint: CoapEndpoint | None = None
        self._attributes: AttributeStore | None = None
        self._observations: Observations | None = None
        self.registrar = Registrar(self)

    def __repr__(self) -> str:
        return f"<ServerLink {self.name} -> {self.account.uri} {self.registrar.state.value}>"

    @property
    def server_instance(self) -> int | None:
        """The Server object instance (``/1/y``) of this account, as the account names it."""
        return self.account.server_instance

    @property
    def registered(self) -> bool:
        return self.registrar.location is not None

    def start(self) -> None:
        """Register (the socket is opened by the first attempt)."""
        self.registrar.start()

    async def stop(self, reason: str, *, deregister: bool = True) -> None:
        """De-register (unless told not to), drop observations, close the socket."""
        if deregister:
            await self.registrar.deregister(reason)
        else:
            self.registrar.cancel()
            self.registrar.location = None
            self.registration_changed(False)
        self.registrar.state = RegistrationState.STOPPED
        self.close()

    def close(self) -> None:
        if self._observations is not None:
            self._observations.clear("closed")
        endpoint, self._endpoint = self._endpoint, None
        if endpoint is not None:
            endpoint.close()

    # -- what the device forwards -------------------------------------------------------

    def on_change(self, paths: tuple[Path, ...]) -> None:
        """Values changed: notify this server's observers; its own lifetime, binding or
        default periods changed: Update, or new defaults for its observations."""
        if self._observations is not None and len(self._observations):
            self._observations.on_change(paths)
        self._settings_touched(paths)

    # -- what the registrar needs (RegistrationHost) ------------------------------------

    @property
    def name(self) -> str:
        return self._device.name

    @property
    def clock(self) -> Clock:
        return self._device.clock

    @property
    def config(self) -> DeviceConfig:
        return self._device.config

    @property
    def endpoint(self) -> CoapEndpoint | None:
        return self._endpoint

    @property
    def server_address(self) -> Address:
        if self._server is None:
            raise FleetError(f"{self.name}: the server {self.account.uri} is not resolved")
        return self._server

    @property
    def listening(self) -> bool:
        return self._device.listening

    def emit(self, event: ClientEvent) -> None:
        self._device.emit(event)

    async def connect(self) -> None:
        """Open the socket toward the account's server (DTLS-PSK when it says so)."""
        if self._endpoint is not None:
            return
        server = await self._where.for_connect(judged_uri(self.account.uri), self.config.resolver)
        self._server = server
        endpoint = await open_endpoint(
            self.config,
            server,
            account=self.account,
            handler=self._handle,
            clock=self.clock,
            rng=self._rng,
            on_cancel=self._on_cancel,
            emit=self.emit,
            on_lost=self._on_lost,
        )
        if not self.config.any_source:
            endpoint.peers = frozenset({server})
        self._endpoint = endpoint

    async def server_forgot(self) -> None:
        uri = judged_uri(self.account.uri)
        if uri.literal is None:
            self._server = await self._where.look_up(uri, self.config.resolver)
            self.close()  # a new socket toward it (its family may differ)
            self._where.keep()

    def address_failed(self) -> Address | None:
        following = self._where.advance()
        if following is not None or judged_uri(self.account.uri).literal is None:
            self.close()
        if following is not None:
            self._server = following
        return following

    @property
    def address_position(self) -> str:
        return self._where.position

    def fall_back(self) -> str | None:
        return None  # the device's LwM2M version is chosen by its first server

    def before_uplink(self, operation: str) -> Verdict | None:
        return self._device.before_uplink(operation)

    def after_uplink(self, operation: str, ok: bool) -> None:
        return None  # queue mode is the first server's (see the module docstring)

    def registration_gave_up(self) -> None:
        _log.info("%s: gave up registering with %s", self.name, self.account.uri)
        self._device.registration_gave_up()  # every account failed? (bootstrap fall-back)

    def registration_changed(self, registered: bool) -> None:
        if not registered and self._observations is not None:
            self._observations.clear("registration ended")

    # -- what the site and the observations need ----------------------------------------

    @property
    def tree(self) -> ObjectTree:
        return self._device.tree

    @property
    def models(self) -> ModelRegistry:
        return self._device.models

    @property
    def lwm2m_version(self) -> str:
        return self._device.lwm2m_version

    @property
    def preferred_format(self) -> ContentFormat | None:
        return self._device.preferred_format

    @property
    def confirmable_notifications(self) -> bool:
        return self._device.confirmable_notifications

    @property
    def queue(self) -> QueueMode | None:
        return None

    # -- wiring -------------------------------------------------------------------------

    def _handle(self, request: Any) -> Any:
        interceptors = self._device.interceptors
        return intercept(self, request, interceptors) if interceptors else serve(self, request)

    def _on_lost(self, reason: str) -> None:
        """The DTLS session ended under the link: a new socket and handshake, then Register."""
        if self._endpoint is None:
            return
        _log.info("%s: session with %s lost (%s)", self.name, self.account.uri, reason)
        self.registrar.cancel()
        self.registrar.location = None
        self.registration_changed(False)
        self.close()
        self.registrar.start()


class ServerLinks:
    """The links of one device, by Server instance (see the module docstring)."""

    __slots__ = ("_device", "_links", "_rng")

    def __init__(self, device: LinkDevice, rng: Rng | None = None) -> None:
        self._device = device
        self._rng = rng
        self._links: tuple[ServerLink, ...] = ()

    def __iter__(self) -> Iterator[ServerLink]:
        return iter(self._links)

    def __len__(self) -> int:
        return len(self._links)

    def failures(self) -> list[tuple[int | None, bool]]:
        """Each link's Server instance and whether its registration failed for good."""
        return [
            (link.server_instance, link.registrar.state is RegistrationState.FAILED)
            for link in self._links
        ]

    def start(self, accounts: list[ServerAccount]) -> None:
        """Register with each of ``accounts`` (links still there are dropped unannounced)."""
        for stale in self._links:
            stale.registrar.cancel()
            stale.close()
        self._links = tuple(ServerLink(self._device, a, self._rng) for a in accounts)
        for link in self._links:
            link.start()

    async def stop(self, reason: str, *, deregister: bool = True) -> None:
        """De-register from every linked server (at once), close their sockets."""
        links, self._links = self._links, ()
        if links:
            await asyncio.gather(*(link.stop(reason, deregister=deregister) for link in links))

    def on_change(self, paths: tuple[Path, ...]) -> None:
        for link in self._links:
            link.on_change(paths)

    def request_update(self, instance: int | None = None) -> None:
        """Update every link (``instance``: only the one of that Server instance)."""
        for link in self._links:
            if instance is None or link.instance == instance:
                link.registrar.request_update()

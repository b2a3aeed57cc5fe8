"""A device's connection to the server it talks to: which account, which address, the socket.

:class:`DeviceConnection` is the layer of :class:`~fleet.client.device.Device` above its
seams (:mod:`fleet.client.seams`) that keeps the way to its (first) LwM2M server:

- the account in use (:attr:`~DeviceConnection.account`: one a Bootstrap-Server wrote, or
  ``None`` for the configured ``server``) and its Server object instance;
- the server's addresses (:mod:`fleet.client.addresses`): every A/AAAA answer of a name,
  the one in use, the next one when the server does not answer there, a fresh look-up
  after a 4.04 Update or a reconnect;
- the endpoint (UDP, or DTLS for ``coaps://``, :func:`~fleet.client.transport.open_endpoint`)
  and who may talk on it: the server only (unless ``any_source``), and the
  Bootstrap-Server of a device that has one.

Closing the endpoint drops the observations and stored notifications with it; a DTLS
session ends with close_notify, or without a word for a flap or a lost session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fleet.client.addresses import ServerAddresses
from fleet.client.bootstrap import rules as bootstrap_rules
from fleet.client.coap.dtls import DtlsEndpoint
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig
from fleet.client.seams import DeviceSeams
from fleet.client.transport import open_endpoint, warn_wildcard_bind
from fleet.client.uri import ServerUri
from fleet.device.firmware.connectivity import note_address
from fleet.errors import FleetError

if TYPE_CHECKING:
    from fleet.client.bootstrap.driver import Bootstrapper
    from fleet.client.observations import Observations
    from fleet.clock import Clock
    from fleet.device.randomness import Rng
    from fleet.device.tree import ObjectTree


class DeviceConnection(DeviceSeams):
    """The account, addresses and endpoint of one device (a base of ``Device``)."""

    __slots__ = ("_bootstrap_at", "_endpoint", "_server", "_target", "_where")

    tree: ObjectTree
    clock: Clock
    bootstrap: Bootstrapper | None
    _rng: Rng | None
    _observations: Observations | None

    if TYPE_CHECKING:

        def _handle(self, request: Any) -> Any: ...

        def _on_cancel(self, remote: Address, token: bytes) -> None: ...

        def _on_lost(self, reason: str) -> None: ...

        def _on_retransmit(self, remote: Address) -> None: ...

    def __init__(self, config: DeviceConfig) -> None:
        super().__init__()
        self._server: Address | None = config.server_address
        self._where = ServerAddresses(config.resolved if self._server is not None else None)
        """Every address of the server and the one in use (:mod:`fleet.client.addresses`)."""
        self._target: bootstrap_rules.ServerAccount | None = None
        self._bootstrap_at: Address | None = None
        """The Bootstrap-Server's address as last looked up (its URI may be a name)."""
        self._endpoint: CoapEndpoint | None = None

    @property
    def endpoint(self) -> CoapEndpoint | None:
        """The CoAP endpoint while the socket is open."""
        return self._endpoint

    @property
    def address(self) -> Address | None:
        """The local ``(host, port)`` while the socket is open."""
        return self._endpoint.address if self._endpoint is not None else None

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

    @property
    def server_instance(self) -> int | None:
        """The Server object instance of the account in use (``0`` without bootstrap)."""
        return 0 if self._target is None else self._target.server_instance

    @property
    def server_address(self) -> Address:
        """The server's numeric address (known once the device connected)."""
        if self._server is None:
            raise FleetError(f"{self.name}: the server name {self.config.uri.host} is not resolved")
        return self._server

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

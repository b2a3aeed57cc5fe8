"""The embedded server's sockets when it also accepts DTLS-PSK: one endpoint, two ports.

:func:`open_server_endpoint` gives the server one
:class:`~fleet.client.coap.CoapEndpoint` (one message-id space, one
deduplication cache, one set of exchanges) over a :class:`DualTransport`: a
plain UDP socket (``coap://``) and a DTLS-PSK socket
(:class:`~fleet.client.coap.dtls_server.DtlsServerTransport`, ``coaps://``).
Datagrams from both reach the endpoint with the device's UDP address; what the
server sends to an address that came over DTLS goes back over that device's
DTLS session (dropped if the session is gone, never sent in the clear), all
else over plain UDP. An address counts as secure (:meth:`DualTransport.is_secure`)
from its first datagram over a session until that session ends (close_notify,
fatal alert, eviction: the DTLS transport's ``on_gone``) or plain UDP arrives
from it. After its session ended, what the server sends there is still dropped
(a registration made over DTLS is never answered in the clear) until plain UDP
or a new session comes from that address: a plain device that later gets the
same source port is answered in the clear. Both tables are bounded. Keys come from
``lookup(identity) -> key | None`` (see :func:`fleet.client.credentials.key_lookup`).
"""

from __future__ import annotations

import asyncio
import socket
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

from fleet.client.coap import Address, CoapEndpoint
from fleet.client.coap.dtls import DEFAULT_HANDSHAKE_TIMEOUT, require_dtls
from fleet.client.coap.dtls_server import DtlsServerStats, DtlsServerTransport
from fleet.client.coap.dtls_x509_server import X509ServerTransport
from fleet.client.coap.endpoint import set_receive_buffer
from fleet.client.coap.errors import BindError
from fleet.client.coap.layered import LayeredTransport
from fleet.client.coap.x509 import X509Credentials, require_x509

KeyLookup = Callable[[bytes], "bytes | None"]


class _Side(asyncio.DatagramProtocol):
    """The protocol of one of the two sockets: hands datagrams to the dual transport."""

    def __init__(self, owner: DualTransport, secure: bool) -> None:
        self.owner = owner
        self.secure = secure

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.secure:
            self.owner.plain = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.owner.received(data, (addr[0], addr[1]), self.secure)

    def connection_lost(self, exc: Exception | None) -> None:
        """Closing is driven by the endpoint (:meth:`DualTransport.close`)."""


class DualTransport(LayeredTransport):
    """Plain UDP and DTLS-PSK under one endpoint; routes what it sends by peer address."""

    def __init__(self, endpoint: CoapEndpoint, *, max_peers: int) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.plain: asyncio.DatagramTransport | None = None
        self.secure: DtlsServerTransport | X509ServerTransport | None = None
        self._secure_peers: OrderedDict[Address, None] = OrderedDict()
        """Addresses with a DTLS session now (from its first datagram until it ends)."""
        self._ended: OrderedDict[Address, None] = OrderedDict()
        """Addresses whose session ended, until plain UDP or a new session comes from them:
        what the server sends there is dropped, never sent in the clear (bounded)."""
        self._max_secure = 2 * max_peers

    def set_receive_buffer(self, size: int) -> None:
        """Ask for ``size`` bytes of receive buffer on both sockets (see
        :func:`~fleet.client.coap.endpoint.set_receive_buffer`)."""
        for side in (self.plain, self.secure):
            sock = side.get_extra_info("socket") if side is not None else None
            if sock is not None:
                set_receive_buffer(sock, size)

    def received(self, data: bytes, address: Address, secure: bool) -> None:
        if secure:
            self._secure_peers[address] = None
            self._secure_peers.move_to_end(address)
            while len(self._secure_peers) > self._max_secure:
                self._secure_peers.popitem(last=False)
            if self._ended:
                self._ended.pop(address, None)
        elif self._secure_peers or self._ended:
            # plain UDP from there now: a session still held for it is stale (the device
            # left without close_notify and another socket got its port)
            self._secure_peers.pop(address, None)
            self._ended.pop(address, None)
        self.endpoint.datagram_received(data, address)

    def session_gone(self, address: Address) -> None:
        """The DTLS session at ``address`` ended (the DTLS transport's ``on_gone``)."""
        if address in self._secure_peers:
            del self._secure_peers[address]
            self._ended[address] = None
            self._ended.move_to_end(address)
            while len(self._ended) > self._max_secure:
                self._ended.popitem(last=False)

    def is_secure(self, address: Address) -> bool:
        """Whether the device at ``address`` talks to the server over DTLS."""
        return (address[0], address[1]) in self._secure_peers

    def identity(self, address: Address) -> bytes | None:
        """The PSK identity of the DTLS session at ``address`` (``None``: none now)."""
        return None if self.secure is None else self.secure.identity(address)

    def secure_address(self) -> Address:
        assert self.secure is not None
        name = self.secure.get_extra_info("sockname")
        return (name[0], name[1])

    def dtls_stats(self) -> DtlsServerStats | None:
        return None if self.secure is None else self.secure.stats()

    # -- asyncio.DatagramTransport ------------------------------------------------------

    def sendto(self, data: Any, addr: Any = None) -> None:
        if self._closing or addr is None:
            return
        address = (addr[0], addr[1])
        if address in self._secure_peers or address in self._ended:
            if self.secure is not None:  # dropped (and counted) there without a session
                self.secure.sendto(data, addr)
        elif self.plain is not None:
            self.plain.sendto(data, addr)

    def _beneath(self) -> asyncio.BaseTransport | None:
        return self.plain

    def _shut(self) -> None:
        if self.secure is not None:
            self.secure.close()
        if self.plain is not None:
            self.plain.close()
        self._secure_peers.clear()
        self._ended.clear()


async def open_server_endpoint(
    host: str,
    port: int,
    *,
    dtls_port: int,
    lookup: KeyLookup | None,
    certificate: X509Credentials | None = None,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    max_peers: int = 100_000,
    **endpoint_options: Any,
) -> tuple[CoapEndpoint, DualTransport]:
    """Bind UDP ``(host, port)`` and DTLS ``(host, dtls_port)`` under one endpoint.

    DTLS-PSK with ``lookup`` (tinydtls); with the server's ``certificate`` instead (its
    ``trust``: the CAs of the devices' certificates) OpenSSL takes certificate devices.
    Both at once on one port is refused (``ValueError``): pyOpenSSL has no PSK callbacks.
    ``endpoint_options`` go to :class:`CoapEndpoint` (handler, clock, params, limits).
    Raises :class:`BindError`, :class:`~fleet.client.coap.dtls.DtlsUnavailable` or
    :class:`~fleet.client.coap.x509.X509Error` (a package missing).
    """
    if certificate is not None:
        if lookup is not None:
            raise ValueError(
                "DTLS with pre-shared keys and with certificates on one port is not supported "
                "(the certificate library, pyOpenSSL, has no PSK server); serve one of them"
            )
        require_x509()
    else:
        require_dtls()
    endpoint = CoapEndpoint(**endpoint_options)
    dual = DualTransport(endpoint, max_peers=max_peers)
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        await loop.create_datagram_endpoint(
            lambda: _Side(dual, False), local_addr=(host, port), family=family
        )
    except OSError as error:
        raise BindError(error.errno, f"cannot bind UDP {host!r} port {port}: {error}") from error
    try:
        secure: DtlsServerTransport | X509ServerTransport
        if certificate is not None:
            secure = X509ServerTransport(
                _Side(dual, True),
                certificate,
                handshake_timeout=handshake_timeout,
                max_peers=max_peers,
                on_gone=dual.session_gone,
            )
        else:
            assert lookup is not None
            secure = DtlsServerTransport(
                _Side(dual, True),
                lookup,
                handshake_timeout=handshake_timeout,
                max_peers=max_peers,
                on_gone=dual.session_gone,
            )
        await loop.create_datagram_endpoint(
            lambda: secure, local_addr=(host, dtls_port), family=family
        )
    except OSError as error:
        dual.close()
        raise BindError(
            error.errno, f"cannot bind UDP {host!r} port {dtls_port} (DTLS): {error}"
        ) from error
    except BaseException:
        dual.close()
        raise
    dual.secure = secure
    endpoint.connection_made(dual)
    return endpoint, dual

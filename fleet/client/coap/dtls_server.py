"""DTLS-PSK server role under :class:`CoapEndpoint`: one UDP socket, one session per peer.

The embedded LwM2M server (and tests, benchmarks) accept ``coaps://`` devices with
:func:`open_dtls_server`. Each peer address gets its own tinydtls context whose key
store asks ``lookup(identity) -> key | None`` during the handshake, so keys can come
from a scenario pattern, a CSV file or a single value without being copied into a
table. Plaintext goes to and from the endpoint exactly as over plain UDP, the peer
address being the device's UDP address: requests the server starts (Read, Write,
Observe, notifications the other way) go out over the session the device opened.
A server cannot start a session, so datagrams for a peer without one are dropped.
Handshakes that do not finish within ``handshake_timeout`` are dropped; at most
``max_peers`` sessions are kept (the least recently active one goes first).
``on_gone(address)`` hears every session that ends, however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from fleet.client.coap.dtls import (
    ALERT_CLOSE_NOTIFY,
    DEFAULT_HANDSHAKE_TIMEOUT,
    EVENT_CONNECTED,
    LEVEL_FATAL,
    LEVEL_WARNING,
    RETRANSMIT_POLL,
    SENTINEL_HOST,
    SENTINEL_PORT,
    _dtls_module,
)
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.errors import BindError
from fleet.client.coap.layered import LayeredTransport
from fleet.client.coap.wire import Address

KeyLookup = Callable[[bytes], "bytes | None"]
"""``lookup(identity) -> key`` (``None``: unknown identity, the handshake fails)."""


class _KeyStore:
    """The dict-like key store tinydtls consults; remembers which identity was used."""

    __slots__ = ("identity", "lookup", "refused")

    def __init__(self, lookup: KeyLookup) -> None:
        self.lookup = lookup
        self.identity: bytes | None = None
        self.refused = False
        """An identity the lookup does not know was offered (tinydtls then sends its alert)."""

    def keys(self) -> _KeyStore:
        return self

    def __contains__(self, identity: object) -> bool:
        known = isinstance(identity, bytes) and self.lookup(identity) is not None
        if not known:
            self.refused = True
        return known

    def __getitem__(self, identity: bytes) -> bytes:
        key = self.lookup(identity)
        if key is None:
            raise KeyError("unknown PSK identity")
        self.identity = identity
        return key


class _Peer:
    """One device's DTLS session on the server socket."""

    __slots__ = ("__weakref__", "address", "connected", "dtls", "keys", "session", "started")

    def __init__(self, server: DtlsServerTransport, address: Address, lookup: KeyLookup) -> None:
        self.address = address
        self.keys = _KeyStore(lookup)
        self.connected = False
        self.started = time.monotonic()
        ref = weakref.ref(server)
        me = weakref.ref(self)

        def read(sender: Any, data: bytes) -> int:
            owner = ref()
            if owner is not None:
                owner.plaintext(address, data)
            return len(data)

        def write(recipient: Any, data: bytes) -> int:
            owner = ref()
            return 0 if owner is None else owner.record(address, data)

        def event(level: int, code: int) -> None:
            owner, peer = ref(), me()
            if owner is not None and peer is not None:
                owner.peer_event(peer, level, code)

        dtls = _dtls_module()
        self.dtls: Any = dtls.DTLS(
            read=read, write=write, event=event, pskId=b"server", pskStore=self.keys
        )
        self.session: Any = dtls.Session(SENTINEL_HOST, SENTINEL_PORT)


def _client_hello(data: bytes) -> bool:
    """Whether ``data`` starts with a plaintext ClientHello (RFC 6347 4.1 and 4.2.2: record
    type 22 handshake, epoch 0, handshake type 1). A late flight of a handshake the server
    already ended (a retransmitted Finished) must not open a session of its own."""
    return len(data) > 13 and data[0] == 22 and data[3:5] == b"\x00\x00" and data[13] == 1


@dataclass(frozen=True, slots=True)
class DtlsServerStats:
    """Counters of a DTLS server socket, for metrics."""

    sessions: int
    handshakes: int
    failed_handshakes: int
    evicted: int
    dropped: int
    """Datagrams the endpoint sent to a peer without a session (dropped)."""


class SessionPeer(Protocol):
    """What the shared server socket needs of a peer: its address, whether it is up, and
    when its handshake began (``time.monotonic()``)."""

    address: Address
    connected: bool
    started: float


class DtlsServerSocket(LayeredTransport, asyncio.DatagramProtocol):
    """What the PSK and the certificate server sockets share: the UDP socket's protocol and
    the endpoint's transport at once, a table of peers by address (:class:`SessionPeer`),
    counters, the handshake poll (retransmissions and timeouts, :meth:`_check`) and closing
    (every session dropped, the socket closed)."""

    poll_every: float = RETRANSMIT_POLL
    """Seconds between handshake checks while a handshake is open."""

    def __init__(
        self,
        protocol: asyncio.DatagramProtocol,
        *,
        handshake_timeout: float,
        max_peers: int,
        on_gone: Callable[[Address], None] | None = None,
    ) -> None:
        LayeredTransport.__init__(self)
        self.on_gone = on_gone
        """Hears the address of every session that ends (close_notify, fatal alert, handshake
        timeout, eviction, close): what the server sends there is no longer secure."""
        self._protocol = protocol
        self._handshake_timeout = handshake_timeout
        self._max_peers = max_peers
        self._udp: asyncio.DatagramTransport | None = None
        self._peers: OrderedDict[Address, Any] = OrderedDict()
        """The sessions by peer address (:class:`SessionPeer` of the subclass's kind)."""
        self._poll: asyncio.TimerHandle | None = None
        self.handshakes = 0
        self.failed_handshakes = 0
        self.evicted = 0
        self.dropped = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._udp = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def _drop(self, peer: Any, *, evicted: bool = False) -> None:
        raise NotImplementedError

    def _new_peer(self, address: Address) -> Any:
        """A new session for ``address``, entered in the table (the subclass's kind)."""
        raise NotImplementedError

    def _admit(self, data: bytes, addr: tuple[Any, ...]) -> Any:
        """The session a datagram from ``addr`` belongs to, or None to ignore it.

        Only a ClientHello may start a session; when the table is full the least
        recently heard session is evicted for it. A known session becomes the most recent.
        """
        if self._closing:
            return None
        address: Address = (addr[0], addr[1])
        peer = self._peers.get(address)
        if peer is None:
            if not _client_hello(data):  # only a ClientHello may start a session
                return None
            while len(self._peers) >= self._max_peers:
                self._drop(next(iter(self._peers.values())), evicted=True)
            return self._new_peer(address)
        self._peers.move_to_end(address)
        return peer

    def _poll_soon(self) -> None:
        """Check the open handshakes in :attr:`poll_every` seconds (unless already due)."""
        if self._poll is None and not self._closing:
            self._poll = asyncio.get_running_loop().call_later(self.poll_every, self._check)

    def _check(self) -> None:
        """Handshake retransmissions and handshake timeouts of peers not connected yet."""
        self._poll = None
        deadline = time.monotonic() - self._handshake_timeout
        pending = False
        for peer in [peer for peer in self._peers.values() if not peer.connected]:
            if peer.started < deadline:
                self.failed_handshakes += 1
                self._timed_out(peer)
            else:
                self._retransmit(peer)
                pending = True
        if pending:
            self._poll_soon()

    def _timed_out(self, peer: Any) -> None:
        """A handshake took longer than the timeout: end that session."""
        raise NotImplementedError

    def _retransmit(self, peer: Any) -> None:
        """Let the DTLS library resend its last flight if its timer ran out."""
        raise NotImplementedError

    def _forget(self, peer: SessionPeer) -> None:
        """Take ``peer`` off the table (if it is still the session at its address)."""
        address = peer.address
        if self._peers.get(address) is peer:
            del self._peers[address]
            if self.on_gone is not None:
                self.on_gone(address)

    def stats(self) -> DtlsServerStats:
        return DtlsServerStats(
            sessions=sum(1 for peer in self._peers.values() if peer.connected),
            handshakes=self.handshakes,
            failed_handshakes=self.failed_handshakes,
            evicted=self.evicted,
            dropped=self.dropped,
        )

    def _beneath(self) -> asyncio.BaseTransport | None:
        return self._udp

    def _shut(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        for peer in list(self._peers.values()):
            self._drop(peer)
        if self._udp is not None:
            self._udp.close()
        self._protocol.connection_lost(None)


class DtlsServerTransport(DtlsServerSocket):
    """The PSK server socket (tinydtls): one tinydtls context per peer."""

    def __init__(
        self,
        protocol: asyncio.DatagramProtocol,
        lookup: KeyLookup,
        *,
        handshake_timeout: float,
        max_peers: int,
        on_gone: Callable[[Address], None] | None = None,
    ) -> None:
        super().__init__(
            protocol, handshake_timeout=handshake_timeout, max_peers=max_peers, on_gone=on_gone
        )
        self._lookup = lookup

    # -- UDP side -----------------------------------------------------------------------

    def _new_peer(self, address: Address) -> _Peer:
        peer = self._peers[address] = _Peer(self, address, self._lookup)
        return peer

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        peer: _Peer | None = self._admit(data, addr)
        if peer is None:
            return
        peer.dtls.handleMessage(peer.session, data)
        if peer.keys.refused and not peer.connected and peer.address in self._peers:
            # tinydtls sent its alert for the unknown identity but keeps the peer: release
            # it now rather than at the handshake timeout (a flood of strangers is not held)
            self.failed_handshakes += 1
            self._drop(peer)
        elif not peer.connected and peer.address in self._peers:
            self._poll_soon()

    def _timed_out(self, peer: _Peer) -> None:
        self._drop(peer)

    def _retransmit(self, peer: _Peer) -> None:
        peer.dtls.checkRetransmit()

    def _drop(self, peer: _Peer, *, evicted: bool = False) -> None:
        self._forget(peer)
        if evicted:
            self.evicted += 1
        if peer.connected:
            with contextlib.suppress(Exception):  # tinydtls raises if the peer is gone
                peer.dtls.close(peer.session)  # close_notify: the device knows to re-handshake
        peer.dtls.resetPeer(peer.session)

    # -- called from the peers' tinydtls callbacks --------------------------------------

    def plaintext(self, address: Address, data: bytes) -> None:
        self._protocol.datagram_received(data, address)

    def record(self, address: Address, data: bytes) -> int:
        if self._udp is None or self._udp.is_closing():
            return 0
        self._udp.sendto(data, address)
        return len(data)

    def peer_event(self, peer: _Peer, level: int, code: int) -> None:
        if code == EVENT_CONNECTED:
            peer.connected = True
            self.handshakes += 1
        elif level == LEVEL_FATAL or (level == LEVEL_WARNING and code == ALERT_CLOSE_NOTIFY):
            if not peer.connected:
                self.failed_handshakes += 1
            self._forget(peer)

    # -- endpoint side ------------------------------------------------------------------

    def identity(self, address: Address) -> bytes | None:
        """The PSK identity the peer at ``address`` authenticated with, if it has a session."""
        peer = self._peers.get(address)
        return peer.keys.identity if peer is not None and peer.connected else None

    def sendto(self, data: Any, addr: Any = None) -> None:
        peer = self._peers.get((addr[0], addr[1])) if addr is not None else None
        if self._closing or peer is None or not peer.connected:
            self.dropped += 1
            return
        peer.dtls.write(peer.session, bytes(data))


@dataclass(slots=True)
class DtlsServer:
    """A server endpoint accepting DTLS-PSK sessions."""

    endpoint: CoapEndpoint
    transport: DtlsServerTransport

    def close(self) -> None:
        self.endpoint.close()


async def open_dtls_server(
    host: str,
    port: int,
    lookup: KeyLookup,
    *,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    max_peers: int = 100_000,
    **endpoint_options: Any,
) -> DtlsServer:
    """Listen for DTLS-PSK on ``(host, port)``; ``endpoint_options`` go to :class:`CoapEndpoint`
    (handler, limits sized for many devices, clock, params, on_cancel). Raises :class:`BindError`
    or :class:`~fleet.client.coap.dtls.DtlsUnavailable`."""
    _dtls_module()
    endpoint = CoapEndpoint(**endpoint_options)
    transport = DtlsServerTransport(
        endpoint, lookup, handshake_timeout=handshake_timeout, max_peers=max_peers
    )
    loop = asyncio.get_running_loop()
    try:
        await loop.create_datagram_endpoint(lambda: transport, local_addr=(host, port))
    except OSError as error:
        raise BindError(error.errno, f"cannot bind UDP {host!r} port {port}: {error}") from error
    endpoint.connection_made(transport)
    return DtlsServer(endpoint, transport)

"""DTLS server role with X.509 certificates, over OpenSSL: one socket, one session per peer.

The embedded LwM2M server accepts certificate devices with an
:class:`X509ServerTransport`: its own certificate and key, the CA certificates a
device's certificate must verify to (``trust``: a device without a certificate, or with
one of another CA or out of date, fails the handshake with an alert saying so). PSK
devices cannot share the port: pyOpenSSL has no PSK callbacks (the PSK server stays
tinydtls, :mod:`fleet.client.coap.dtls_server`). Each peer
address gets an OpenSSL ``Connection`` on memory BIOs; a stateless cookie (RFC 6347
4.2.1, HMAC of the peer address) is asked before the expensive part of a handshake.
Plaintext goes to and from the endpoint as over plain UDP, so requests the server
starts go out over the session the device opened; datagrams for a peer without a
session are dropped and counted. The surface (``identity``, ``stats``, ``on_gone``) is
the PSK server's (:class:`~fleet.client.coap.dtls_server.DtlsServerTransport`), so
:class:`fleet.server.secure.DualTransport` takes either.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import importlib
import os
import time
from collections.abc import Callable
from typing import Any, Final

from fleet.client.coap.dtls_server import DtlsServerSocket
from fleet.client.coap.dtls_x509 import (
    CIPHERS,
    DTLS1_2_VERSION,
    MTU,
    _ssl,
    _text,
    datagrams,
)
from fleet.client.coap.session import weak_callback
from fleet.client.coap.wire import Address
from fleet.client.coap.x509 import X509Credentials, common_name

POLL: Final = 0.25
"""Seconds between retransmission / handshake-timeout checks while handshakes are open."""


class _Peer:
    """One device's DTLS session on the server socket."""

    __slots__ = ("address", "conn", "connected", "identity", "started")

    def __init__(self, conn: Any, address: Address) -> None:
        self.conn = conn
        self.address = address
        self.connected = False
        self.identity: bytes | None = None
        self.started = time.monotonic()


class X509ServerTransport(DtlsServerSocket):
    """The certificate server socket (OpenSSL): one ``Connection`` per peer."""

    poll_every = POLL

    def __init__(
        self,
        protocol: asyncio.DatagramProtocol,
        credentials: X509Credentials,
        *,
        handshake_timeout: float,
        max_peers: int,
        on_gone: Callable[[Address], None] | None = None,
    ) -> None:
        super().__init__(
            protocol, handshake_timeout=handshake_timeout, max_peers=max_peers, on_gone=on_gone
        )
        self._secret = os.urandom(32)
        self.last_failure: str | None = None
        """Why the latest handshake failed (for logs; never a key)."""
        self._context = self._make_context(credentials)

    def _make_context(self, credentials: X509Credentials) -> Any:
        ssl = _ssl()
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        crypto = importlib.import_module("OpenSSL.crypto")
        context = ssl.Context(ssl.DTLS_SERVER_METHOD)
        context.set_min_proto_version(DTLS1_2_VERSION)
        context.set_cipher_list(CIPHERS)
        context.set_mode(ssl.MODE_RELEASE_BUFFERS)
        context.set_options(ssl.OP_COOKIE_EXCHANGE)
        context.use_certificate(x509.load_der_x509_certificate(credentials.certificate))
        context.use_privatekey(serialization.load_der_private_key(credentials.key, None))
        for intermediate in credentials.chain:
            context.add_extra_chain_cert(x509.load_der_x509_certificate(intermediate))
        store = context.get_cert_store()
        for anchor in credentials.trust:
            store.add_cert(crypto.X509.from_cryptography(x509.load_der_x509_certificate(anchor)))
        mode = ssl.VERIFY_PEER | ssl.VERIFY_FAIL_IF_NO_PEER_CERT
        context.set_verify(mode, weak_callback(self, "_verify", False))
        context.set_cookie_generate_callback(weak_callback(self, "_cookie", b""))
        context.set_cookie_verify_callback(weak_callback(self, "_cookie_ok", False))
        return context

    # -- OpenSSL callbacks --------------------------------------------------------------

    def _cookie(self, conn: Any) -> bytes:
        address = conn.get_app_data().address
        return hmac.new(self._secret, f"{address}".encode(), hashlib.sha256).digest()[:16]

    def _cookie_ok(self, conn: Any, cookie: bytes) -> bool:
        return hmac.compare_digest(cookie, self._cookie(conn))

    def _verify(self, conn: Any, cert: Any, errno: int, depth: int, ok: int) -> bool:
        peer: _Peer = conn.get_app_data()
        certificate = cert.to_cryptography()
        if not ok:
            from fleet.client.coap.x509 import verify_reason

            reason = verify_reason(errno, depth, common_name(certificate))
            self.last_failure = reason.replace("the server's", "the device's")
            return False
        if depth == 0:
            peer.identity = common_name(certificate).encode()
        return True

    # -- UDP side -----------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        peer: _Peer | None = self._admit(data, addr)
        if peer is None:
            return
        peer.conn.bio_write(data)
        if peer.connected:
            self._read(peer)
        else:
            self._advance(peer)
        self._flush(peer)

    def _new_peer(self, address: Address) -> _Peer:
        ssl = _ssl()
        conn = ssl.Connection(self._context, None)
        conn.set_accept_state()
        conn.set_ciphertext_mtu(MTU)
        peer = _Peer(conn, address)
        conn.set_app_data(peer)
        self._peers[address] = peer
        self._poll_soon()
        return peer

    def _advance(self, peer: _Peer) -> None:
        ssl = _ssl()
        try:
            peer.conn.do_handshake()
        except ssl.WantReadError:
            return
        except ssl.Error as error:
            self.failed_handshakes += 1
            if self.last_failure is None or "alert" in _text(error):
                self.last_failure = _text(error)
            self._flush(peer)
            self._forget(peer)
            return
        peer.connected = True
        self.handshakes += 1
        self._read(peer)  # application data may follow the Finished in the same datagram

    def _read(self, peer: _Peer) -> None:
        ssl = _ssl()
        while True:
            try:
                plaintext = peer.conn.recv(65536)
            except ssl.WantReadError:
                return
            except (ssl.ZeroReturnError, ssl.Error):
                self._flush(peer)
                self._forget(peer)
                return
            self._protocol.datagram_received(plaintext, peer.address)

    def _flush(self, peer: _Peer) -> None:
        ssl = _ssl()
        chunks: list[bytes] = []
        while True:
            try:
                chunks.append(peer.conn.bio_read(65536))
            except ssl.WantReadError:
                break
        udp = self._udp
        if not chunks or udp is None or udp.is_closing():
            return
        for datagram in datagrams(b"".join(chunks)):
            udp.sendto(datagram, peer.address)

    def _timed_out(self, peer: _Peer) -> None:
        self._forget(peer)

    def _retransmit(self, peer: _Peer) -> None:
        with contextlib.suppress(Exception):
            peer.conn.DTLSv1_handle_timeout()
        self._flush(peer)

    def _drop(self, peer: _Peer, *, evicted: bool = False) -> None:
        if evicted:
            self.evicted += 1
        if peer.connected:
            with contextlib.suppress(Exception):
                peer.conn.shutdown()  # close_notify: the device knows to re-handshake
                self._flush(peer)
        self._forget(peer)

    # -- endpoint side ------------------------------------------------------------------

    def identity(self, address: Address) -> bytes | None:
        """The common name of the device certificate of the session at ``address``."""
        peer = self._peers.get(address)
        return peer.identity if peer is not None and peer.connected else None

    def sendto(self, data: Any, addr: Any = None) -> None:
        peer = self._peers.get((addr[0], addr[1])) if addr is not None else None
        if self._closing or peer is None or not peer.connected:
            self.dropped += 1
            return
        try:
            peer.conn.send(bytes(data))
        except _ssl().Error:
            self.dropped += 1
            return
        self._flush(peer)

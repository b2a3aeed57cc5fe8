"""DTLS 1.2 with X.509 certificates (``coaps://``, security mode 2), client role, over OpenSSL.

pyOpenSSL's DTLS methods (the ``x509`` extra; OpenSSL 3 as bundled by the
``cryptography`` wheels) run the session on memory BIOs: records read from the UDP
socket go in with ``bio_write``, what OpenSSL has to send comes out of ``bio_read``
and is cut back into datagrams at record boundaries (:func:`datagrams`), each at
most :data:`MTU` bytes. Retransmission follows ``DTLSv1_get_timeout`` on the loop.

The server's certificate is checked as the device's
:class:`~fleet.client.coap.x509.X509Credentials` say (trust anchor, or a pinned
certificate): a refused certificate fails the handshake at once with a reason such
as "the server's certificate 'lwm2m' has expired" or "... is not signed by a
trusted CA (wrong CA?)"; a device certificate the server refuses fails with what
its alert means ("the server does not trust the device certificate's CA").

One ``SSL.Context`` is shared by the devices with the same trust anchors (keys and
certificates are set per connection), and OpenSSL releases a session's buffers
while idle, so a session costs a few kilobytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import ipaddress
import time
from collections.abc import Callable
from typing import Any, Final

from fleet.client.coap.dtls_errors import DtlsError, DtlsHandshakeError, DtlsUnavailable
from fleet.client.coap.session import (
    DtlsClient,
    DtlsEndpoint,
    SecureClientTransport,
    open_secure_client,
    weak_callback,
)
from fleet.client.coap.wire import Address
from fleet.client.coap.x509 import (
    NAME_MISMATCH,
    X509Credentials,
    alert_reason,
    common_name,
    names_match,
    verify_cause,
    verify_reason,
    x509_available,
)
from fleet.clock import Clock

DTLS1_2_VERSION: Final = 0xFEFD
"""OpenSSL's number for DTLS 1.2 (pyOpenSSL does not name it)."""
MTU: Final = 1280
"""Largest datagram sent (IPv6's minimum MTU less nothing: headers are the kernel's)."""
RECORD_HEADER: Final = 13
"""Bytes of a DTLS record header: type, version, epoch, sequence number, length."""
DEFAULT_HANDSHAKE_TIMEOUT: Final = 10.0
CIPHERS: Final = b"ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-GCM-SHA256:DEFAULT"
"""RFC 7925's mandatory suite (CCM_8) first, then OpenSSL's defaults."""
_CONTEXTS: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], Any] = {}
"""Shared client contexts by (trust anchors, chain)."""


def _ssl() -> Any:
    reason = x509_available()
    if reason is not None:
        raise DtlsUnavailable(reason)
    return importlib.import_module("OpenSSL.SSL")


def datagrams(data: bytes, mtu: int = MTU) -> list[bytes]:
    """Cut what OpenSSL wrote (records back to back) into datagrams of whole records,
    each at most ``mtu`` bytes unless one record alone is larger."""
    records: list[bytes] = []
    at = 0
    while at < len(data):
        if len(data) - at < RECORD_HEADER:
            records.append(data[at:])
            break
        length = int.from_bytes(data[at + 11 : at + 13], "big")
        records.append(data[at : at + RECORD_HEADER + length])
        at += RECORD_HEADER + length
    out: list[bytes] = []
    current = b""
    for record in records:
        if current and len(current) + len(record) > mtu:
            out.append(current)
            current = b""
        current += record
    if current:
        out.append(current)
    return out


def _context(credentials: X509Credentials) -> Any:
    """The client context for these trust anchors and chain (shared, created once)."""
    key = (credentials.trust, credentials.chain)
    found = _CONTEXTS.get(key)
    if found is not None:
        return found
    ssl = _ssl()
    from cryptography import x509

    context = ssl.Context(ssl.DTLS_CLIENT_METHOD)
    context.set_min_proto_version(DTLS1_2_VERSION)
    context.set_cipher_list(CIPHERS)
    context.set_mode(ssl.MODE_RELEASE_BUFFERS)
    store = context.get_cert_store()
    for anchor in credentials.trust:
        store.add_cert(_pyopenssl_cert(x509.load_der_x509_certificate(anchor)))
    for intermediate in credentials.chain:
        context.add_extra_chain_cert(x509.load_der_x509_certificate(intermediate))
    _CONTEXTS[key] = context
    return context


def _pyopenssl_cert(certificate: Any) -> Any:
    return importlib.import_module("OpenSSL.crypto").X509.from_cryptography(certificate)


class X509ClientTransport(SecureClientTransport):
    """A DTLS client session authenticated with certificates (see the module docstring)."""

    def __init__(
        self,
        server: Address,
        credentials: X509Credentials,
        protocol: asyncio.DatagramProtocol,
        on_lost: Callable[[str], None] | None = None,
        host_name: str | None = None,
    ) -> None:
        super().__init__(server, protocol, on_lost)
        ssl = _ssl()
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        self._ssl = ssl
        self._subject = credentials.subject
        self._pinned = credentials.server_certificate
        self._expected = credentials.server_name or host_name or server[0]
        self._timer: asyncio.TimerHandle | None = None
        self._refused: str | None = None
        self._cause: str | None = None
        conn = ssl.Connection(_context(credentials), None)
        conn.set_connect_state()
        conn.set_ciphertext_mtu(MTU)
        conn.use_certificate(x509.load_der_x509_certificate(credentials.certificate))
        conn.use_privatekey(serialization.load_der_private_key(credentials.key, password=None))
        conn.set_verify(ssl.VERIFY_PEER, weak_callback(self, "_verify", False))
        name = credentials.server_name or host_name
        if name is not None and not _is_ip(name):
            conn.set_tlsext_host_name(name.encode("idna"))
        self._conn: Any = conn

    # -- set up -------------------------------------------------------------------------

    async def handshake(self) -> None:
        loop = asyncio.get_running_loop()
        self._connected = loop.create_future()
        started = time.monotonic()
        self._step()
        try:
            await self._connected
        finally:
            self._cancel_timer()
        self.handshake_seconds = time.monotonic() - started

    def _verify(self, conn: Any, cert: Any, errno: int, depth: int, ok: int) -> bool:
        """OpenSSL's verify callback: trust-anchor mode keeps OpenSSL's verdict and adds
        the name check; pinned mode accepts here and compares after the handshake."""
        if self._pinned is not None:
            return True
        if not ok:
            if self._refused is None:
                certificate = cert.to_cryptography()
                detail = ""
                if errno == 10:
                    detail = f"on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
                self._refused = verify_reason(errno, depth, common_name(certificate), detail)
                self._cause = verify_cause(errno)
            return False
        if depth == 0:
            certificate = cert.to_cryptography()
            if not names_match(certificate, self._expected):
                self._refused = verify_reason(
                    NAME_MISMATCH, 0, common_name(certificate), repr(self._expected)
                )
                self._cause = verify_cause(NAME_MISMATCH)
                return False
        return True

    def _step(self) -> None:
        """Advance the handshake with what has arrived."""
        ssl = self._ssl
        try:
            self._conn.do_handshake()
        except ssl.WantReadError:
            self._flush()
            self._schedule_timer()
            return
        except ssl.Error as error:
            self._flush()  # the alert
            if self._refused is not None:
                self._handshake_failed(self._refused, self._cause)
            else:
                self._handshake_failed(*alert_reason(_text(error)))
            return
        self._flush()
        if self._pinned is not None:
            from fleet.client.coap.x509 import der

            peer = self._conn.get_peer_certificate(as_cryptography=True)
            if peer is None or der(peer) != self._pinned:
                shown = "none" if peer is None else repr(common_name(peer))
                self._handshake_failed(
                    f"the server's certificate ({shown}) is not the pinned server certificate",
                    "pinned certificate mismatch",
                )
                self._send_alert()
                return
        self._established = True
        if self._connected is not None and not self._connected.done():
            self._connected.set_result(None)

    def _handshake_failed(self, reason: str, cause: str | None = None) -> None:
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(
                DtlsHandshakeError(f"DTLS handshake with {self.peer_label()}: {reason}", cause)
            )

    def _send_alert(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.shutdown()
            self._flush()

    def _schedule_timer(self) -> None:
        self._cancel_timer()
        delay = self._conn.DTLSv1_get_timeout()
        if delay is None:
            return
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.01), self._retransmit)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _retransmit(self) -> None:
        self._timer = None
        if self._closing or self._connected is None or self._connected.done():
            return
        with contextlib.suppress(self._ssl.Error):
            self._conn.DTLSv1_handle_timeout()
        self._step()

    def _flush(self) -> None:
        """Send what OpenSSL wrote, record-aligned datagrams of at most :data:`MTU` bytes."""
        chunks: list[bytes] = []
        while True:
            try:
                chunks.append(self._conn.bio_read(65536))
            except self._ssl.WantReadError:
                break
        udp = self._udp
        if not chunks or udp is None or udp.is_closing():
            return
        for datagram in datagrams(b"".join(chunks)):
            udp.sendto(datagram)
            self.records_out += 1

    # -- records in ---------------------------------------------------------------------

    def record_received(self, data: bytes) -> None:
        if self._closing:
            return
        self.records_in += 1
        self._conn.bio_write(data)
        if not self._established:
            if self._connected is not None and not self._connected.done():
                self._step()
            return
        ssl = self._ssl
        while True:
            try:
                plaintext = self._conn.recv(65536)
            except ssl.WantReadError:
                break
            except ssl.ZeroReturnError:
                self._ended("close_notify")
                break
            except ssl.Error as error:
                self._ended(f"fatal alert ({_text(error)})")
                break
            self._protocol.datagram_received(plaintext, self._server)
        self._flush()

    def _ended(self, reason: str) -> None:
        if self.lost is None and not self._closing:
            self.lost = f"DTLS session with {self.peer_label()} ended: {reason}"
            if self._on_lost is not None:
                self._on_lost(self.lost)

    def peer_label(self) -> str:
        return f"{self._server[0]}:{self._server[1]} as {self._subject!r}"

    # -- asyncio.DatagramTransport ------------------------------------------------------

    def sendto(self, data: Any, addr: Any = None) -> None:
        """Encrypt one CoAP datagram for the server (``addr`` is always the server)."""
        if self._closing or not self._established or self.lost:
            return
        try:
            self._conn.send(bytes(data))
        except self._ssl.Error:
            return
        self._flush()

    def close(self, notify: bool = True) -> None:
        if self._closing:
            return
        if notify and self._established and self.lost is None:
            self._send_alert()  # close_notify: the server frees its session
        self._closing = True
        self._cancel_timer()
        if self._connected is not None and not self._connected.done():
            self._connected.cancel()
        if self._udp is not None:
            self._udp.close()
        self._protocol.connection_lost(None)

    def __repr__(self) -> str:
        return f"<X509ClientTransport {self.peer_label()}>"


def _text(error: Exception) -> str:
    """OpenSSL's reason strings of an ``SSL.Error`` (``[('SSL routines', '', 'reason')]``)."""
    parts = error.args[0] if error.args else []
    if isinstance(parts, list):
        reasons = [str(item[-1]) for item in parts if isinstance(item, tuple) and item]
        if reasons:
            return "; ".join(reasons)
    return str(error) or type(error).__name__


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


async def open_x509_client(
    host: str,
    server: Address,
    credentials: X509Credentials,
    *,
    host_name: str | None = None,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    clock: Clock | None = None,
    on_lost: Callable[[str], None] | None = None,
    **endpoint_options: Any,
) -> DtlsClient:
    """Bind on ``host``, handshake with ``server`` with certificates, return the endpoint.

    ``host_name``: the server URI's host (the name its certificate must carry unless
    the credentials pin the certificate or give ``server_name``; default the
    address). Otherwise like :func:`~fleet.client.coap.dtls.open_dtls_client`. Raises
    :class:`DtlsHandshakeError` (with the reason), :class:`DtlsUnavailable` or
    :class:`~fleet.client.coap.errors.BindError`.
    """
    endpoint = DtlsEndpoint(clock=clock, **endpoint_options)
    transport = X509ClientTransport(server, credentials, endpoint, on_lost, host_name)
    return await open_secure_client(
        host,
        server,
        endpoint,
        transport,
        handshake_timeout=handshake_timeout,
        clock=clock,
        timeout_hint="no DTLS server there, or it does not answer certificate handshakes",
    )


__all__ = ["DtlsError", "X509ClientTransport", "datagrams", "open_x509_client"]

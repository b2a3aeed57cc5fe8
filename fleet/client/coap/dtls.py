"""DTLS 1.2 with pre-shared keys (``coaps://``) under :class:`CoapEndpoint`, client role.

The optional ``DTLSSocket`` package (tinydtls) does the record layer; it is imported
lazily, so the rest of :mod:`fleet.client.coap` works without it and
:func:`dtls_available` says why it is missing. A :class:`DtlsClientTransport` looks
like an ``asyncio.DatagramTransport`` to the endpoint: plaintext CoAP datagrams go
in through :meth:`~DtlsClientTransport.sendto` and come out of the endpoint's
``datagram_received``, while the UDP socket underneath (connected to the server)
carries DTLS records. One socket, one DTLS context, one session per device: the
requests the server sends later (Read, Write, Observe) arrive over the session the
device opened, because that socket only talks to the server.

:func:`open_dtls_client` binds, handshakes within a bounded time measured on the
injected :class:`fleet.clock.Clock` and returns a :class:`DtlsClient`. A wrong key
makes no noise (OpenSSL, GnuTLS and tinydtls servers all drop the Finished they cannot
decrypt, as RFC 6347 §4.1.2.7 allows), so it shows up as :class:`DtlsHandshakeError`
with the cause ``handshake timeout`` when the timeout runs out; an alert from the server
during the handshake fails it at once, with the cause ``DTLS alert 40 (handshake_failure)
received``. Retrying with back-off is the registrar's job. Keys are never part
of a ``repr`` or an error message.

Closing the :class:`DtlsEndpoint` (device stop, reboot, disable) sends
close_notify, so the server frees the session at once; :meth:`DtlsEndpoint.abort`
drops the session without a word (a network flap, a lost session), so the server
keeps the stale session until it evicts it, as with a device that really vanished.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import Callable
from typing import Any

from fleet.client.coap.dtls_errors import (
    DtlsError,
    DtlsHandshakeError,
    DtlsUnavailable,
    alert_name,
    alert_received,
)
from fleet.client.coap.psk import PskCredentials
from fleet.client.coap.session import (
    DtlsClient,
    DtlsEndpoint,
    SecureClientTransport,
    open_secure_client,
    weak_callback,
)
from fleet.client.coap.wire import Address
from fleet.clock import Clock

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DtlsClient",
    "DtlsClientTransport",
    "DtlsEndpoint",
    "DtlsError",
    "DtlsHandshakeError",
    "DtlsUnavailable",
    "dtls_available",
    "open_dtls_client",
    "require_dtls",
]

SENTINEL_HOST = "::ffff:0.0.0.0"
"""tinydtls wants a peer address; the socket under it is connected, so any will do."""
SENTINEL_PORT = 1234

EVENT_CONNECT = 0x01DC
EVENT_CONNECTED = 0x01DE
LEVEL_WARNING = 1
LEVEL_FATAL = 2
ALERT_CLOSE_NOTIFY = 0

DEFAULT_HANDSHAKE_TIMEOUT = 10.0
"""Seconds a handshake may take before it counts as failed (tinydtls retries 1 s, 2 s, 4 s)."""
RETRANSMIT_POLL = 0.25
"""Seconds between tinydtls retransmission checks while a handshake is in progress."""


def dtls_available() -> str | None:
    """``None`` if DTLS can be used, else the reason it cannot (also the tests' skip reason)."""
    try:
        importlib.import_module("DTLSSocket.dtls")
    except ImportError as error:
        return (
            f"DTLS needs the optional DTLSSocket package ({error}): "
            "apt-get install autoconf automake libtool, then pip install 'lwm2m-fleet[dtls]'"
        )
    return None


def require_dtls() -> None:
    """Raise :class:`DtlsUnavailable` (saying how to install it) unless DTLS can be used."""
    _dtls_module()


def _dtls_module() -> Any:
    reason = dtls_available()
    if reason is not None:
        raise DtlsUnavailable(reason)
    return importlib.import_module("DTLSSocket.dtls")


class DtlsClientTransport(SecureClientTransport):
    """A DTLS-PSK client session that an endpoint uses as its datagram transport."""

    def __init__(
        self,
        server: Address,
        credentials: PskCredentials,
        protocol: asyncio.DatagramProtocol,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(server, protocol, on_lost)
        self._identity = credentials.identity
        self._dtls: Any = None
        self._session: Any = None
        self._poll: asyncio.TimerHandle | None = None
        self._dtls = _dtls_module().DTLS(
            read=weak_callback(self, "_plaintext", 0),
            write=weak_callback(self, "_record", 0),
            event=weak_callback(self, "_event", 0),
            pskId=credentials.identity,
            pskStore={credentials.identity: credentials.key},
        )

    # -- set up -------------------------------------------------------------------------

    async def handshake(self) -> None:
        """Run the handshake over the attached socket; cancel to abort."""
        loop = asyncio.get_running_loop()
        self._connected = loop.create_future()
        started = time.monotonic()
        self._session = self._dtls.connect(SENTINEL_HOST, SENTINEL_PORT)
        if not self._session:
            raise DtlsHandshakeError("tinydtls could not start a handshake")
        self._schedule_poll()
        try:
            await self._connected
        finally:
            self._cancel_poll()
        self.handshake_seconds = time.monotonic() - started

    def _schedule_poll(self) -> None:
        loop = asyncio.get_running_loop()
        self._poll = loop.call_later(RETRANSMIT_POLL, self._check_retransmit)

    def _cancel_poll(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def _check_retransmit(self) -> None:
        self._poll = None
        if self._dtls is None or self._connected is None or self._connected.done():
            return
        self._dtls.checkRetransmit()
        self._schedule_poll()

    # -- tinydtls callbacks -------------------------------------------------------------

    def _plaintext(self, sender: Any, data: bytes) -> int:
        self._protocol.datagram_received(data, self._server)
        return len(data)

    def _record(self, recipient: Any, data: bytes) -> int:
        udp = self._udp
        if udp is None or udp.is_closing():
            return 0
        udp.sendto(data)
        self.records_out += 1
        return len(data)

    def _event(self, level: int, code: int) -> None:
        if code == EVENT_CONNECTED:
            self._established = True
            if self._connected is not None and not self._connected.done():
                self._connected.set_result(None)
        elif level == LEVEL_FATAL or (level == LEVEL_WARNING and code == ALERT_CLOSE_NOTIFY):
            if not self._established:  # the handshake fails now, not when its timeout runs out
                said = alert_received(code)
                message = f"DTLS handshake with {self.peer_label()}: {said}"
                self.fail(DtlsHandshakeError(message, said))
                return
            reason = (
                "close_notify" if code == ALERT_CLOSE_NOTIFY else f"fatal alert {alert_name(code)}"
            )
            self.fail(DtlsHandshakeError(f"DTLS session with {self.peer_label()} ended: {reason}"))

    def peer_label(self) -> str:
        return f"{self._server[0]}:{self._server[1]} as {self._identity.decode(errors='replace')!r}"

    def fail(self, error: DtlsError) -> None:
        """The session is gone: a handshake in progress fails, later sends are dropped."""
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(error)
        elif self.lost is None and not self._closing:
            self.lost = str(error)
            if self._on_lost is not None:
                self._on_lost(self.lost)

    def record_received(self, data: bytes) -> None:
        """A DTLS record from the server (called by the UDP protocol)."""
        if self._dtls is None or self._session is None:
            return
        self.records_in += 1
        self._dtls.handleMessage(self._session, data)

    # -- asyncio.DatagramTransport ------------------------------------------------------

    def sendto(self, data: Any, addr: Any = None) -> None:
        """Encrypt one CoAP datagram for the server (``addr`` is always the server)."""
        if self._closing or self._dtls is None or self._session is None or self.lost:
            return
        self._dtls.write(self._session, bytes(data))

    def close(self, notify: bool = True) -> None:
        """Send close_notify (best effort; not with ``notify=False``), drop the session,
        close the socket."""
        if self._closing:
            return
        self._closing = True
        self._cancel_poll()
        if self._connected is not None and not self._connected.done():
            self._connected.cancel()
        if not notify and self._udp is not None:
            self._udp.close()  # first: tinydtls's resetPeer would send close_notify too
        if self._dtls is not None and self._session is not None:
            if notify and self._established and self.lost is None:
                with contextlib.suppress(Exception):  # tinydtls raises if the peer is gone
                    self._dtls.close(self._session)  # close_notify: the server frees its session
            self._dtls.resetPeer(self._session)
        self._session = None
        self._dtls = None
        if self._udp is not None:
            self._udp.close()
        self._protocol.connection_lost(None)

    def __repr__(self) -> str:
        return f"<DtlsClientTransport {self.peer_label()}>"


async def open_dtls_client(
    host: str,
    server: Address,
    credentials: PskCredentials,
    *,
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    clock: Clock | None = None,
    on_lost: Callable[[str], None] | None = None,
    **endpoint_options: Any,
) -> DtlsClient:
    """Bind a UDP socket on ``host``, handshake with ``server`` and return the endpoint on it.

    ``endpoint_options`` go to :class:`CoapEndpoint` (handler, params, limits, rng, on_cancel).
    ``on_lost(reason)`` hears when the established session ends (close_notify or a fatal
    alert from the server): from then on datagrams are dropped and the device must re-handshake.
    The timeout runs on ``clock`` (default: the loop). Raises :class:`DtlsHandshakeError`
    (nothing stays open), :class:`DtlsUnavailable` or :class:`BindError`.
    """
    endpoint = DtlsEndpoint(clock=clock, **endpoint_options)
    transport = DtlsClientTransport(server, credentials, endpoint, on_lost)
    return await open_secure_client(
        host,
        server,
        endpoint,
        transport,
        handshake_timeout=handshake_timeout,
        clock=clock,
        timeout_hint="wrong key or identity, or no DTLS server there",
    )

"""What every DTLS client session shares, whichever library runs it: open, handshake, abort.

A :class:`SecureClientTransport` looks like an ``asyncio.DatagramTransport`` to the
endpoint (plaintext CoAP datagrams in through ``sendto``, out through the
endpoint's ``datagram_received``) while the UDP socket under it, connected to the
server, carries DTLS records. :func:`open_secure_client` binds that socket,
handshakes within a bounded time measured on the injected :class:`fleet.clock.Clock`
and returns a :class:`DtlsClient`; :class:`DtlsEndpoint` is the endpoint on it, whose
:meth:`~DtlsEndpoint.abort` drops the session without a word (a network flap).
The PSK transport (:mod:`fleet.client.coap.dtls`, tinydtls) and the certificate one
(:mod:`fleet.client.coap.dtls_x509`, OpenSSL) both build on it.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.client.coap.dtls_errors import HANDSHAKE_TIMEOUT, DtlsHandshakeError
from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.errors import BindError
from fleet.client.coap.wire import Address
from fleet.clock import Clock, LoopClock, TimerHandle


class SecureClientTransport(asyncio.DatagramTransport):
    """A DTLS client session under an endpoint (see the module docstring): the state and
    the ``asyncio.DatagramTransport`` face both libraries' sessions share."""

    def __init__(
        self,
        server: Address,
        protocol: asyncio.DatagramProtocol,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self._server = server
        self._protocol = protocol
        self._on_lost = on_lost
        self._udp: asyncio.DatagramTransport | None = None
        self._connected: asyncio.Future[None] | None = None
        self._closing = False
        self._established = False
        self.lost: str | None = None
        """Why the established session ended (close_notify, fatal alert), ``None`` while up."""
        self.handshake_seconds: float | None = None
        """Wall time the handshake took (monotonic), once it completed."""
        self.records_in = 0
        self.records_out = 0

    def attach(self, udp: asyncio.DatagramTransport) -> None:
        """The UDP transport (connected to the server) that carries the records."""
        self._udp = udp

    async def handshake(self) -> None:
        """Run the handshake over the attached socket; cancel to abort."""
        raise NotImplementedError

    def record_received(self, data: bytes) -> None:
        """A DTLS record (datagram) from the server."""
        raise NotImplementedError

    def socket_error(self, error: Exception) -> None:
        """ICMP errors fail a handshake in progress at once (port unreachable: no server);
        afterwards they are ignored like on plain UDP (CoAP retransmission decides)."""
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(
                DtlsHandshakeError(f"DTLS handshake with {self.peer_label()}: {error}")
            )

    def peer_label(self) -> str:
        """``host:port as <identity>`` for messages (never a key)."""
        raise NotImplementedError

    def close(self, notify: bool = True) -> None:
        """End the session (close_notify unless ``notify=False``) and close the socket."""
        raise NotImplementedError

    def abort(self) -> None:
        """Close without close_notify: the server keeps the stale session until it drops it."""
        self.close(notify=False)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._server
        if self._udp is not None:
            return self._udp.get_extra_info(name, default)
        return default

    def is_closing(self) -> bool:
        return self._closing


def weak_callback(owner: object, name: str, dead: Any) -> Callable[..., Any]:
    """A callback for a C library calling ``owner.name(...)`` that does not keep ``owner``
    alive (no reference cycle through the library); ``dead`` once ``owner`` is gone."""
    ref = weakref.ref(owner)

    def callback(*args: Any) -> Any:
        target = ref()
        return dead if target is None else getattr(target, name)(*args)

    return callback


class _Udp(asyncio.DatagramProtocol):
    """The UDP socket under one DTLS session: feeds records to its owner (held weakly)."""

    __slots__ = ("owner",)

    def __init__(self, owner: SecureClientTransport) -> None:
        self.owner = weakref.ref(owner)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        owner = self.owner()
        if owner is not None:
            owner.record_received(data)

    def error_received(self, exc: Exception) -> None:
        owner = self.owner()
        if owner is not None:
            owner.socket_error(exc)


class DtlsEndpoint(CoapEndpoint):
    """The endpoint of a DTLS client: :meth:`close` ends the session with close_notify,
    :meth:`abort` without (a device that vanishes: network flap, lost session)."""

    __slots__ = ()

    def abort(self) -> None:
        """Close the endpoint and drop the session without telling the server."""
        transport = self._transport
        if isinstance(transport, SecureClientTransport):
            transport.abort()  # its connection_lost closes this endpoint
        self.close()


@dataclass(slots=True)
class DtlsClient:
    """A device's endpoint over an established DTLS session."""

    endpoint: DtlsEndpoint
    transport: SecureClientTransport

    @property
    def handshake_seconds(self) -> float:
        seconds = self.transport.handshake_seconds
        return seconds if seconds is not None else 0.0

    def close(self) -> None:
        self.endpoint.close()


async def open_secure_client(
    host: str,
    server: Address,
    endpoint: DtlsEndpoint,
    transport: SecureClientTransport,
    *,
    handshake_timeout: float,
    clock: Clock | None,
    timeout_hint: str,
) -> DtlsClient:
    """Bind a UDP socket on ``host`` connected to ``server``, handshake, return the client.

    The timeout runs on ``clock`` (default: the loop); running out raises
    :class:`DtlsHandshakeError` naming ``timeout_hint`` (the likely causes). Nothing
    stays open when it raises (:class:`DtlsHandshakeError` or :class:`BindError`).
    """
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        udp, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(transport), local_addr=(host, 0), remote_addr=server, family=family
        )
    except OSError as error:
        raise BindError(error.errno, f"cannot open a UDP socket to {server}: {error}") from error
    transport.attach(udp)
    endpoint.connection_made(transport)
    attempt = asyncio.ensure_future(transport.handshake())

    def give_up() -> None:
        if not attempt.done():
            attempt.cancel()

    timing: Clock = clock if clock is not None else LoopClock(loop)
    timer: TimerHandle = timing.call_at(timing.now() + handshake_timeout, give_up)
    try:
        await attempt
    except asyncio.CancelledError:
        transport.close()
        if attempt.cancelled() and not _current_cancelled():
            raise DtlsHandshakeError(
                f"DTLS handshake with {transport.peer_label()}: {HANDSHAKE_TIMEOUT} after "
                f"{handshake_timeout:g} s, no alert ({timeout_reason(transport, timeout_hint)})",
                HANDSHAKE_TIMEOUT,
            ) from None
        raise
    except BaseException:
        transport.close()
        raise
    finally:
        timer.cancel()
    return DtlsClient(endpoint, transport)


def timeout_reason(transport: SecureClientTransport, hint: str) -> str:
    """Why a handshake timed out, as far as the records tell: a server that answered the
    hello but never finished (a wrong PSK key: tinydtls drops the Finished it cannot
    decrypt, without an alert), or one that never answered at all."""
    if transport.records_in == 0:
        return "no answer at all: no DTLS server there, or the datagrams are lost"
    return f"the server answered the hello but not our Finished: {hint}"


def _current_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


OnLost = Callable[[str], None]
"""``on_lost(reason)``: the established session ended under the device."""

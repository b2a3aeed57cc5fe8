"""``CoapEndpoint``: one UDP socket speaking CoAP in both roles (RFC 7252, 7641, 7959).

This is what a virtual device and the embedded LwM2M server stand on: a lean
message layer on top of aiocoap's ``Message`` encoding, without aiocoap's
``Context``. Create one with :meth:`CoapEndpoint.bind`; port 0 gives each
endpoint its own port (no SO_REUSEPORT). Server role: the ``handler`` answers
requests, :meth:`notify` feeds observers. Client role: :meth:`request` and
:meth:`observe`. Timers come from the injected :class:`fleet.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass

from fleet.client.coap.client import ClientRole
from fleet.client.coap.errors import BindError
from fleet.client.coap.params import (
    DEFAULT_LIMITS,
    DEFAULT_PARAMETERS,
    EndpointLimits,
    TransmissionParameters,
)
from fleet.client.coap.results import CancelCallback, Handler
from fleet.client.coap.wire import Address
from fleet.clock import Clock
from fleet.device.randomness import Rng

_log = logging.getLogger("fleet.coap")


def set_receive_buffer(
    sock: socket.socket, size: int, *, force: bool = False, warn: bool = True
) -> int:
    """Ask for ``size`` bytes of UDP receive buffer; return what the kernel granted.

    A burst of datagrams larger than the buffer is dropped by the kernel before the
    endpoint sees it (the senders then retransmit after CoAP's ACK timeout, 2-3 s), so a
    server for a fleet wants a few MiB. Linux caps the request at ``net.core.rmem_max``;
    with ``force`` a process allowed to (CAP_NET_ADMIN) goes past the cap
    (``SO_RCVBUFFORCE``); a warning (unless ``warn`` is false) says when it got less.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    granted = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    forcing = getattr(socket, "SO_RCVBUFFORCE", None)
    if granted < size and force and forcing is not None:
        with contextlib.suppress(OSError):  # not allowed: keep what SO_RCVBUF gave
            sock.setsockopt(socket.SOL_SOCKET, forcing, size)
            granted = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    if granted < size and warn:  # Linux reports twice what it grants for bookkeeping
        _log.warning(
            "UDP receive buffer: asked for %d bytes, the kernel granted %d "
            "(raise net.core.rmem_max for bursts of many devices)",
            size,
            granted,
        )
    return granted


@dataclass(frozen=True, slots=True)
class EndpointStats:
    """Counters of one endpoint, for metrics."""

    duplicates: int
    """Duplicate messages seen (answered from the cache or dropped)."""
    dedup_size: int
    """Entries in the deduplication cache now."""
    dedup_evicted: int
    """Entries dropped because the cache was full (not by age)."""
    retransmissions: int
    timeouts: int
    """Confirmable messages given up after MAX_RETRANSMIT retransmissions."""
    resets: int
    """RST messages received."""
    malformed: int
    """Datagrams rejected or dropped as malformed or unprocessable."""
    handler_errors: int
    """Handler exceptions (other than Lwm2mError) answered with 5.00."""
    outstanding: int
    """Confirmable messages awaiting an ACK now."""
    exchanges: int
    """Requests and observations waiting for responses now."""
    observers: int
    """Observations served now (server role)."""
    ignored: int = 0
    """Datagrams ignored while the endpoint was asleep (queue mode)."""
    foreign: int = 0
    """Datagrams ignored because they came from none of the endpoint's ``peers``."""


class CoapEndpoint(ClientRole):
    """One UDP socket, both CoAP roles. Create with :meth:`bind`.

    Constructing it directly and calling ``connection_made(transport)`` attaches it to
    any datagram transport (tests use a fake one); ``datagram_received`` feeds it.
    """

    __slots__ = ()

    @classmethod
    async def bind(
        cls,
        host: str,
        port: int = 0,
        *,
        handler: Handler | None = None,
        clock: Clock | None = None,
        params: TransmissionParameters = DEFAULT_PARAMETERS,
        limits: EndpointLimits = DEFAULT_LIMITS,
        rng: Rng | None = None,
        on_cancel: CancelCallback | None = None,
        receive_buffer: int | None = None,
        report_unreachable: bool = False,
    ) -> CoapEndpoint:
        """Open a UDP socket on ``(host, port)`` (numeric IPv4 or IPv6 address).

        ``handler`` answers requests (``None``: every request gets 4.04);
        ``clock`` drives every timer (default: the running loop); ``rng`` draws
        retransmission timeouts, the first message id and token (default: one
        generator shared by all endpoints); ``on_cancel(remote, token)`` hears
        about observations the peer ended; ``receive_buffer`` asks the kernel for that
        many bytes of receive buffer (a server facing bursts from thousands of devices:
        :func:`set_receive_buffer`); ``report_unreachable``: an ICMP port unreachable ends
        the exchange at once with :class:`~fleet.client.coap.errors.CoapUnreachable` (a
        device facing a server that is down). Raises :class:`BindError`.
        """
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as error:
            raise BindError(error.errno, f"cannot create a UDP socket: {error.strerror}") from error
        try:
            sock.setblocking(False)
            if receive_buffer is not None:
                set_receive_buffer(sock, receive_buffer)
            sock.bind((host, port))
        except OSError as error:
            sock.close()
            raise BindError(
                error.errno, f"cannot bind UDP {host!r} port {port}: {error.strerror}"
            ) from error
        endpoint = cls(
            handler=handler,
            clock=clock,
            params=params,
            limits=limits,
            rng=rng,
            on_cancel=on_cancel,
        )
        try:
            loop = asyncio.get_running_loop()
            if report_unreachable:
                endpoint.report_unreachable(sock)
            await loop.create_datagram_endpoint(lambda: endpoint, sock=sock)
        except BaseException:
            sock.close()
            raise
        return endpoint

    @property
    def address(self) -> Address:
        """``(host, port)`` this endpoint is bound to."""
        return self._address

    def stats(self) -> EndpointStats:
        """A snapshot of this endpoint's counters."""
        dedup = self._dedup
        return EndpointStats(
            duplicates=dedup.duplicates if dedup is not None else 0,
            dedup_size=len(dedup) if dedup is not None else 0,
            dedup_evicted=dedup.evicted if dedup is not None else 0,
            retransmissions=self._retransmissions,
            timeouts=self._timeouts,
            resets=self._resets,
            malformed=self._malformed,
            handler_errors=self.handler_errors,
            outstanding=len(self._outstanding) if self._outstanding else 0,
            exchanges=len(self._exchanges) if self._exchanges else 0,
            observers=self.observer_count,
            ignored=self._ignored,
            foreign=self._foreign,
        )

    def __repr__(self) -> str:
        host, port = self._address
        state = " closed" if self._closed else ""
        return f"<CoapEndpoint {host}:{port}{state}>"

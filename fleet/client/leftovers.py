"""De-register on behalf of a device that is gone: a ``fleet run`` worker killed with -9.

A device de-registers itself (``DELETE <location>``, :mod:`fleet.client.registrar`).
When its process dies without a word (SIGKILL, the OOM killer), the registration stays
on the server until its lifetime ends. The parent of ``fleet run --workers N`` knows
each device's server and registration location (the workers stream them, see
:mod:`fleet.runner.handover`) and sends the De-register itself, from a socket of its
own: a :class:`Deregistrar` opens one endpoint per local address (loopback for a
loopback server, else the family's wildcard, :func:`~fleet.client.config.default_bind_host`)
and sends each ``DELETE`` confirmable, bounded by ``timeout``.

Only a NoSec (``coap://``) registration can be ended that way: its only context is the
address, and LwM2M servers accept a NoSec request from a new address (NAT rebinding;
the embedded server logs and counts it, ``docs/security.md``). A ``coaps://``
registration is bound to the device's DTLS session (LwM2M 1.1 Core §7), which died with
it: the server refuses a De-register from anybody else, so those are left to expire.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Final

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.errors import CoapError
from fleet.client.coap.wire import Address, Message
from fleet.client.config import default_bind_host
from fleet.clock import Clock

DELETE: Final = 4
DELETED, NOT_FOUND = 66, 132


class Outcome(Enum):
    """What came of one De-register sent on a device's behalf."""

    DELETED = "de-registered"
    """2.02: the server ended the registration."""
    GONE = "already gone"
    """4.04: the server held no such registration (it expired, or the device's own
    De-register got through)."""
    REFUSED = "refused"
    """Another code: the server kept the registration."""
    UNANSWERED = "not answered"
    """No answer within the timeout (or the socket failed)."""


def outcome_of(code: int) -> Outcome:
    """The outcome of a De-register answered with the CoAP ``code`` (a pure mapping)."""
    if code == DELETED:
        return Outcome.DELETED
    if code == NOT_FOUND:
        return Outcome.GONE
    return Outcome.REFUSED


class Deregistrar:
    """Sends De-registers for registrations whose device is gone (see the module doc).

    ``await sender.deregister(server, location)`` for each; the endpoints open on first use
    and :meth:`close` closes them."""

    def __init__(self, *, clock: Clock | None = None, timeout: float = 10.0) -> None:
        self.clock = clock
        self.timeout = timeout
        """Seconds one De-register may take (retransmissions included)."""
        self._endpoints: dict[str, CoapEndpoint] = {}
        self._opening = asyncio.Lock()

    def close(self) -> None:
        endpoints, self._endpoints = self._endpoints, {}
        for endpoint in endpoints.values():
            endpoint.close()

    async def _endpoint(self, server: Address) -> CoapEndpoint:
        host = default_bind_host(server[0])
        async with self._opening:  # De-registers run concurrently: one socket per host
            endpoint = self._endpoints.get(host)
            if endpoint is None or endpoint.closed:
                endpoint = await CoapEndpoint.bind(host, 0, clock=self.clock)
                self._endpoints[host] = endpoint
        return endpoint

    async def deregister(self, server: Address, location: str) -> Outcome:
        """``DELETE location`` at ``server`` (``location``: ``/rd/5a3f``)."""
        message = Message(code=DELETE, uri_path=tuple(p for p in location.split("/") if p))
        try:
            endpoint = await self._endpoint(server)
            response = await endpoint.request(message, server, timeout=self.timeout)
        except (CoapError, OSError):
            return Outcome.UNANSWERED
        return outcome_of(int(response.code))


__all__ = ["Deregistrar", "Outcome", "outcome_of"]

"""Errors of the CoAP message layer, all :class:`fleet.errors.FleetError` subclasses.

They describe what happened to an exchange on the wire (no answer, a Reset, a
block-wise transfer that could not be completed, an endpoint that was closed),
never an LwM2M outcome: a response with an error code is a normal response.
"""

from __future__ import annotations

from fleet.errors import FleetError


class CoapError(FleetError):
    """Root of the transport errors raised by :mod:`fleet.client.coap`."""


class CoapTimeout(CoapError, TimeoutError):
    """No answer in time: retransmissions exhausted, or the overall timeout ran out."""


class CoapReset(CoapError):
    """The peer answered our message with a Reset (RST): it could not process it."""


class EndpointClosed(CoapError):
    """The endpoint was closed while the exchange was still waiting, or before it started."""


class BlockwiseError(CoapError):
    """A block-wise transfer could not be completed (too large, changed, or malformed)."""


class BindError(CoapError, OSError):
    """The endpoint's socket could not be created or bound (ports or file descriptors ran out,
    address not available); ``errno`` is the operating system's."""


class CoapUnreachable(CoapError):
    """The network said no at once: an ICMP port (host, network) unreachable came back for
    our message (:mod:`fleet.client.coap.unreachable`). ``reason``: ``"port unreachable"``..."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

"""A lean CoAP message layer (RFC 7252, 7641, 7959) over aiocoap's ``Message`` encoding.

Thousands of endpoints per process: one UDP socket each, no task or timer
while idle, bounded deduplication. See :class:`CoapEndpoint`.
"""

from fleet.client.coap.endpoint import CoapEndpoint, EndpointStats
from fleet.client.coap.errors import (
    BindError,
    BlockwiseError,
    CoapError,
    CoapReset,
    CoapTimeout,
    CoapUnreachable,
    EndpointClosed,
)
from fleet.client.coap.observe import Observation, is_fresh
from fleet.client.coap.params import EndpointLimits, TransmissionParameters
from fleet.client.coap.results import NO_REPLY, CancelCallback, Duplicate, Handler, NoReply
from fleet.client.coap.wire import Address, IncomingRequest, Response

__all__ = [
    "NO_REPLY",
    "Address",
    "BindError",
    "BlockwiseError",
    "CancelCallback",
    "CoapEndpoint",
    "CoapError",
    "CoapReset",
    "CoapTimeout",
    "CoapUnreachable",
    "Duplicate",
    "EndpointClosed",
    "EndpointLimits",
    "EndpointStats",
    "Handler",
    "IncomingRequest",
    "NoReply",
    "Observation",
    "Response",
    "TransmissionParameters",
    "is_fresh",
]

"""The LwM2M client over CoAP: the message layer (:mod:`fleet.client.coap`) and what builds on it.

The only package (with ``testing/`` and ``server/``) that imports aiocoap.
"""

from fleet.client.coap import (
    CoapEndpoint,
    CoapError,
    CoapReset,
    CoapTimeout,
    EndpointLimits,
    Observation,
    TransmissionParameters,
)

__all__ = [
    "CoapEndpoint",
    "CoapError",
    "CoapReset",
    "CoapTimeout",
    "EndpointLimits",
    "Observation",
    "TransmissionParameters",
]

"""The LwM2M client over CoAP: the message layer (:mod:`fleet.client.coap`) and the virtual device.

The only package (with ``testing/`` and ``server/``) that imports aiocoap.

- :class:`Device` (:mod:`fleet.client.device`): one virtual device, configured by a
  :class:`DeviceConfig` (:mod:`fleet.client.config`); devices of one layout share a
  :class:`DeviceProfile`;
- :mod:`fleet.client.site` maps requests to LwM2M operations (:mod:`fleet.client.operations`);
- :mod:`fleet.client.registrar` drives the Registration interface with the rules of
  :mod:`fleet.client.registration`;
- :mod:`fleet.client.observations` serves Observe, :mod:`fleet.client.send` the Send operation;
- :mod:`fleet.client.events`: what a device reports to its listeners.
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
from fleet.client.config import (
    ConfigError,
    DeviceConfig,
    DeviceProfile,
    parse_server_uri,
    profile_for,
)
from fleet.client.device import Device
from fleet.client.events import (
    ClientEvent,
    ClientListener,
    Deregistered,
    NotificationSent,
    ObservationEnded,
    Operation,
    Registered,
    RegistrationFailed,
    RequestServed,
    SendDone,
    Updated,
)
from fleet.client.registration import RegistrationParams, RegistrationState, RetryPolicy
from fleet.client.send import SendNotAllowed

__all__ = [
    "ClientEvent",
    "ClientListener",
    "CoapEndpoint",
    "CoapError",
    "CoapReset",
    "CoapTimeout",
    "ConfigError",
    "Deregistered",
    "Device",
    "DeviceConfig",
    "DeviceProfile",
    "EndpointLimits",
    "NotificationSent",
    "Observation",
    "ObservationEnded",
    "Operation",
    "Registered",
    "RegistrationFailed",
    "RegistrationParams",
    "RegistrationState",
    "RequestServed",
    "RetryPolicy",
    "SendDone",
    "SendNotAllowed",
    "TransmissionParameters",
    "Updated",
    "parse_server_uri",
    "profile_for",
]

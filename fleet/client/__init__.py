"""The LwM2M client over CoAP: the message layer (:mod:`fleet.client.coap`) and the virtual device.

The only package (with ``testing/`` and ``server/``) that imports aiocoap.

- :class:`Device` (:mod:`fleet.client.device`): one virtual device, configured by a
  :class:`DeviceConfig` (:mod:`fleet.client.config`); devices of one layout share a
  :class:`DeviceProfile`;
- :mod:`fleet.client.site` maps requests to LwM2M operations (:mod:`fleet.client.operations`);
- :mod:`fleet.client.registrar` drives the Registration interface with the rules of
  :mod:`fleet.client.registration`;
- :mod:`fleet.client.observations` serves Observe, :mod:`fleet.client.send` the Send operation;
- :mod:`fleet.client.queue`: queue mode (binding UQ): sleeping, waking, stored notifications;
- :mod:`fleet.client.site` ``Verdict`` / :mod:`fleet.client.uplink`: the seams faults plug into
  (requests from the server, and the device's own Register / Update / De-register);
- :mod:`fleet.client.transport` opens a device's endpoint (UDP, or DTLS-PSK for ``coaps://``);
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
    profile_for,
)
from fleet.client.device import Device
from fleet.client.events import (
    ClientEvent,
    ClientListener,
    Deregistered,
    Handshake,
    NotificationSent,
    ObservationEnded,
    Operation,
    Registered,
    RegistrationFailed,
    RequestServed,
    Retransmitted,
    SendDone,
    Slept,
    Updated,
    Woke,
)
from fleet.client.registration import RegistrationParams, RegistrationState, RetryPolicy
from fleet.client.send import SendNotAllowed
from fleet.client.site import Interceptor, Verdict
from fleet.client.uplink import UplinkInterceptor
from fleet.client.uri import ServerUri, UnresolvedName, UriError, parse_uri, resolve

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
    "Handshake",
    "Interceptor",
    "NotificationSent",
    "Observation",
    "ObservationEnded",
    "Operation",
    "Registered",
    "RegistrationFailed",
    "RegistrationParams",
    "RegistrationState",
    "RequestServed",
    "Retransmitted",
    "RetryPolicy",
    "SendDone",
    "SendNotAllowed",
    "ServerUri",
    "Slept",
    "TransmissionParameters",
    "UnresolvedName",
    "Updated",
    "UplinkInterceptor",
    "UriError",
    "Verdict",
    "Woke",
    "parse_uri",
    "profile_for",
    "resolve",
]

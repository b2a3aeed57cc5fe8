"""The embedded LwM2M server: registration directory, device management, observations.

Start one with :meth:`Lwm2mServer.start`; see :mod:`fleet.server.server` for a tour.
"""

from fleet.server.directory import Directory, Registration
from fleet.server.errors import (
    DeviceError,
    DeviceReset,
    DeviceTimeout,
    InsecureRoute,
    InvalidRequest,
    NoModel,
    RequestFailed,
    ServerClosed,
    ServerError,
    TransferFailed,
    UnknownEndpoint,
)
from fleet.server.events import EventKind, EventStream, ServerCounters, ServerEvent
from fleet.server.hooks import DEVICE_INFO_PATHS, read_on_register
from fleet.server.inbound import OnRegister
from fleet.server.observations import ObservationHandle
from fleet.server.records import DeviceInfo, DeviceRecord, RegisteredObjects
from fleet.server.results import Notification, Operation, Result
from fleet.server.server import SERVER_LIMITS, Lwm2mServer

__all__ = [
    "DEVICE_INFO_PATHS",
    "SERVER_LIMITS",
    "DeviceError",
    "DeviceInfo",
    "DeviceRecord",
    "DeviceReset",
    "DeviceTimeout",
    "Directory",
    "EventKind",
    "EventStream",
    "InsecureRoute",
    "InvalidRequest",
    "Lwm2mServer",
    "NoModel",
    "Notification",
    "ObservationHandle",
    "OnRegister",
    "Operation",
    "RegisteredObjects",
    "Registration",
    "RequestFailed",
    "Result",
    "ServerClosed",
    "ServerCounters",
    "ServerError",
    "ServerEvent",
    "TransferFailed",
    "UnknownEndpoint",
    "read_on_register",
]

"""What every driver on a device's endpoint needs from the device (:class:`EndpointHost`).

The registrar, Send and queue mode each describe their device as a Protocol extending
this one, so a test double or another device class knows the common part once.
"""

from __future__ import annotations

from typing import Protocol

from fleet.client.coap.endpoint import CoapEndpoint
from fleet.client.coap.wire import Address
from fleet.client.events import ClientEvent
from fleet.clock import Clock


class EndpointHost(Protocol):
    """What every driver talking through a device's endpoint needs (registrar, Send, queue)."""

    @property
    def name(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def endpoint(self) -> CoapEndpoint | None: ...

    @property
    def server_address(self) -> Address: ...

    @property
    def exchange_timeout(self) -> float | None: ...

    @property
    def listening(self) -> bool: ...

    def emit(self, event: ClientEvent) -> None: ...

"""What the registrar needs from its device (:class:`RegistrationHost`), as a Protocol."""

from __future__ import annotations

from typing import Protocol

from fleet.client.coap.params import TransmissionParameters
from fleet.client.coap.wire import Address
from fleet.client.hosts import EndpointHost
from fleet.client.registration import RegistrationParams, RetryPolicy
from fleet.client.site import Verdict


class RegistrationHost(EndpointHost, Protocol):
    """What the registrar needs from its device."""

    @property
    def transmission(self) -> TransmissionParameters:
        """The CoAP transmission parameters (how long an unanswered exchange lasts)."""
        ...

    async def connect(self) -> None:
        """Open the socket (and secure session) when there is none; raises on failure."""
        ...

    async def server_forgot(self) -> None:
        """An Update was answered 4.04: look the server's name up again before the fresh
        Register (it may have moved); raises :class:`~fleet.client.uri.UnresolvedName`."""
        ...

    def address_failed(self) -> Address | None:
        """The server did not answer at its current address: move to its next one and
        return it, or ``None`` when each was tried (:mod:`fleet.client.addresses`)."""
        ...

    @property
    def address_position(self) -> str:
        """Which of the server's addresses is in use (``"address 2 of 2"``)."""
        ...

    def fall_back(self) -> str | None:
        """The server refused the Register's LwM2M version (4.12): take the next version
        configured and return it, or ``None`` when there is none left."""
        ...

    def before_uplink(self, operation: str) -> Verdict | None:
        """``operation`` is about to be sent: wake up; an uplink fault's verdict, if any."""
        ...

    def after_uplink(self, operation: str, ok: bool) -> None:
        """``operation``'s exchange ended (``ok``: the server accepted it)."""
        ...

    def registration_params(self) -> RegistrationParams: ...

    def register_payload(self) -> bytes: ...

    def retry_policy(self) -> RetryPolicy: ...

    def registration_gave_up(self) -> None:
        """The retry policy is exhausted (a device with a Bootstrap-Server bootstraps again)."""
        ...

    def registration_changed(self, registered: bool) -> None:
        """The device became registered (``True``) or lost its registration."""
        ...

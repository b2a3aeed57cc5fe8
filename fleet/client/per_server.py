"""What a device keeps for each LwM2M server it is registered with, written once.

A :class:`~fleet.client.device.Device` (its first server account) and each
:class:`~fleet.client.servers.ServerLink` (a further account) keep, per
server: the Write-Attributes that server set and the observations it holds
(both created on first use: a device nobody observes pays nothing), the
Register parameters and retry policy read from *its* Server object instance
(``/1/y``) with the device's exchange timeout and transmission parameters, and
what a change of that instance's settings does (an Update for a new lifetime or
binding, new default periods for the observations).

:class:`PerServer` is that part as a mixin without slots of its own, so the
per-device memory stays what the classes using it declare; each of them has
``_attributes`` and ``_observations`` slots, a ``registrar``, and says which
Server instance it speaks for (``server_instance``).
"""

from __future__ import annotations

from typing import Protocol

from fleet.client import settings
from fleet.client.coap.params import TransmissionParameters
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig
from fleet.client.observations import ObservationHost, Observations
from fleet.client.registrar import Registrar
from fleet.client.registration import RegistrationParams, RetryPolicy
from fleet.model.path import Path
from fleet.observe import AttributeStore


class PerServerHost(ObservationHost, Protocol):
    """What :class:`PerServer` needs from the class it is mixed into."""

    _attributes: AttributeStore | None
    _observations: Observations | None

    @property
    def config(self) -> DeviceConfig: ...

    @property
    def registrar(self) -> Registrar: ...

    @property
    def server_instance(self) -> int | None:
        """The account's Server object instance as the account names it (``None``: none)."""

    @property
    def instance(self) -> int: ...


class PerServer:
    """Attributes, observations and registration settings of one server account (a mixin).

    Its methods take ``self`` as a :class:`PerServerHost`: the class using it keeps
    the two slots and says which Server instance it speaks for.
    """

    __slots__ = ()

    _attributes: AttributeStore | None
    _observations: Observations | None

    @property
    def instance(self: PerServerHost) -> int:
        """The Server object instance (``/1/y``) of this account (``0`` where none is known)."""
        instance = self.server_instance
        return 0 if instance is None else instance

    @property
    def attributes(self: PerServerHost) -> AttributeStore:
        """This server's Write-Attributes (created on first use)."""
        if self._attributes is None:
            pmin, pmax = settings.default_periods(self.tree, self.config, self.instance)
            self._attributes = AttributeStore(default_pmin=pmin, default_pmax=pmax)
        return self._attributes

    def has_attributes(self: PerServerHost) -> bool:
        return self._attributes is not None

    @property
    def observations(self: PerServerHost) -> Observations:
        """The observations this server holds (created on first use)."""
        if self._observations is None:
            self._observations = Observations(self, limit=self.config.limits.max_observers)
        return self._observations

    def has_observations(self: PerServerHost) -> bool:
        return self._observations is not None and len(self._observations) > 0

    @property
    def exchange_timeout(self: PerServerHost) -> float | None:
        """How long one Register / Update / De-register exchange may take (the device's)."""
        return self.config.exchange_timeout

    @property
    def transmission(self: PerServerHost) -> TransmissionParameters:
        """The device's CoAP transmission parameters, toward every server alike."""
        return self.config.params

    def registration_params(self: PerServerHost) -> RegistrationParams:
        return settings.registration_params(self.tree, self.config, self.instance)

    def register_payload(self: PerServerHost) -> bytes:
        return settings.register_links(self.tree, self.config)

    def retry_policy(self: PerServerHost) -> RetryPolicy:
        return settings.retry_policy(self.tree, self.config, self.instance)

    def _settings_touched(self: PerServerHost, paths: tuple[Path, ...]) -> None:
        """After a change: this instance's lifetime or binding changed -> Update; its
        default periods changed -> new defaults for the attributes and observations."""
        registration, periods = settings.touched_settings(paths, self.instance)
        if registration:
            self.registrar.settings_changed()
        if periods and self._attributes is not None:
            defaults = settings.default_periods(self.tree, self.config, self.instance)
            self._attributes.set_defaults(*defaults)
            if self._observations is not None:
                self._observations.attributes_changed(None)

    def _on_cancel(self: PerServerHost, remote: Address, token: bytes) -> None:
        """The server reset a notification: its observation ends."""
        if self._observations is not None:
            self._observations.cancel(remote, token, "reset by the server")

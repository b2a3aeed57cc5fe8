"""What a device does around its bootstrap: when to bootstrap, and whom to register with after.

:class:`DeviceBootstrap` is the part of :class:`~fleet.client.device.Device` that the
bootstrap driver (:class:`~fleet.client.bootstrap.driver.Bootstrapper`) and the device's
own events meet in (LwM2M 1.1 Core 6.1, 6.2):

- at power-on (or after a reboot) a device with a Bootstrap-Server bootstraps first when
  no LwM2M Server account is usable, else registers with the accounts it keeps (the
  first itself, the others as :mod:`fleet.client.servers` links);
- after an accepted Bootstrap-Finish it leaves its old registrations and registers with
  every account written; ``/1/x/9`` (Bootstrap-Request Trigger) bootstraps at once;
- when every Register failed it falls back to bootstrap (``/1/x/16``) unless another
  server still has it registered;
- requests from the Bootstrap-Server's address are the bootstrap site's.

A slot-free mixin: the state is the device's (and the driver's).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fleet.client.bootstrap import rules as bootstrap_rules
from fleet.client.bootstrap.factory import forget_accounts, wants_bootstrap
from fleet.client.bootstrap.fallback import falls_back
from fleet.client.connection import DeviceConnection
from fleet.client.registration import RegistrationState

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from fleet.client.servers import ServerLinks


class DeviceBootstrap(DeviceConnection):
    """The bootstrap side of one device (see the module docstring; a base of ``Device``)."""

    __slots__ = ()

    links: ServerLinks

    if TYPE_CHECKING:

        def spawn(self, work: Coroutine[Any, Any, None]) -> None: ...

    def begin(self, *, rebooted: bool = False) -> None:
        """Register, or bootstrap first when a Bootstrap-Server is configured and no LwM2M
        Server account is usable (LwM2M 1.1 Core 6.1); after a reboot what the bootstrap
        wrote is kept, so the device registers with it."""
        if rebooted and self.bootstrap is not None and self.config.bootstrap_forget:
            forget_accounts(self.tree)
        if self.bootstrap is not None and wants_bootstrap(self.tree, self.config):
            self.registrar.state = RegistrationState.STOPPED
            self.bootstrap.start()
            return
        if self.bootstrap is not None:
            first, *others = bootstrap_rules.server_accounts(self.tree)[0]
            self._use(first)
            self.links.start(others)
        self.registrar.start()

    def bootstrapped(self, account: bootstrap_rules.ServerAccount) -> None:
        """Bootstrap-Finish was accepted: leave the old registration, register at ``account``."""
        self.spawn(self._switch(account))

    async def _switch(self, account: bootstrap_rules.ServerAccount) -> None:
        await asyncio.sleep(0)  # the Finish's answer goes out over the old endpoint first
        if self.bootstrap is not None:
            self.bootstrap.report_done(account)
        await self.links.stop("bootstrapped")
        if self.registrar.location is not None:
            await self.registrar.deregister("bootstrapped")
        self.registrar.cancel()
        self._use(account)
        accounts = bootstrap_rules.server_accounts(self.tree)[0]
        self.links.start([a for a in accounts if a != account])  # each server written
        self.registrar.start()

    @property
    def _bootstrapping(self) -> bool:
        return self.bootstrap is not None and self.bootstrap.active

    async def _bootstrap_triggered(self) -> None:
        """/1/x/9 Bootstrap-Request Trigger: leave the server, bootstrap now."""
        await asyncio.sleep(0)  # the Execute's answer goes out first
        if self.bootstrap is None:  # pragma: no cover - only spawned with one
            return
        await self.links.stop("bootstrap requested")
        if self.registrar.location is not None:
            await self.registrar.deregister("bootstrap requested")
        self.registrar.cancel()
        self.registrar.state = RegistrationState.STOPPED
        self.bootstrap.start(hold_off=False)

    def bootstrap_finish(self) -> str | None:
        assert self.bootstrap is not None
        return self.bootstrap.finish()

    def bootstrap_touched(self) -> None:
        assert self.bootstrap is not None
        self.bootstrap.touched()

    def bootstrap_finish_ignored(self) -> None:
        assert self.bootstrap is not None
        self.bootstrap.finish_ignored()

    def registration_gave_up(self) -> None:
        """A server account (this one or a link's) gave up registering: with a
        Bootstrap-Server, bootstrap again once every account failed and one of them
        has /1/x/16 true (:func:`~fleet.client.bootstrap.fallback.falls_back`)."""
        if self.bootstrap is None or self.bootstrap.active:
            return
        accounts = [(self.server_instance, self.registrar.state is RegistrationState.FAILED)]
        accounts += self.links.failures()
        if falls_back(self.tree, accounts):
            self.registrar.state = RegistrationState.STOPPED
            self.bootstrap.fall_back()

    def _from_bootstrap_server(self, remote: Any) -> bool:
        if self.bootstrap is None:
            return False
        account = bootstrap_rules.bootstrap_account(self.tree)
        if account is None:
            return False
        address = (remote[0], remote[1])
        if address != self._bootstrap_address(account):
            return False
        return self.bootstrap.active or address != self._server

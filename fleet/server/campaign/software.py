"""A software campaign (Object 9 Software Management): download, install, activate.

:class:`SoftwareCampaign` runs like a firmware :class:`~.run.Campaign` (the same file
server, concurrency, clock-bound timeouts, outcomes and report) on one instance of
Object 9 (``/9/<instance>``, default 0) of every device:

1. observe ``/9/x``; an instance that is not Initial (an earlier package Delivered or
   Installed) is uninstalled first (Execute ``/9/x/6``), one still downloading is
   ``refused`` (Object 9 has no reset);
2. Write the Package URI ``/9/x/3`` (pull) or the package to ``/9/x/2`` (push, Block1);
3. follow Update State (``/9/x/7``) and Update Result (``/9/x/9``) until Delivered (3):
   a result of 50..57 is ``failed`` (52 connection lost, 53 integrity check failure ...),
   no notification within ``download_timeout`` is ``stalled``;
4. Execute Install ``/9/x/4``, then read the instance (an install may end within the
   Execute): Installed (4, result 2) carries on, result 58 (installation failure) is
   ``failed``; nothing within ``update_timeout`` ``no-return``;
5. with ``activate`` (the default) Execute Activate ``/9/x/10`` and wait for Activation
   State ``/9/x/12`` true;
6. read PkgName and PkgVersion (``/9/x/0``, ``/9/x/1``): the package's version there is
   ``updated``.

The device does not reboot; ``result`` in the outcomes is the Object 9 Update Result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fleet.clock import Clock, wait_for
from fleet.model import Path
from fleet.server.campaign.files import FileServer
from fleet.server.campaign.outcome import DeviceOutcome
from fleet.server.campaign.run import Campaign, CampaignOptions
from fleet.server.observations import ObservationHandle
from fleet.server.results import Notification
from fleet.server.server import Lwm2mServer

SOFTWARE: Final = 9
NAME, VERSION, PACKAGE, PACKAGE_URI, INSTALL, UNINSTALL = 0, 1, 2, 3, 4, 6
STATE, RESULT, ACTIVATE, ACTIVE = 7, 9, 10, 12
INITIAL, DOWNLOAD_STARTED, DOWNLOADED, DELIVERED, INSTALLED = 0, 1, 2, 3, 4
INSTALLED_RESULT, FAILURES = 2, range(50, 60)


class SoftwareCampaign(Campaign):
    """One Object 9 campaign over a set of devices (see the module docstring)."""

    def __init__(
        self,
        server: Lwm2mServer,
        package: bytes,
        *,
        instance: int = 0,
        activate: bool = True,
        name: str = "software.bin",
        uri: str | None = None,
        files: FileServer | None = None,
        options: CampaignOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            server, package, name=name, uri=uri, files=files, options=options, clock=clock
        )
        self.instance = instance
        self.activate = activate
        self._active: dict[str, bool] = {}

    def _path(self, resource: int | None = None) -> Path:
        if resource is None:
            return Path(SOFTWARE, self.instance)
        return Path(SOFTWARE, self.instance, resource)

    @property
    def package_uri_path(self) -> Path:
        return self._path(PACKAGE_URI)

    @property
    def package_path(self) -> Path:
        return self._path(PACKAGE)

    async def _update(self, outcome: DeviceOutcome) -> None:
        server, name, timeout = self.server, outcome.endpoint, self.options.request_timeout
        handle = await server.observe(name, str(self._path()), timeout=timeout)
        try:
            if handle.result is not None:
                self._software_values(outcome, handle.result.values)
            if outcome.state in (DOWNLOAD_STARTED, DOWNLOADED):
                outcome.end("refused", self.clock.now(), "a package is still downloading")
                return
            if outcome.state in (DELIVERED, INSTALLED):
                done = await server.execute(name, str(self._path(UNINSTALL)), timeout=timeout)
                if done.code != "2.04":
                    outcome.end("refused", self.clock.now(), f"uninstall answered {done.code}")
                    return
            outcome.phase = "downloading"
            code = await self._deliver(name)
            if code != "2.04":
                outcome.end("refused", self.clock.now(), f"write answered {code}")
                return
            if not await self._until(outcome, handle, DELIVERED, self.options.download_timeout):
                return
            outcome.phase, outcome.downloaded = "downloaded", self.clock.now()
            if not await self._run(outcome, handle, INSTALL, INSTALLED):
                return
            if self.activate:
                outcome.phase = "activating"
                if not await self._run(outcome, handle, ACTIVATE, None):
                    return
            await self._read_software(outcome)
        finally:
            if handle.active:
                handle.cancel_by_reset()

    async def _run(
        self, outcome: DeviceOutcome, handle: ObservationHandle, resource: int, state: int | None
    ) -> bool:
        """Execute ``resource`` and wait for ``state`` (``None``: Activation State true)."""
        name, timeout = outcome.endpoint, self.options.request_timeout
        if resource == INSTALL:
            outcome.phase = "updating"
        done = await self.server.execute(name, str(self._path(resource)), timeout=timeout)
        if done.code != "2.04":
            outcome.end("refused", self.clock.now(), f"execute {resource} answered {done.code}")
            return False
        # where the instance stands now (notifications of the steps on the way may still come)
        now = await self.server.read(name, str(self._path()), timeout=timeout)
        if now.code == "2.05":
            self._software_values(outcome, now.values)
        if outcome.result in FAILURES:
            outcome.end("failed", self.clock.now())
            return False
        return await self._until(outcome, handle, state, self.options.update_timeout)

    async def _until(
        self,
        outcome: DeviceOutcome,
        handle: ObservationHandle,
        state: int | None,
        seconds: float,
    ) -> bool:
        """Follow the notifications until ``state`` (``None``: active); ``False`` when the
        outcome ended (a failure result, a timeout, the observation gone)."""
        clock = self.clock
        deadline = clock.now() + seconds
        while not self._reached(outcome, state):
            try:
                note = await wait_for(clock, handle.next(), max(0.0, deadline - clock.now()))
            except TimeoutError:
                kind = "stalled" if state == DELIVERED else "no-return"
                outcome.end(kind, clock.now(), f"Update State stayed {outcome.state}")
                return False
            except StopAsyncIteration:
                outcome.end("lost", clock.now(), "the observation ended")
                return False
            self._software_note(outcome, note)
            if outcome.result in FAILURES:
                outcome.end("failed", clock.now())
                return False
        return True

    def _reached(self, outcome: DeviceOutcome, state: int | None) -> bool:
        if state is None:
            return self._active.get(outcome.endpoint, False)
        return outcome.state == state

    async def _read_software(self, outcome: DeviceOutcome) -> None:
        name, timeout = outcome.endpoint, self.options.request_timeout
        version = await self.server.read(name, str(self._path(VERSION)), timeout=timeout)
        outcome.version = str(version.value) if version.code == "2.05" else None
        now = self.clock.now()
        if self.version is None or outcome.version == self.version:
            outcome.phase = "done"
            outcome.end("updated", now)
        else:
            outcome.end("failed", now, f"installed {outcome.version}, not {self.version}")

    def _software_note(self, outcome: DeviceOutcome, note: Notification | None) -> None:
        if note is not None and note.code.startswith("2."):
            self._software_values(outcome, note.values)

    def _software_values(self, outcome: DeviceOutcome, values: Mapping[Path, object]) -> None:
        state, result = values.get(self._path(STATE)), values.get(self._path(RESULT))
        active = values.get(self._path(ACTIVE))
        if isinstance(state, int):
            outcome.state = state
        if isinstance(result, int):
            outcome.result = result
        if isinstance(active, bool):
            self._active[outcome.endpoint] = active

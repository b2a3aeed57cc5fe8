"""A firmware campaign: the server updates a set of devices and records each outcome.

For every device (at most ``concurrency`` at a time): observe ``/5/0``; reset
the machine if it is not Idle; Write the Package URI (pull) or Write the
package itself in Block1 blocks (push); follow the notifications of State and
Update Result; Execute ``/5/0/2`` Update once Downloaded; then wait for the
device to come back (a new Register after its reboot, or, with
``reboot=False``, Update Result 1), read ``/5/0/5`` and ``/3/0/3`` and compare
the firmware version with the package's (our header's ``version``, when the
package has one). Timeouts run on the campaign's clock (the server's
:class:`~fleet.clock.Clock` unless another is given: a
:class:`~fleet.clock.ManualClock` in tests): ``download_timeout`` without any
notification while downloading (a hang: ``stalled``), ``update_timeout`` for
the return after Update (a brick: ``no-return``); outcome times are that
clock's too.

The image is served by a :class:`~.files.FileServer` (started on the server's
host when none is given) or by any file server named with ``uri``
(``coap://`` as the devices support it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fleet.client.coap import BlockwiseError, CoapReset, CoapTimeout, EndpointClosed
from fleet.clock import Clock, wait_for
from fleet.device.firmware.package import read_header
from fleet.errors import FleetError
from fleet.model import Path
from fleet.server.campaign.files import FileServer
from fleet.server.campaign.outcome import CampaignReport, DeviceOutcome
from fleet.server.errors import RequestFailed, UnknownEndpoint
from fleet.server.events import EventKind
from fleet.server.observations import ObservationHandle
from fleet.server.requests import PUT, build_request
from fleet.server.results import Notification
from fleet.server.server import Lwm2mServer

PACKAGE, PACKAGE_URI, STATE, RESULT = Path(5, 0, 0), Path(5, 0, 1), Path(5, 0, 3), Path(5, 0, 5)
OPAQUE: Final = 42
IDLE, DOWNLOADING, DOWNLOADED, UPDATING = 0, 1, 2, 3
CHANGED: Final = 68  # 2.04
_FAILURES = (RequestFailed, UnknownEndpoint, FleetError, TimeoutError, StopAsyncIteration)


@dataclass(frozen=True, slots=True)
class CampaignOptions:
    """How a campaign runs (see the module docstring); timeouts in clock seconds."""

    push: bool = False
    concurrency: int = 200
    download_timeout: float = 600.0
    update_timeout: float = 120.0
    request_timeout: float | None = 30.0
    reboot: bool = True
    """Whether devices reboot after the update (then success is their new Register)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not (self.download_timeout > 0 and self.update_timeout > 0):
            raise ValueError("timeouts must be positive")


class Campaign:
    """One firmware campaign over a set of devices (see the module docstring)."""

    def __init__(
        self,
        server: Lwm2mServer,
        package: bytes,
        *,
        name: str = "firmware.bin",
        uri: str | None = None,
        files: FileServer | None = None,
        options: CampaignOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.server = server
        self.clock: Clock = clock if clock is not None else server.clock
        """What the timeouts and outcome times run on (default: the server's clock)."""
        self.package = bytes(package)
        self.name = name
        self.options = options if options is not None else CampaignOptions()
        header = read_header(self.package)
        self.version: str | None = header.version if header is not None else None
        """The version the package announces (``None``: a headerless image)."""
        self._uri = uri
        self._files = files
        self._own_files = False
        self.outcomes: dict[str, DeviceOutcome] = {}
        self._began: float | None = None
        self._ended: float | None = None

    @property
    def uri(self) -> str | None:
        return self._uri

    async def prepare(self) -> None:
        """Serve the image (unless an external ``uri`` was given or the campaign pushes)."""
        if self._uri is not None or self.options.push:
            return
        if self._files is None:
            self._files = await FileServer.start(self.server.address[0])
            self._own_files = True
        self._uri = self._files.add(self.name, self.package)

    async def run(self, endpoints: Iterable[str]) -> CampaignReport:
        """Update every device of ``endpoints``; returns the tally when all have an outcome."""
        names = list(dict.fromkeys(endpoints))
        await self.prepare()
        self._began = self.clock.now()
        gate = asyncio.Semaphore(self.options.concurrency)
        for name in names:
            self.outcomes[name] = DeviceOutcome(name, started=self.clock.now())

        async def one(name: str) -> None:
            async with gate:
                outcome = self.outcomes[name]
                outcome.started = self.clock.now()
                try:
                    await self._update(outcome)
                except Exception as error:  # a device's failure never ends the campaign
                    outcome.end("lost", self.clock.now(), f"{type(error).__name__}: {error}")

        try:
            await asyncio.gather(*(one(name) for name in names))
        finally:
            self._ended = self.clock.now()
            if self._own_files and self._files is not None:
                self._files.close()
                self._files = None
        return self.report()

    def report(self) -> CampaignReport:
        """The tally so far."""
        now = self._ended if self._ended is not None else self.clock.now()
        elapsed = 0.0 if self._began is None else now - self._began
        return CampaignReport.of(list(self.outcomes.values()), len(self.package), elapsed)

    # -- one device ---------------------------------------------------------------------

    async def _update(self, outcome: DeviceOutcome) -> None:
        server, options, name = self.server, self.options, outcome.endpoint
        timeout = options.request_timeout
        handle = await server.observe(name, "/5/0", timeout=timeout)
        try:
            if handle.result is not None:
                self._values(outcome, handle.result.values)
            if outcome.state not in (None, IDLE):
                await server.write(name, "/5/0/1", "", timeout=timeout)
            outcome.phase = "downloading"
            code = await self._deliver(name)
            if code != "2.04":
                outcome.end("refused", self.clock.now(), f"write answered {code}")
                return
            if not await self._until_downloaded(outcome, handle):
                return
            back = server.expect(EventKind.REGISTRATION, endpoint=name)
            try:
                executed = await server.execute(name, "/5/0/2", timeout=timeout)
                if executed.code != "2.04":
                    outcome.end("refused", self.clock.now(), f"execute answered {executed.code}")
                    return
                outcome.phase = "updating"
                await self._until_back(outcome, handle, back)
            finally:
                back.cancel()
        finally:
            if handle.active:
                handle.cancel_by_reset()

    @property
    def package_uri_path(self) -> Path:
        """Where the Package URI is written (``/5/0/1``)."""
        return PACKAGE_URI

    @property
    def package_path(self) -> Path:
        """Where a pushed package is written (``/5/0/0``)."""
        return PACKAGE

    async def _deliver(self, name: str) -> str:
        if not self.options.push:
            assert self._uri is not None
            result = await self.server.write(
                name, str(self.package_uri_path), self._uri, timeout=self.options.request_timeout
            )
            return result.code
        registration = self.server.registration(name)
        if registration is None:
            raise UnknownEndpoint(name)
        target, _, root = self.server._target(name, self.package_path, None)
        message = build_request(PUT, root, target, payload=self.package, content_format=OPAQUE)
        coap = self.server._coap()
        try:
            response = await coap.request(
                message, registration.address, timeout=self.options.request_timeout, block1=True
            )
        except (CoapTimeout, CoapReset, BlockwiseError, EndpointClosed) as error:
            raise FleetError(f"{name}: push failed: {error}") from error
        code = int(response.code)
        return f"{code >> 5}.{code & 31:02d}"

    async def _until_downloaded(self, outcome: DeviceOutcome, handle: ObservationHandle) -> bool:
        while True:
            try:
                note = await wait_for(self.clock, handle.next(), self.options.download_timeout)
            except TimeoutError:
                outcome.end("stalled", self.clock.now(), "no progress while downloading")
                return False
            except StopAsyncIteration:
                outcome.end("lost", self.clock.now(), "the observation ended while downloading")
                return False
            self._note(outcome, note)
            if outcome.result not in (None, 0, 1):
                outcome.end("failed", self.clock.now())
                return False
            if outcome.state == DOWNLOADED:
                outcome.phase = "downloaded"
                outcome.downloaded = self.clock.now()
                return True

    async def _until_back(
        self, outcome: DeviceOutcome, handle: ObservationHandle, back: asyncio.Future[Any]
    ) -> None:
        clock = self.clock
        deadline = clock.now() + self.options.update_timeout
        while not back.done():
            left = deadline - clock.now()
            if left <= 0:
                break
            note_task = asyncio.ensure_future(handle.next()) if handle.active else None
            waiting: set[asyncio.Future[Any]] = {back} if note_task is None else {back, note_task}
            with contextlib.suppress(TimeoutError):
                await wait_for(
                    clock, asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED), left
                )
            if note_task is None or not note_task.done():
                if note_task is not None:
                    note_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, *_FAILURES):
                        await note_task
                continue
            try:
                self._note(outcome, note_task.result())
            except (TimeoutError, StopAsyncIteration):
                continue
            if outcome.result not in (None, 0, 1):
                outcome.end("failed", clock.now())
                return
            if outcome.result == 1 and not self.options.reboot:
                break
        if not back.done() and (self.options.reboot or outcome.result != 1):
            outcome.end("no-return", clock.now(), "did not come back after Update")
            return
        await self._read_back(outcome)

    async def _read_back(self, outcome: DeviceOutcome) -> None:
        server, name, timeout = self.server, outcome.endpoint, self.options.request_timeout
        await wait_for(
            self.clock,
            server.wait_for_registration(name, timeout=None, hooks=True),
            self.options.update_timeout,
        )
        result = await server.read(name, "/5/0/5", timeout=timeout)
        version = await server.read(name, "/3/0/3", timeout=timeout)
        outcome.result = int(result.value) if result.code == "2.05" else None  # type: ignore[arg-type]
        outcome.version = str(version.value) if version.code == "2.05" else None
        now = self.clock.now()
        if outcome.result == 1 and (self.version is None or outcome.version == self.version):
            outcome.phase = "done"
            outcome.end("updated", now)
        elif outcome.result not in (None, 0, 1):
            outcome.end("failed", now)
        else:
            outcome.end("failed", now, f"came back with result {outcome.result}, {outcome.version}")

    @staticmethod
    def _note(outcome: DeviceOutcome, note: Notification | None) -> None:
        if note is None or not note.code.startswith("2."):
            return
        Campaign._values(outcome, note.values)

    @staticmethod
    def _values(outcome: DeviceOutcome, values: Mapping[Path, object]) -> None:
        state, result = values.get(STATE), values.get(RESULT)
        if isinstance(state, int):
            outcome.state = state
        if isinstance(result, int):
            outcome.result = result

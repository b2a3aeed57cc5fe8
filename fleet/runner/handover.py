"""Registrations a worker holds, streamed to the parent: a worker killed with -9 leaves none.

A worker of ``fleet run --workers N`` (:mod:`fleet.runner.worker`) that dies without a
word (SIGKILL, the OOM killer) cannot de-register its devices, and the locations the
server gave them are random: the parent cannot guess them. So the parent learns them as
the run goes:

- worker side, a :class:`RegistrationStream` listens to every device the worker builds
  (:meth:`RegistrationStream.factory` wraps the device factory) and notes each
  ``Registered`` (endpoint, location, the server's numeric address, whether the
  registration is secured) and each ``Deregistered`` (endpoint only). The notes go to the
  parent in batches, one ``("registrations", batch)`` message with each progress report
  (and sooner when :data:`BATCH` notes wait): nothing per registration but a tuple;
- parent side, a :class:`HeldRegistrations` per worker applies the batches: a dict of
  endpoint -> :class:`Held`, an entry removed on de-registration, so it never holds more
  than the worker's devices;
- when a worker dies before its summary, :func:`release` sends a De-register for each of
  its NoSec registrations (:class:`~fleet.client.leftovers.Deregistrar`, at most
  ``concurrency`` at a time, giving up when none was answered for ``grace`` seconds) and
  counts what came of it in a :class:`Release`, which names what is left to expire:
  ``coaps://`` registrations (bound to the device's DTLS session, which died with it),
  De-registers not answered, and devices registered after the worker's last report.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Deregistered, Registered
from fleet.client.leftovers import Deregistrar, Outcome
from fleet.clock import Clock, LoopClock
from fleet.device.randomness import Rng
from fleet.runner.devices import DeviceFactory, DeviceLike
from fleet.runner.leaving import DEREGISTER_GRACE

_log = logging.getLogger("fleet.runner")

Note = tuple[str, str | None, str, int, bool]
"""One change on the wire: ``(endpoint, location, server host, server port, secure)``;
``location`` ``None``: the endpoint de-registered."""

BATCH: Final = 2048
"""Notes a worker sends at once without waiting for its next report."""
CONCURRENCY: Final = 64
"""De-registers the parent has in flight at once for a dead worker."""


class RegistrationStream:
    """Worker side: notes each device's registration and de-registration, sends batches.

    ``send(batch)`` delivers a batch to the parent; :meth:`flush` sends what waits (the
    worker calls it just before each progress report)."""

    __slots__ = ("_notes", "_send")

    def __init__(self, send: Callable[[tuple[Note, ...]], None]) -> None:
        self._send = send
        self._notes: list[Note] = []

    def factory(self, factory: DeviceFactory) -> DeviceFactory:
        """``factory`` whose real devices are listened to."""

        def build(config: DeviceConfig, clock: Clock, rng: Rng) -> DeviceLike:
            device = factory(config, clock, rng)
            if isinstance(device, Device):
                device.add_listener(self._listener(device))
            return device

        return build

    def _listener(self, device: Device) -> Callable[[ClientEvent], None]:
        def heard(event: ClientEvent) -> None:
            if isinstance(event, Registered):
                account = device.account
                secure = account.secure if account is not None else device.config.secure
                host, port = device.server_address
                self._note((event.endpoint, event.location, host, port, secure))
            elif isinstance(event, Deregistered):
                self._note((event.endpoint, None, "", 0, False))

        return heard

    def _note(self, note: Note) -> None:
        self._notes.append(note)
        if len(self._notes) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Send the notes that wait (nothing when none do)."""
        if self._notes:
            notes, self._notes = tuple(self._notes), []
            self._send(notes)


class Held(NamedTuple):
    """A registration a device of a worker holds on its server."""

    location: str
    host: str
    port: int
    secure: bool


class HeldRegistrations:
    """Parent side: the registrations one worker's devices hold, as its batches tell."""

    __slots__ = ("_hosts", "held")

    def __init__(self) -> None:
        self.held: dict[str, Held] = {}
        """Endpoint -> its registration (removed when it de-registers)."""
        self._hosts: dict[str, str] = {}

    def apply(self, batch: Iterable[Note]) -> None:
        """Apply a worker's batch (a bad note is skipped: the pipe carries only ours)."""
        for endpoint, location, host, port, secure in batch:
            if location is None:
                self.held.pop(endpoint, None)
            else:
                host = self._hosts.setdefault(host, host)  # one string per server host
                self.held[endpoint] = Held(location, host, port, secure)

    def __len__(self) -> int:
        return len(self.held)


@dataclass(slots=True)
class Release:
    """What came of de-registering a dead worker's devices from the parent."""

    registered: int = 0
    """Devices registered at the worker's last report."""
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    secure: int = 0
    """``coaps://`` registrations (left to expire)."""
    given_up: int = 0
    """De-registers not sent or not answered before the grace ran out."""
    unknown: int = 0
    """Registered devices whose location never reached the parent (it died before sending it)."""

    @property
    def deregistered(self) -> int:
        return self.outcomes[Outcome.DELETED] + self.outcomes[Outcome.GONE]

    @property
    def left(self) -> int:
        """Registrations left on the server until their lifetime ends."""
        return (
            self.secure
            + self.given_up
            + self.unknown
            + self.outcomes[Outcome.REFUSED]
            + self.outcomes[Outcome.UNANSWERED]
        )

    def describe(self) -> str:
        """``de-registered by the parent 14, left to expire 1 (1 not answered)``."""
        text = f"de-registered by the parent {self.deregistered}, left to expire {self.left}"
        unanswered = self.outcomes[Outcome.UNANSWERED] + self.given_up
        refused = self.outcomes[Outcome.REFUSED]
        why = [
            (self.secure, "coaps:// (bound to DTLS sessions that died with the worker)"),
            (unanswered, "not answered"),
            (refused, "refused by the server"),
            (self.unknown, "whose locations never reached the parent"),
        ]
        reasons = "; ".join(f"{count} {what}" for count, what in why if count)
        return f"{text} ({reasons})" if reasons else text


async def release(
    held: HeldRegistrations,
    registered: int,
    *,
    clock: Clock | None = None,
    concurrency: int = CONCURRENCY,
    grace: float = DEREGISTER_GRACE,
) -> Release:
    """De-register the NoSec registrations of ``held`` (``registered``: how many devices the
    worker's last report counted registered); see the module documentation."""
    clock = clock if clock is not None else LoopClock(asyncio.get_running_loop())
    result = Release(registered=registered)
    targets = [h for h in held.held.values() if not h.secure]
    result.secure = len(held) - len(targets)
    result.unknown = max(0, registered - len(held))
    held.held.clear()
    if not targets:
        return result
    work: Iterator[Held] = iter(targets)
    answered = asyncio.Event()
    sender = Deregistrar(clock=clock, timeout=3 * grace)

    async def send() -> None:
        for one in work:
            outcome = await sender.deregister((one.host, one.port), one.location)
            result.outcomes[outcome] += 1
            if outcome is not Outcome.UNANSWERED:
                answered.set()

    senders = {asyncio.ensure_future(send()) for _ in range(min(concurrency, len(targets)))}
    try:
        await _while_answered(senders, answered, clock, grace)
    finally:
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        sender.close()
    result.given_up = len(targets) - sum(result.outcomes.values())
    _log.warning("a dead worker's registrations: %s", result.describe())
    return result


async def _while_answered(
    tasks: Collection[asyncio.Future[None]], answered: asyncio.Event, clock: Clock, grace: float
) -> None:
    """Wait for ``tasks`` until none is left or no answer came for ``grace`` seconds."""
    pending: set[asyncio.Future[Any]] = set(tasks)
    quiet_since = clock.now()
    while pending:
        answered.clear()
        heard: asyncio.Future[Any] = asyncio.ensure_future(answered.wait())
        quiet: asyncio.Future[Any] = asyncio.ensure_future(clock.sleep_until(quiet_since + grace))
        try:
            done, _ = await asyncio.wait(
                {*pending, heard, quiet}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            heard.cancel()
            quiet.cancel()
        pending -= done
        if answered.is_set():
            quiet_since = clock.now()
        elif quiet in done:
            return

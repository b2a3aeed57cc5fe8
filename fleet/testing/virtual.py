"""A virtual device for tests: a :class:`~fleet.client.Device` that logs, checks and misbehaves.

:class:`VirtualDevice` wraps one device and records every request it receives as an
:class:`~fleet.testing.exchanges.Exchange` (``device.requests``), checks expectations
(``device.expect(operation="write", path="/3442/0/110", within=5)``) and answers the next
matching request with an injected error (``device.inject_fault(operation="write", code="4.05")``).
It works without pytest::

    async with await Lwm2mServer.start() as server:
        async with virtual_device("dev1", server=server.uri) as dev:
            write = dev.expect("write", "/3442/0/110", within=5)
            await server.write("dev1", "/3442/0/110", "hi")
            await write          # or leave it: unmet expectations raise on exit

Faults plug into the device's interceptor seam (:meth:`Device.add_interceptor`); the log is
built from the device's :class:`~fleet.client.events.RequestServed` events.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Operation, RequestServed
from fleet.client.site import Verdict
from fleet.clock import Clock, ManualClock
from fleet.device.layout import DeviceLayout
from fleet.device.randomness import Rng
from fleet.model.path import Path
from fleet.model.values import Value
from fleet.testing.exchanges import (
    Exchange,
    Expectation,
    ExpectationError,
    Fault,
    Matcher,
    as_code,
    as_operation,
    format_exchanges,
)

REQUIRED_OBJECTS = {0: [0], 1: [0], 3: [0]}
"""Security, Server and Device: added to an ``objects`` layout that does not name them."""

_names = itertools.count(1)


def layout_of(objects: Mapping[int, Iterable[int]] | DeviceLayout | None) -> DeviceLayout | None:
    """``{3303: [0, 1]}`` -> a layout with ``/0/0``, ``/1/0`` and ``/3/0`` added."""
    if objects is None or isinstance(objects, DeviceLayout):
        return objects
    merged: dict[int, Iterable[int]] = dict(REQUIRED_OBJECTS)
    merged.update(objects)
    return DeviceLayout.of(merged)


def device_config(
    endpoint: str | None = None,
    *,
    server: str,
    values: Mapping[str, object] | None = None,
    objects: Mapping[int, Iterable[int]] | DeviceLayout | None = None,
    lwm2m: str = "1.1",
    **config: Any,
) -> DeviceConfig:
    """A :class:`DeviceConfig` from the short arguments tests use (``config``: any other field)."""
    return DeviceConfig(
        endpoint=endpoint if endpoint is not None else f"fleet-test-{next(_names)}",
        server=server,
        values=dict(values or {}),
        layout=layout_of(objects),
        lwm2m_version=lwm2m,
        **config,
    )


class VirtualDevice:
    """One virtual device under test (see the module docstring)."""

    def __init__(
        self,
        config: DeviceConfig,
        *,
        clock: Clock | None = None,
        rng: Rng | None = None,
    ) -> None:
        self.device = Device(config, clock=clock, rng=rng)
        self.requests: list[Exchange] = []
        """Every request received, oldest first."""
        self.expectations: list[Expectation] = []
        self.faults: list[Fault] = []
        self.origin = self.device.clock.now()
        """Device clock time when it was created: the log's ``t=0``."""
        self._pending: Fault | None = None
        self.device.add_interceptor(self._intercept)
        self.device.add_listener(self._on_event)

    def __repr__(self) -> str:
        return f"<VirtualDevice {self.endpoint} requests={len(self.requests)}>"

    @property
    def endpoint(self) -> str:
        return self.device.name

    @property
    def clock(self) -> Clock:
        return self.device.clock

    @property
    def is_registered(self) -> bool:
        return self.device.is_registered

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, *, wait: bool = True, timeout: float = 10.0) -> VirtualDevice:
        """Bind the socket, register, and (``wait``) wait until the server accepted it."""
        await self.device.start()
        if wait:
            try:
                await self.wait_registered(timeout)
            except BaseException:
                await self.stop(deregister=False)
                raise
        return self

    async def wait_registered(self, timeout: float = 10.0) -> None:
        """Return once registered; :class:`ExpectationError` after ``timeout`` real seconds."""
        try:
            await asyncio.wait_for(self.device.registered.wait(), timeout)
        except TimeoutError:
            raise ExpectationError(
                f"{self.endpoint} did not register with {self.device.config.server} "
                f"within {timeout:g} s (state: {self.device.state.value})"
            ) from None

    async def stop(self, *, deregister: bool = True) -> None:
        """De-register (unless told not to) and close the socket; safe to call twice."""
        if self.device.endpoint is not None:
            await self.device.stop(deregister=deregister and self.device.is_registered)

    async def __aenter__(self) -> VirtualDevice:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.verify()
        finally:
            await self.stop()

    # -- values -------------------------------------------------------------------------

    def value(self, path: str | Path) -> Value | dict[int, Value]:
        """A resource's current value (``{instance: value}`` for a multiple resource)."""
        return self.device.tree.value(path)

    async def set_value(self, path: str | Path, value: object) -> None:
        """Set a resource as the device itself would (observations see the change)."""
        self.device.tree.set_value(path, value)
        await asyncio.sleep(0)  # let a notification due now go out

    # -- the log, expectations and faults ----------------------------------------------

    def received(
        self, operation: Operation | str | None = None, path: str | None = None
    ) -> list[Exchange]:
        """The logged exchanges matching ``operation`` and ``path`` (``None``: any)."""
        matcher = _matcher(operation, path)
        return [exchange for exchange in self.requests if matcher.matches(exchange)]

    def expect(
        self,
        operation: Operation | str | None = None,
        path: str | None = None,
        *,
        within: float = 5.0,
        code: str | None = None,
        past: bool = True,
    ) -> Expectation:
        """Expect a matching request within ``within`` device-clock seconds from now.

        ``code``: the answer must be this code too. ``past=False`` ignores what was already
        received. Unmet expectations raise in :meth:`verify` (pytest: at teardown).
        """
        expectation = Expectation(_matcher(operation, path), code, self.clock.now(), within)
        if past:
            for exchange in self.requests:
                if expectation.offer(exchange):
                    break
        self.expectations.append(expectation)
        return expectation

    def inject_fault(
        self,
        operation: Operation | str | None = None,
        path: str | None = None,
        *,
        code: str | int = "4.05",
        times: int = 1,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``code`` instead of serving them."""
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(_matcher(operation, path), as_code(code), times)
        self.faults.append(fault)
        return fault

    def take_fault(self, operation: Operation, path: str) -> Fault | None:
        for fault in self.faults:
            if not fault.spent and fault.matcher.matches_request(operation, path):
                return fault
        return None

    def _intercept(self, request: Any, operation: Operation, path: Path | None) -> Verdict | None:
        fault = self.take_fault(operation, "/" + "/".join(request.opt.uri_path))
        if fault is None:
            return None
        self._pending = fault  # answered synchronously: its RequestServed follows at once
        return Verdict.answer(fault.code)

    def _on_event(self, event: ClientEvent) -> None:
        if isinstance(event, RequestServed):
            fault, self._pending = (self._pending, None) if event.injected else (None, None)
            self.record(event, fault)

    def record(self, served: RequestServed, fault: Fault | None = None) -> None:
        """Log one answered request (from the device's :class:`RequestServed`)."""
        exchange = Exchange(
            endpoint=self.endpoint,
            time=served.time - served.duration,
            operation=served.operation,
            method=served.method,
            path=served.path,
            content_format=served.request_format,
            payload=served.payload,
            query=served.query,
            code=served.code,
            response_format=served.response_format,
            response_payload=served.response_payload,
            faulted=fault is not None,
        )
        self.requests.append(exchange)
        if fault is not None:
            fault.hits.append(exchange)
        for expectation in self.expectations:
            expectation.offer(exchange)

    def unmet(self) -> list[Expectation]:
        return [expectation for expectation in self.expectations if not expectation.met]

    async def verify(self) -> None:
        """Wait for what is left of each unmet expectation's time, then raise if any is unmet.

        Under a :class:`ManualClock` nothing is waited: time is the test's to move.
        """
        for expectation in self.unmet():
            left = expectation.deadline - self.clock.now()
            if left > 0 and not isinstance(self.clock, ManualClock):
                with suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(expectation.waiter()), left)
        unmet = self.unmet()
        if unmet:
            raise ExpectationError(self.failure_text(unmet))

    def failure_text(self, unmet: Iterable[Expectation]) -> str:
        lines = [f"{self.endpoint}: expected {e.describe()}, not received" for e in unmet]
        lines.append(format_exchanges(self.endpoint, self.requests, self.origin))
        return "\n".join(lines)

    def log_text(self) -> str:
        """The request log as text (what failing tests get attached)."""
        return format_exchanges(self.endpoint, self.requests, self.origin)


def _path(path: str | Path) -> Path:
    return path if isinstance(path, Path) else Path.parse(path)


def _matcher(operation: Operation | str | None, path: str | None) -> Matcher:
    if path is not None:
        path = str(_path(path))
    return Matcher(None if operation is None else as_operation(operation), path)


@asynccontextmanager
async def virtual_device(
    endpoint: str | None = None,
    *,
    server: str,
    clock: Clock | None = None,
    register: bool = True,
    timeout: float = 10.0,
    **options: Any,
) -> AsyncIterator[VirtualDevice]:
    """A started (and, with ``register``, registered) device; stopped and verified on exit.

    ``options``: ``values``, ``objects``, ``lwm2m`` and any :class:`DeviceConfig` field.
    """
    device = VirtualDevice(device_config(endpoint, server=server, **options), clock=clock)
    await device.start(wait=register, timeout=timeout)
    try:
        yield device
        await device.verify()
    finally:
        await device.stop()

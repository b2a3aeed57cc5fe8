"""The synchronous face: the server and devices run on an event loop in a background thread.

For test suites that are not async. :class:`BackgroundLoop` owns the thread;
:class:`SyncServer` and :class:`SyncDevice` forward each call to the loop and wait for its
result (bounded by ``timeout`` real seconds)::

    with BackgroundLoop() as loop:
        server = SyncServer.start(loop)
        device = SyncDevice.start(loop, "dev1", server=server.uri)
        assert server.read("dev1", "/3/0/0").ok
        device.stop()
        server.stop()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from fleet.client.events import Operation
from fleet.model.values import Value
from fleet.server import (
    DeviceRecord,
    Lwm2mServer,
    Notification,
    ObservationHandle,
    Registration,
    Result,
)
from fleet.testing.exchanges import Exchange, Expectation, Fault
from fleet.testing.virtual import VirtualDevice, device_config

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0


class BackgroundLoop:
    """An asyncio loop running in a daemon thread until :meth:`close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="lwm2m-fleet-loop", daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = DEFAULT_TIMEOUT) -> T:
        """Run ``coroutine`` on the loop and return its result (``TimeoutError`` after
        ``timeout`` real seconds, the coroutine then being cancelled)."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def call(self, function: Callable[[], T], timeout: float | None = DEFAULT_TIMEOUT) -> T:
        """Run a plain function on the loop's thread (for state the loop owns)."""

        async def call() -> T:
            return function()

        return self.run(call(), timeout)

    def close(self) -> None:
        """Cancel what still runs, stop the loop and join the thread (idempotent)."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            self.run(_cancel_all(), 10.0)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10.0)
        self.loop.close()

    def __enter__(self) -> BackgroundLoop:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _cancel_all() -> None:
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not me]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


class SyncObservation:
    """An :class:`~fleet.server.ObservationHandle` seen from the test's thread."""

    def __init__(self, loop: BackgroundLoop, handle: ObservationHandle) -> None:
        self._loop = loop
        self.handle = handle

    def next(self, timeout: float = 10.0) -> Notification:
        """The next notification (``TimeoutError`` after ``timeout`` real seconds)."""
        return self._loop.run(self.handle.next(timeout), timeout + 5.0)

    def cancel(self, timeout: float = 10.0) -> Result:
        return self._loop.run(self.handle.cancel(timeout=timeout), timeout + 5.0)


class SyncServer:
    """The embedded :class:`~fleet.server.Lwm2mServer` with blocking methods."""

    def __init__(self, loop: BackgroundLoop, server: Lwm2mServer) -> None:
        self.loop = loop
        self.server = server
        """The async server itself (use it only through ``loop``)."""

    @classmethod
    def start(cls, loop: BackgroundLoop, **options: Any) -> SyncServer:
        """:meth:`Lwm2mServer.start` on ``loop`` (``options`` as there)."""
        return cls(loop, loop.run(Lwm2mServer.start(**options)))

    @property
    def uri(self) -> str:
        return self.server.uri

    def stop(self) -> None:
        self.loop.run(self.server.stop())

    def reset(self) -> None:
        self.loop.call(self.server.reset)

    def wait_for_registration(
        self, endpoint: str, timeout: float = 10.0, *, hooks: bool = False
    ) -> Registration:
        coroutine = self.server.wait_for_registration(endpoint, timeout, hooks=hooks)
        return self.loop.run(coroutine, timeout + 5.0)

    def registrations(self) -> list[Registration]:
        return self.loop.call(self.server.registrations)

    def device(self, endpoint: str) -> DeviceRecord | None:
        """What the server knows about ``endpoint`` (also after it left)."""
        return self.loop.call(lambda: self.server.device(endpoint))

    def read(self, endpoint: str, path: str, **options: Any) -> Result:
        return self.loop.run(self.server.read(endpoint, path, **options))

    def write(self, endpoint: str, path: str, value: Any, **options: Any) -> Result:
        return self.loop.run(self.server.write(endpoint, path, value, **options))

    def execute(self, endpoint: str, path: str, **options: Any) -> Result:
        return self.loop.run(self.server.execute(endpoint, path, **options))

    def observe(self, endpoint: str, path: str, **options: Any) -> SyncObservation:
        handle = self.loop.run(self.server.observe(endpoint, path, **options))
        return SyncObservation(self.loop, handle)


class SyncDevice:
    """A :class:`~fleet.testing.VirtualDevice` with blocking methods."""

    def __init__(self, loop: BackgroundLoop, device: VirtualDevice) -> None:
        self.loop = loop
        self.virtual = device
        """The async device itself (use it only through ``loop``)."""

    @classmethod
    def start(
        cls,
        loop: BackgroundLoop,
        endpoint: str | None = None,
        *,
        server: str,
        register: bool = True,
        timeout: float = 10.0,
        **options: Any,
    ) -> SyncDevice:
        """Create and start a device on ``loop`` (``options``: values, objects, lwm2m, ...)."""

        async def start() -> VirtualDevice:
            device = VirtualDevice(device_config(endpoint, server=server, **options))
            return await device.start(wait=register, timeout=timeout)

        return cls(loop, loop.run(start(), timeout + 5.0))

    @property
    def endpoint(self) -> str:
        return self.virtual.endpoint

    @property
    def requests(self) -> list[Exchange]:
        """A copy of the request log."""
        return self.loop.call(lambda: list(self.virtual.requests))

    def wait_registered(self, timeout: float = 10.0) -> None:
        self.loop.run(self.virtual.wait_registered(timeout), timeout + 5.0)

    def expect(
        self,
        operation: Operation | str | None = None,
        path: str | None = None,
        *,
        within: float = 5.0,
        code: str | None = None,
        past: bool = True,
    ) -> Expectation:
        return self.loop.call(
            lambda: self.virtual.expect(operation, path, within=within, code=code, past=past)
        )

    def inject_fault(
        self,
        operation: Operation | str | None = None,
        path: str | None = None,
        *,
        code: str | int = "4.05",
        times: int = 1,
    ) -> Fault:
        return self.loop.call(
            lambda: self.virtual.inject_fault(operation, path, code=code, times=times)
        )

    def value(self, path: str) -> Value | dict[int, Value]:
        return self.loop.call(lambda: self.virtual.value(path))

    def set_value(self, path: str, value: object) -> None:
        self.loop.run(self.virtual.set_value(path, value))

    def verify(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.loop.run(self.virtual.verify(), timeout)

    def log_text(self) -> str:
        return self.loop.call(self.virtual.log_text)

    def stop(self) -> None:
        self.loop.run(self.virtual.stop())

"""``NodeDriver``: a Node.js driver script of an LwM2M server we did not write, run as a child
process and spoken to in JSON lines (one event per stdout line, one command per stdin line
answered by a ``result`` event with the same ``id``). The peers' harnesses build on it:
``nodelib.py`` (lwm2m-node-lib) and ``shepherd.py`` (coap-shepherd). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

START_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

Event = dict[str, Any]
MODULES = Path(__file__).resolve().parent / "node_modules"


def missing_packages(*pins: tuple[str, str]) -> str | None:
    """Why a driver cannot run here (node absent, a pinned npm package absent or of another
    version than ``(name, version)`` pins), or ``None``."""
    if shutil.which("node") is None:
        return "node is not on PATH (install Node.js 20)"
    for name, version in pins:
        package = MODULES / name / "package.json"
        if not package.is_file():
            return f"{package.parent} is missing: run scripts/install-tools.sh"
        installed = json.loads(package.read_text(encoding="utf-8")).get("version")
        if installed != version:
            return f"{name} {installed} installed, not {version}: run scripts/install-tools.sh"
    return None


class NodeUnavailable(RuntimeError):
    """node or the pinned npm package is missing: run scripts/install-tools.sh."""


class NodeDriver:
    """A driver script in a child process; subclasses name it and check what it needs."""

    script: Path
    """The driver script (in tests/interop, beside node_modules)."""

    def __init__(self, host: str, port: int, arguments: list[str], command_timeout: float) -> None:
        self.host = host
        self.port = port
        self.command_timeout = command_timeout
        self.events: list[Event] = []
        """Every event seen, in order (results included)."""
        self._arguments = arguments
        self._process: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stderr = bytearray()
        self._consumed: set[int] = set()
        self._changed = asyncio.Event()
        self._results: dict[int, asyncio.Future[Event]] = {}
        self._next_id = 1
        self._exited = False
        self.exit_code: int | None = None
        """After the context: the driver's exit status, ``None`` if it had to be killed."""

    def missing(self) -> str | None:
        """Why the driver cannot run here, or ``None``."""
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        reason = self.missing()
        if reason is not None:
            raise NodeUnavailable(reason)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LWM2M_")}
        self._process = await asyncio.create_subprocess_exec(
            "node",
            "--no-warnings",
            str(self.script),
            *self._arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.script.parent,
            env=environment,
        )
        self._tasks = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]
        try:
            ready = await self.wait_event("ready", timeout=START_TIMEOUT)
        except BaseException:
            await self._stop()
            raise
        self.port = int(ready["port"])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()  # the driver stops its server and exits
        try:
            self.exit_code = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            self.exit_code = None
        for task in self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, STOP_TIMEOUT)
        for task in self._tasks:
            task.cancel()
        self._process = None

    @property
    def uri(self) -> str:
        """The server's CoAP URI for a device's Server URI."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"coap://{host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def stderr(self) -> str:
        """What the driver and the library wrote to stderr so far."""
        return self._stderr.decode("utf-8", "replace")

    # -- events -------------------------------------------------------------------------

    async def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stream = self._process.stdout
        while line := await stream.readline():
            try:
                event = json.loads(line)
            except ValueError:
                self._stderr += b"[stdout, not JSON] " + line
                continue
            if not isinstance(event, dict):
                continue
            self.events.append(event)
            if event.get("event") == "result":
                future = self._results.pop(event.get("id", -1), None)
                if future is not None and not future.done():
                    future.set_result(event)
            self._changed.set()
        self._exited = True
        for future in self._results.values():
            if not future.done():
                future.set_exception(self._failure("the node process exited"))
        self._results.clear()
        self._changed.set()

    async def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        while chunk := await self._process.stderr.read(4096):
            self._stderr += chunk[: max(0, 200_000 - len(self._stderr))]

    def _failure(self, what: str) -> AssertionError:
        tail = self.stderr[-4000:] or "(empty)"
        kinds = [event.get("event") for event in self.events[-20:]]
        return AssertionError(f"{what}\nlast events: {kinds}\nnode stderr:\n{tail}")

    def _find(self, match: Callable[[Event], bool]) -> Event | None:
        for index, event in enumerate(self.events):
            if index not in self._consumed and match(event):
                self._consumed.add(index)
                return event
        return None

    async def wait_event(
        self,
        kind: str,
        endpoint: str | None = None,
        timeout: float = EVENT_TIMEOUT,
        *,
        where: Callable[[Event], bool] | None = None,
        **fields: Any,
    ) -> Event:
        """The oldest event of ``kind`` (for ``endpoint``, with ``fields`` equal and ``where``
        true) not returned before; waits at most ``timeout`` seconds for it."""

        def match(event: Event) -> bool:
            if event.get("event") != kind:
                return False
            if endpoint is not None and event.get("endpoint") != endpoint:
                return False
            if where is not None and not where(event):
                return False
            return all(event.get(key) == value for key, value in fields.items())

        async def until_found() -> Event:
            while True:
                self._changed.clear()
                found = self._find(match)
                if found is not None:
                    return found
                if self._exited:
                    raise self._failure(f"the node process exited before a {kind!r} event")
                await self._changed.wait()

        try:
            return await asyncio.wait_for(until_found(), timeout)
        except TimeoutError:
            raise self._failure(
                f"no {kind!r} event for endpoint {endpoint!r} {fields or ''} in {timeout} s"
            ) from None

    def pending(self, kind: str, endpoint: str | None = None) -> list[Event]:
        """Events of ``kind`` seen and not yet returned by :meth:`wait_event`."""
        return [
            event
            for index, event in enumerate(self.events)
            if index not in self._consumed
            and event.get("event") == kind
            and (endpoint is None or event.get("endpoint") == endpoint)
        ]

    # -- commands -----------------------------------------------------------------------

    async def exchange(
        self, op: str, endpoint: str | None = None, path: str | None = None, **fields: Any
    ) -> Event:
        """Send one command and return its ``result`` event (``ok`` true or false)."""
        process = self._process
        if process is None or process.stdin is None or self._exited:
            raise self._failure(f"{op}: the node process is not running")
        number = self._next_id
        self._next_id += 1
        message: dict[str, Any] = {"id": number, "op": op, **fields}
        if endpoint is not None:
            message["endpoint"] = endpoint
        if path is not None:
            message["path"] = path
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._results[number] = future
        process.stdin.write(json.dumps(message).encode() + b"\n")
        try:
            await process.stdin.drain()
            # the driver answers by itself after command_timeout; allow a margin for that
            result = await asyncio.wait_for(future, self.command_timeout + 5.0)
        except TimeoutError:
            raise self._failure(f"no result for {message}") from None
        finally:
            self._results.pop(number, None)
        self._consumed.update(i for i, e in enumerate(self.events) if e is result)
        return result

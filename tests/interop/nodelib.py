"""``NodeLibServer``: lwm2m-node-lib 1.4.0's LwM2M server (npm, software we did not write) as an
async context manager for interop tests, driven through ``nodelib_server.js`` (JSON lines).

Installed by ``scripts/install-tools.sh`` (``npm ci --prefix tests/interop``, pinned by
``tests/interop/package-lock.json``). Usage::

    async with NodeLibServer() as server:          # node listens on 127.0.0.1, a free port
        ... point a device at server.uri ...
        registration = await server.wait_event("registration", "dev1")
        assert await server.read("dev1", "/3/0/0") == "Open Mobile Alliance"

What lwm2m-node-lib 1.4.0 sends and expects — what a device must cope with. Points marked (t)
are pinned by ``test_nodelib_harness.py`` (``fakes.FakeClient``, ``fakes.RawPeer``); the others
were read in its code (``lib/services/``) and node-coap 0.22's (``lib/server.js``, ``agent.js``):

- **Proxy design.** The library sends each request from a fresh socket to *its own* server port
  with a Proxy-Uri option; its CoAP server (node-coap in proxy mode) strips Proxy-Uri and
  forwards the message unchanged (message id, token, type) from the server port, the address
  the device registered with (t). Responses travel back by token.
- **Requests are confirmable** (t) and should be answered **piggybacked**: the proxy drops an
  empty ACK (it has no token) and never acknowledges a separate response towards the device,
  so a device answering separately retransmits that response until it gives up.
- **Read**: GET with ``Accept: text/plain`` (0) (t) — ``defaultAcceptFormat``, set here as in
  the library's own ``config.js``; without it no Accept is sent. Only 2.05 is success; the value
  is the payload as UTF-8 text, whatever its Content-Format. Error codes reach the caller (t).
- **Write**: PUT with ``Content-Format`` = ``writeFormat`` (t). The library's *default* is
  ``lightweightm2m/text`` = **1541**, the pre-release LwM2M text number (t); the harness
  defaults to ``text/plain`` (0) and takes ``write_format="lightweightm2m/text"``. Only 2.04 is
  success.
- **Execute**: POST, the arguments as payload (none when empty) and *also* the write
  Content-Format option (t). Only 2.04 is success.
- **Observe**: GET with ``Observe: 0`` and the Accept of Read (t). node-coap delivers an answer
  or notification only when its Observe number is *greater than the last one seen, starting
  from 0*: a first answer numbered ``Observe: 0`` is dropped and the library's observe call
  completes with the *next* notification's value (t); a first answer numbered 1 or more
  completes it at once (t). Out-of-order numbers are dropped (t), with no wrap-around handling.
  An Observe answered with an error code never completes in the library: the harness reports
  it as a ``TIMEOUT`` error after ``command_timeout`` (t).
- **Confirmable notifications are never acknowledged** back to the device (t): the agent's
  ACK goes to the proxy, which drops it, so the device retransmits and ends the observation.
  Notify this server non-confirmably.
- **Cancel** is local (t): the agent forgets the token; the device hears nothing (no GET with
  Observe: 1, no RST) and keeps its observation.
- **Register** needs ``ep``; the registration handler (our "registration" event) runs *before*
  the 2.01 goes out. The 2.01 carries ONE Location-Path option ``rd/<n>`` (t); echoing it as
  one Uri-Path option works (t), as does splitting it (t). **Update**: POST ``/rd/<n>`` -> 2.04,
  ``lt`` and payload optional (t). **De-register**: DELETE -> 2.02 (t). Unknown location ->
  4.04 (t). Without an Update within ``lt`` seconds the registration expires (checked every
  second) (t).
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
from typing import Any

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "nodelib_server.js"
PACKAGE = HERE / "node_modules" / "lwm2m-node-lib" / "package.json"
VERSION = "1.4.0"

START_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
COMMAND_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

Event = dict[str, Any]


class NodeLibError(Exception):
    """A command lwm2m-node-lib answered with an error (``code`` like ``"4.04"``, or None)."""

    def __init__(self, name: str, message: str, code: str | None) -> None:
        super().__init__(f"{name} ({code}): {message}")
        self.name = name
        self.code = code


class NodeLibUnavailable(RuntimeError):
    """node or the pinned lwm2m-node-lib is missing: run scripts/install-tools.sh."""


def missing() -> str | None:
    """Why the server cannot run here, or ``None`` when node and lwm2m-node-lib are installed."""
    if shutil.which("node") is None:
        return "node is not on PATH (install Node.js 20)"
    if not PACKAGE.is_file():
        return f"{PACKAGE.parent} is missing: run scripts/install-tools.sh"
    installed = json.loads(PACKAGE.read_text(encoding="utf-8")).get("version")
    if installed != VERSION:
        return f"lwm2m-node-lib {installed} installed, not {VERSION}: run scripts/install-tools.sh"
    return None


class NodeLibServer:
    """lwm2m-node-lib's server in a child process; every wait is bounded."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        write_format: str = "text/plain",
        accept_format: str = "text/plain",
        log_level: str = "FATAL",
        command_timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port
        self.command_timeout = command_timeout
        self.events: list[Event] = []
        """Every event seen, in order (results included)."""
        self._arguments = [
            "--host", host,
            "--port", str(port),
            "--write-format", write_format,
            "--accept-format", accept_format,
            "--log-level", log_level,
            "--command-timeout-ms", str(int(command_timeout * 1000)),
        ]  # fmt: skip
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

    # -- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> NodeLibServer:
        reason = missing()
        if reason is not None:
            raise NodeLibUnavailable(reason)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("LWM2M_")}
        self._process = await asyncio.create_subprocess_exec(
            "node",
            "--no-warnings",
            str(DRIVER),
            *self._arguments,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=HERE,
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

    async def command(
        self, op: str, endpoint: str | None = None, path: str | None = None, **fields: Any
    ) -> Any:
        """Run one command; its value, or :class:`NodeLibError` with the library's error."""
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
        if not result.get("ok"):
            error = result.get("error") or {}
            raise NodeLibError(str(error.get("name")), str(error.get("message")), error.get("code"))
        return result.get("value")

    async def read(self, endpoint: str, path: str) -> str:
        return str(await self.command("read", endpoint, path))

    async def write(self, endpoint: str, path: str, value: str) -> None:
        await self.command("write", endpoint, path, value=value)

    async def execute(self, endpoint: str, path: str, args: str | None = None) -> None:
        await self.command("execute", endpoint, path, args=args)

    async def observe(self, endpoint: str, path: str) -> str:
        """Start observing; the value the library reports first (see the module docstring)."""
        return str(await self.command("observe", endpoint, path))

    async def cancel(self, endpoint: str, path: str) -> None:
        await self.command("cancel", endpoint, path)

    async def discover(self, endpoint: str, path: str) -> str:
        return str(await self.command("discover", endpoint, path))

    async def devices(self) -> list[Event]:
        value = await self.command("list")
        assert isinstance(value, list)
        return value

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

from pathlib import Path
from typing import Any

from tests.interop.node_driver import COMMAND_TIMEOUT, Event, NodeDriver, missing_packages

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "nodelib_server.js"
VERSION = "1.4.0"


class NodeLibError(Exception):
    """A command lwm2m-node-lib answered with an error (``code`` like ``"4.04"``, or None)."""

    def __init__(self, name: str, message: str, code: str | None) -> None:
        super().__init__(f"{name} ({code}): {message}")
        self.name = name
        self.code = code


def missing() -> str | None:
    """Why the server cannot run here, or ``None`` when node and lwm2m-node-lib are installed."""
    return missing_packages(("lwm2m-node-lib", VERSION))


class NodeLibServer(NodeDriver):
    """lwm2m-node-lib's server in a child process; every wait is bounded."""

    script = DRIVER

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
        arguments = [
            "--host", host,
            "--port", str(port),
            "--write-format", write_format,
            "--accept-format", accept_format,
            "--log-level", log_level,
            "--command-timeout-ms", str(int(command_timeout * 1000)),
        ]  # fmt: skip
        super().__init__(host, port, arguments, command_timeout)

    def missing(self) -> str | None:
        return missing()

    async def command(
        self, op: str, endpoint: str | None = None, path: str | None = None, **fields: Any
    ) -> Any:
        """Run one command; its value, or :class:`NodeLibError` with the library's error."""
        result = await self.exchange(op, endpoint, path, **fields)
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

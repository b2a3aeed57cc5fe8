"""``ShepherdServer``: the LwM2M server of the npm package coap-shepherd 0.2.5 (software we did
not write) as an async context manager for interop tests, driven through ``shepherd_server.js``
(JSON lines, see its header). Usage::

    async with ShepherdServer() as server:         # node listens on 127.0.0.1, a free port
        ... point a device at server.uri ...
        registration = await server.wait_event("registration", "dev1")
        answer = await server.read("dev1", "/3/0/0")   # Answer(status="2.05", value=...)

Installed by ``scripts/install-tools.sh`` with lwm2m-node-lib (``npm ci --prefix tests/interop``,
pinned by ``tests/interop/package-lock.json``). Why 0.2.5 and not the newest 0.2.11: 0.2.11
depends on a git fork of node-coap that is not on the npm registry. 0.2.5 is installed with its
TLV codec lwm2m-codec raised from 0.0.8 to 0.1.1 (``overrides`` in package.json), the codec
0.2.11 ships with: 0.0.8 throws on an Object-level TLV holding a Multiple-Instance Resource
(``data[rid]`` for ``data[iid][rid]``), so the library's read of /3 at registration crashed
and no device ever came online; 0.1.1 is that fix (and opaque values), nothing else.

What coap-shepherd 0.2.5 does, read in its code (``lib/components/reqHandler.js``,
``coap-node.js``, ``cutils.js``) and node-coap 0.21's; points marked (t) are checked by
``test_shepherd_device.py`` against our device or a raw peer. Where it departs from the LwM2M
1.1 Core TS or RFC 7641 the clause is named:

- **Register** (POST /rd) is accepted only while joining is permitted (the driver permits it
  for the whole run; otherwise 4.05). It knows the query parameters ``ep lt lwm2m b`` (and its
  own ``mac``) and means to answer 4.00 to any other, but throws on the way: a Register with
  ``Q`` (queue mode) or ``sms``, both defined by Core TS 1.1 §6.2.1 Register, gets node-coap's
  empty ACK and never a response (t). The 2.01 carries the location ``/rd/<n>`` (t).
- **Object links with attributes** are cut at the wrong places: ``</1>;ver=1.1`` becomes an
  Object named ``1>;ver=1.`` which its database (nedb) refuses, so a device announcing any
  ``ver`` (Core TS 1.1 §6.2.1; a 1.1 client always does for its core Objects) is answered 2.01
  and never comes online (t).
- **Right after the 2.01** the library reads every Object of the payload (GET /<oid>,
  ``Accept: application/tlv`` = 11542) (t) and reports the device (our "registration" event)
  only when *every* read answered 2.05.
- **Read** and **Observe** ask for TLV (11542) (t) unless the device's ``</>`` carried
  ``ct=11543`` (then JSON 11543); values come back decoded with the library's object
  definitions (lwm2m-id): resources of an Object it knows get its names (/3/0/9 ->
  ``battLevel``) (t); a resource of an Object it does not know (3442) comes back as the hex of
  its bytes (t).
- **Write** (PUT) sends TLV (t) encoded with those definitions; **Execute** is POST with the
  arguments as text (none when empty) (t); **Discover** keeps link attributes glued to the
  path (``/3/0/6>;dim=``) (t).
- **Observe** goes out from a fresh socket of its own, not from the server port the device
  registered with (t): a device that accepts requests only from its server's endpoint (RFC 7252
  §1.2: address *and* port) never sees it (t). The first answer counts as the current value
  (t), the notifications after it are reported (t). A first answer numbered ``Observe: 0`` is
  dropped by node-coap 0.21 (numbers must rise from 0), so the library would then skip the first
  real notification (RFC 7641 §3.4 lets the number start anywhere); our device numbers it 1+.
- **Cancel** is a GET with ``Observe: 1`` from the server socket with a new token, not the
  observation's token from the observing socket (Core TS 1.1 §6.4.2 Cancel Observation, RFC 7641
  §3.6): the device takes it for a Read and keeps notifying (t); the library drops those
  notifications silently (no Reset) (t).
- **Update** (POST /rd/<n>) -> 2.04 (t). **De-register** (DELETE /rd/<n>) -> 2.02 (t); a
  DELETE of an unknown location throws inside the library (it reads ``clientName`` of nothing)
  and gets only node-coap's empty ACK, never a response (t), where Core TS 1.1 §6.2.3
  De-register expects 4.04 Not Found.
- The registration ends ``lt`` seconds (+0.5 s) after the last Register/Update.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.interop.node_driver import COMMAND_TIMEOUT, Event, NodeDriver, missing_packages

DRIVER = Path(__file__).resolve().parent / "shepherd_server.js"
PINS = (("coap-shepherd", "0.2.5"), ("lwm2m-codec", "0.1.1"))


class ShepherdError(Exception):
    """A command coap-shepherd refused or failed (``name`` like ``"TIMEOUT"`` or ``"Error"``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True)
class Answer:
    """The library's answer to a request it sent: the CoAP code and the decoded value."""

    status: str
    value: Any


def missing() -> str | None:
    """Why the server cannot run here, or ``None`` when node and the pinned packages are there."""
    return missing_packages(*PINS)


class ShepherdServer(NodeDriver):
    """coap-shepherd in a child process with its own database folder; every wait is bounded."""

    script = DRIVER

    def __init__(
        self, *, host: str = "127.0.0.1", command_timeout: float = COMMAND_TIMEOUT
    ) -> None:
        self._database = tempfile.mkdtemp(prefix="coap-shepherd-")
        arguments = [
            "--host", host,
            "--db", self._database,
            "--command-timeout-ms", str(int(command_timeout * 1000)),
        ]  # fmt: skip
        super().__init__(host, 0, arguments, command_timeout)

    def missing(self) -> str | None:
        return missing()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await super().__aexit__(exc_type, exc, traceback)
        finally:
            shutil.rmtree(self._database, ignore_errors=True)

    async def command(
        self, op: str, endpoint: str | None = None, path: str | None = None, **fields: Any
    ) -> Answer:
        """Run one command; the library's answer, or :class:`ShepherdError`."""
        result = await self.exchange(op, endpoint, path, **fields)
        if not result.get("ok"):
            error = result.get("error") or {}
            raise ShepherdError(str(error.get("name")), str(error.get("message")))
        return Answer(str(result.get("status")), result.get("value"))

    async def read(self, endpoint: str, path: str) -> Answer:
        return await self.command("read", endpoint, path)

    async def write(self, endpoint: str, path: str, value: Any) -> Answer:
        return await self.command("write", endpoint, path, value=value)

    async def execute(self, endpoint: str, path: str, args: list[Any] | None = None) -> Answer:
        return await self.command("execute", endpoint, path, args=args or [])

    async def observe(self, endpoint: str, path: str) -> Answer:
        return await self.command("observe", endpoint, path)

    async def cancel(self, endpoint: str, path: str) -> Answer:
        return await self.command("cancel", endpoint, path)

    async def discover(self, endpoint: str, path: str) -> Answer:
        return await self.command("discover", endpoint, path)

    async def write_attributes(self, endpoint: str, path: str, **attributes: float) -> Answer:
        return await self.command("write-attributes", endpoint, path, attributes=attributes)

    async def devices(self) -> list[Event]:
        value = (await self.command("list")).value
        assert isinstance(value, list)
        return value

"""The stand-in's core: the platform's resources kept from an :class:`Lwm2mServer`'s life.

:class:`StandIn` joins three things that already exist and adds none of their logic:

- the server's platform :class:`~fleet.server.platform.Console` runs every outgoing message
  (the same command language and error rows as ``fleet server`` on stdin);
- every received message the console emits (responses, notifications with their chain's
  labels, registration / update / deregistration / registration-expire) becomes a content
  instance in that device's ``received-msg``;
- each well-formed command becomes a ``sent-msg`` instance just before it goes to the device,
  with the chain's ``outgoing_msgRN:`` / ``requestId:`` labels.

:meth:`StandIn.submit` files an application's outgoing message in ``outgoing-msg`` and
returns it at once (the platform answers the POST before the device does); the commands of
one device run in the order they were posted, and the outgoing instance is deleted once sent.
:meth:`node` and :meth:`management` answer the device node (labels with the registration
timestamps) and its ``deviceInfo`` (from /3 and /6, the platform's mapping table).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from fleet.codec import json_text
from fleet.server import DeviceRecord, Lwm2mServer
from fleet.server.http.errors import UNKNOWN_PATH, HttpProblem
from fleet.server.http.outgoing import Outgoing
from fleet.server.http.resources import (
    DEFAULT_MAX_INSTANCES,
    MGMT_OBJ,
    NODE,
    OUTGOING,
    RECEIVED,
    SENT,
    ContentInstance,
    DeviceNode,
    Store,
    onem2m_time,
)
from fleet.server.platform import Command, Console, Message, device_info

Emit = Callable[[Message], None]
Say = Callable[[Any], None]

JSON_INFO = "application/json:0"
DEVICE_CREATOR = "CNI-IPE"
"""Who the platform names as creator of sent and received messages."""
DEFAULT_ORIGIN = "CApplication"
DEVICE_INFO_DEFINITION = 1007

# deviceInfo member <- DeviceInfo attribute (the platform's mapping table)
INFO_FIELDS = (
    ("deviceName", "manufacturer"),
    ("manufacturer", "manufacturer"),
    ("model", "model"),
    ("fwVersion", "firmware_version"),
    ("swVersion", "software_version"),
    ("systemTime", "system_time"),
    ("location", "location"),
)


class StandIn:
    """The platform's resources over ``server`` (see the module docstring)."""

    def __init__(
        self,
        server: Lwm2mServer,
        *,
        tenant: str = "default",
        forward: Emit | None = None,
        say: Say | None = None,
        timeout: float | None = None,
        max_instances: int = DEFAULT_MAX_INSTANCES,
    ) -> None:
        """``forward`` also gets every received message (e.g. the stdout printer); ``say``
        the output of console commands run on :attr:`console` directly (stdin lines)."""
        self.server = server
        self.tenant = tenant
        self.forward = forward
        self.store = Store(max_instances=max_instances, parent=tenant)
        self.console = Console(server, self._receive, say=say, timeout=timeout)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._info: dict[str, object] = {}

    def now(self) -> float:
        return self.server.clock.wall()

    # -- received messages ----------------------------------------------------------------

    def _receive(self, message: Message) -> None:
        content = message["content"]
        endpoint = str(content["nodeResourceName"])
        self.store.add(
            endpoint,
            RECEIVED,
            content,
            now=self.now(),
            creator=DEVICE_CREATOR,
            labels=message.get("labels", ()),
            content_info=JSON_INFO,
        )
        record = self.server.device(endpoint)
        if record is not None and self._info.get(endpoint) != record.info:
            self._info[endpoint] = record.info
            self.store.node(endpoint, self.now()).info_modified = self.now()
        if self.forward is not None:
            self.forward(message)

    # -- outgoing messages ----------------------------------------------------------------

    def require(self, endpoint: str) -> DeviceNode:
        """The node of a device the server has seen; 404 for any other name."""
        if self.server.device(endpoint) is None and self.store.known(endpoint) is None:
            raise HttpProblem(UNKNOWN_PATH, f"no device named {endpoint!r} in tenant {self.tenant}")
        return self.store.node(endpoint, self.now())

    def submit(self, endpoint: str, outgoing: Outgoing, origin: str | None) -> ContentInstance:
        """File ``outgoing`` for ``endpoint`` and start sending it; returns the instance."""
        instance = self._file(endpoint, outgoing, origin)
        self._start(self._send(endpoint, outgoing, instance))
        return instance

    def submit_everywhere(
        self, outgoing: Outgoing, origin: str | None
    ) -> list[tuple[str, ContentInstance]]:
        """``*``: file ``outgoing`` for every registered endpoint and send them through the
        console's bounded pool (a summary line goes to the console's ``say``); 404 when no
        device is registered."""
        endpoints = sorted(r.endpoint for r in self.server.registrations())
        if not endpoints:
            raise HttpProblem(UNKNOWN_PATH, f"no registered device in tenant {self.tenant} for *")
        filed = [(ep, self._file(ep, outgoing, origin)) for ep in endpoints]
        self._start(self._send_everywhere(outgoing, filed))
        return filed

    async def _send_everywhere(
        self, outgoing: Outgoing, filed: list[tuple[str, ContentInstance]]
    ) -> None:
        jobs = [functools.partial(self._send, ep, outgoing, instance) for ep, instance in filed]
        await self.console.pool.run_all(jobs)

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _file(self, endpoint: str, outgoing: Outgoing, origin: str | None) -> ContentInstance:
        self.require(endpoint)
        return self.store.add(
            endpoint,
            OUTGOING,
            outgoing.con,
            now=self.now(),
            creator=origin or DEFAULT_ORIGIN,
            labels=outgoing.labels,
            content_info=outgoing.cnf,
            resource_name=outgoing.resource_name,
        )

    async def _send(self, endpoint: str, outgoing: Outgoing, instance: ContentInstance) -> None:
        lock = self._locks.setdefault(endpoint, asyncio.Lock())

        def sending(command: Command, labels: list[str]) -> None:
            content: Any = json_text.loads(command.text) if outgoing.rest else command.text
            self.store.add(
                endpoint,
                SENT,
                content,
                now=self.now(),
                creator=DEVICE_CREATOR,
                labels=labels,
                content_info=outgoing.cnf,
            )

        async with lock:
            try:
                await self.console.run_content(
                    endpoint, outgoing.text, outgoing=instance.resource_name, sending=sending
                )
            finally:
                self.store.node(endpoint, self.now()).containers[OUTGOING].remove(
                    instance.resource_name
                )

    async def drain(self) -> None:
        """Wait until every outgoing message posted so far has been answered."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop: cancel what is still being sent and stop listening to the server."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self.console.close()

    # -- the device node ------------------------------------------------------------------

    def node(self, endpoint: str) -> dict[str, Any]:
        """``GET .../<deviceID>``: the node with its registration timestamp labels."""
        node = self.require(endpoint)
        record = self.server.device(endpoint)
        labels = device_info(record)["labels"] if record is not None else []
        stamps = [] if record is None else _stamps(record)
        return {
            "node": {
                "nodeID": endpoint,
                "labels": labels,
                "resourceName": endpoint,
                "resourceType": NODE,
                "resourceID": node.resource_id,
                "parentID": self.tenant,
                "creationTime": onem2m_time(node.created),
                "lastModifiedTime": onem2m_time(max([node.created, *stamps])),
            }
        }

    def management(self, endpoint: str) -> dict[str, Any]:
        """``GET .../<deviceID>?ty=13&rcn=8``: the node's management objects."""
        node = self.require(endpoint)
        record = self.server.device(endpoint)
        info: dict[str, Any] = {
            "resourceName": "device-info",
            "mgmtDefinition": DEVICE_INFO_DEFINITION,
            "deviceLabel": endpoint,
            "resourceType": MGMT_OBJ,
            "resourceID": node.info_id,
            "parentID": node.resource_id,
            "creationTime": onem2m_time(node.created),
            "lastModifiedTime": onem2m_time(node.info_modified),
        }
        if record is not None:
            for name, attribute in INFO_FIELDS:
                value = getattr(record.info, attribute)
                if value is not None:
                    info[name] = str(value)
        return {"node": {"credentials": [], "deviceInfo": [info]}}


def _stamps(record: DeviceRecord) -> list[float]:
    return [
        stamp
        for stamp in (
            record.registered_at,
            record.updated_at,
            record.deregistered_at,
            record.expired_at,
        )
        if stamp is not None
    ]

"""The platform's oneM2M resources, kept in memory: content instances in containers.

Per device the stand-in keeps three containers, ``outgoing-msg`` (what applications POST),
``sent-msg`` (each command as it went to the device) and ``received-msg`` (what came back:
responses, notifications, registration events). A :class:`ContentInstance` carries the fields
the platform answers with: ``resourceName`` (a UUID), ``resourceID`` (24 hex digits),
``parentID`` (its container's id), ``stateTag`` (the container's change counter when it was
created), ``creationTime`` in the platform's ``YYYYMMDDTHHMMSS,ffffff`` form (UTC),
``creator``, ``labels``, ``contentInfo`` and ``contentSize``.

Pure bookkeeping: no I/O here; the wall-clock time comes from the caller. A container keeps its
last ``max_instances`` instances (oneM2M's ``mni``): the oldest are dropped first.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fleet.codec import json_text

OUTGOING, SENT, RECEIVED = "outgoing-msg", "sent-msg", "received-msg"
CONTAINERS = (OUTGOING, SENT, RECEIVED)
CONTENT_INSTANCE = 4
"""oneM2M resource type of a contentInstance (``ty=4``)."""
CONTAINER = 3
NODE = 14
MGMT_OBJ = 13
DEFAULT_MAX_INSTANCES = 100
"""Per container: enough for a demo or a test, bounded for a fleet of thousands."""


def onem2m_time(seconds: float) -> str:
    """``1752761133.829`` -> ``"20250717T140533,829000"`` (UTC, the platform's form)."""
    whole = int(seconds)
    micros = round((seconds - whole) * 1_000_000)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(whole)) + f",{micros:06d}"


def content_size(content: Any) -> int:
    """Bytes of the content: a text as UTF-8, anything else as compact JSON."""
    if isinstance(content, str):
        return len(content.encode("utf-8"))
    return len(json_text.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


class Ids:
    """Resource ids as the platform prints them: 24 hex digits (seconds, then a counter)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self, seconds: float) -> str:
        return f"{int(seconds) & 0xFFFFFFFF:08x}{next(self._counter):016x}"


@dataclass(frozen=True, slots=True)
class ContentInstance:
    """One ``contentInstance`` (``ty=4``)."""

    content: Any
    creator: str
    resource_name: str
    resource_id: str
    parent_id: str
    state_tag: int
    created: float
    """Wall-clock seconds since the epoch."""
    labels: tuple[str, ...] = ()
    content_info: str | None = None
    endpoint: str = ""
    container: str = ""

    def as_json(self) -> dict[str, Any]:
        """``{"contentInstance": {...}}`` in the platform's field order."""
        body: dict[str, Any] = {"content": self.content}
        if self.labels:
            body["labels"] = list(self.labels)
        if self.content_info is not None:
            body["contentInfo"] = self.content_info
        stamp = onem2m_time(self.created)
        body.update(
            {
                "resourceType": CONTENT_INSTANCE,
                "contentSize": content_size(self.content),
                "stateTag": self.state_tag,
                "creator": self.creator,
                "resourceName": self.resource_name,
                "resourceID": self.resource_id,
                "parentID": self.parent_id,
                "creationTime": stamp,
                "lastModifiedTime": stamp,
            }
        )
        return {"contentInstance": body}


@dataclass(slots=True)
class Container:
    """One container of one device, newest instance last."""

    name: str
    resource_id: str
    parent_id: str
    created: float
    max_instances: int = DEFAULT_MAX_INSTANCES
    state_tag: int = 0
    modified: float = 0.0
    instances: OrderedDict[str, ContentInstance] = field(default_factory=OrderedDict)

    def add(self, instance: ContentInstance) -> None:
        self.instances[instance.resource_name] = instance
        while len(self.instances) > self.max_instances:
            self.instances.popitem(last=False)

    def remove(self, resource_name: str) -> None:
        if self.instances.pop(resource_name, None) is not None:
            self.state_tag += 1

    def latest(self) -> ContentInstance | None:
        return next(reversed(self.instances.values()), None)

    def oldest(self) -> ContentInstance | None:
        return next(iter(self.instances.values()), None)

    def as_json(self, limit: int | None = None) -> dict[str, Any]:
        """The container with its instances (oldest first; the last ``limit`` ones)."""
        items = list(self.instances.values())
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        stamp = onem2m_time(self.created)
        return {
            "container": {
                "resourceName": self.name,
                "resourceType": CONTAINER,
                "resourceID": self.resource_id,
                "parentID": self.parent_id,
                "stateTag": self.state_tag,
                "maxNrOfInstances": self.max_instances,
                "currentNrOfInstances": len(self.instances),
                "currentByteSize": sum(content_size(i.content) for i in self.instances.values()),
                "creationTime": stamp,
                "lastModifiedTime": onem2m_time(self.modified or self.created),
                "contentInstance": [i.as_json()["contentInstance"] for i in items],
            }
        }


@dataclass(slots=True)
class DeviceNode:
    """A device's node: its id, when it was first seen and its three containers."""

    endpoint: str
    resource_id: str
    created: float
    containers: dict[str, Container]
    info_id: str
    info_modified: float


Listener = Callable[[ContentInstance], None]


class Store:
    """Every device node and its containers; hears of each new instance (``listen``)."""

    def __init__(self, *, max_instances: int = DEFAULT_MAX_INSTANCES, parent: str = "") -> None:
        self.max_instances = max(1, max_instances)
        self.parent = parent
        self.ids = Ids()
        self._nodes: dict[str, DeviceNode] = {}
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(instance)`` for each instance added; returns the unsubscriber."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def node(self, endpoint: str, now: float) -> DeviceNode:
        """The node of ``endpoint``, created (with its containers) on first use."""
        found = self._nodes.get(endpoint)
        if found is None:
            node_id = self.ids.next(now)
            containers = {
                name: Container(name, self.ids.next(now), node_id, now, self.max_instances)
                for name in CONTAINERS
            }
            found = DeviceNode(endpoint, node_id, now, containers, self.ids.next(now), now)
            self._nodes[endpoint] = found
        return found

    def known(self, endpoint: str) -> DeviceNode | None:
        return self._nodes.get(endpoint)

    def __iter__(self) -> Iterator[DeviceNode]:
        return iter(list(self._nodes.values()))

    def add(
        self,
        endpoint: str,
        container: str,
        content: Any,
        *,
        now: float,
        creator: str,
        labels: tuple[str, ...] | list[str] = (),
        content_info: str | None = None,
        resource_name: str | None = None,
    ) -> ContentInstance:
        """Create a content instance in ``endpoint``'s ``container`` and announce it."""
        box = self.node(endpoint, now).containers[container]
        box.state_tag += 1
        box.modified = now
        instance = ContentInstance(
            content=content,
            creator=creator,
            resource_name=resource_name or str(uuid.uuid4()),
            resource_id=self.ids.next(now),
            parent_id=box.resource_id,
            state_tag=box.state_tag,
            created=now,
            labels=tuple(labels),
            content_info=content_info,
            endpoint=endpoint,
            container=container,
        )
        box.add(instance)
        for listener in list(self._listeners):
            listener(instance)
        return instance

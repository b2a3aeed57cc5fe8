"""Server-Sent Events: every new content instance, for applications that would otherwise poll.

``GET /fleet/api/events`` answers ``text/event-stream`` and sends, from the moment it is
opened, one event per content instance filed::

    event: received-msg
    id: 6879032f50fa7af1af3e4999
    data: {"contentInstance": {...}}          (the same object as GET .../received-msg/la)

``?device=EP`` keeps one device's; ``?container=received-msg,sent-msg`` chooses containers
(default ``received-msg``). Each subscriber has a bounded queue (:data:`QUEUE`): a client that
does not read loses the oldest events, and is told so by a comment line
(``: dropped N events``). A comment every :data:`KEEPALIVE` seconds keeps proxies from closing
an idle stream. The stream ends when the client goes away or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from aiohttp import web

from fleet.codec import json_text
from fleet.server.http.api import STANDIN
from fleet.server.http.errors import BAD_REQUEST, HttpProblem
from fleet.server.http.resources import CONTAINERS, RECEIVED, ContentInstance

QUEUE = 1000
KEEPALIVE = 15.0


class Subscriber:
    """One open stream's queue of instances (bounded; the oldest go first)."""

    def __init__(self, device: str | None, containers: frozenset[str]) -> None:
        self.device = device
        self.containers = containers
        self.queue: deque[ContentInstance] = deque(maxlen=QUEUE)
        self.dropped = 0
        self.closed = False
        self._wake = asyncio.Event()

    def offer(self, instance: ContentInstance) -> None:
        if instance.container not in self.containers:
            return
        if self.device is not None and instance.endpoint != self.device:
            return
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        self.queue.append(instance)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()


SUBSCRIBERS: web.AppKey[set[Subscriber]] = web.AppKey("subscribers", set[Subscriber])


def event_text(instance: ContentInstance) -> bytes:
    """One SSE event for ``instance``."""
    data = json_text.dumps(instance.as_json(), ensure_ascii=False, separators=(",", ":"))
    return f"event: {instance.container}\nid: {instance.resource_id}\ndata: {data}\n\n".encode()


def _containers(text: str | None) -> frozenset[str]:
    if text is None:
        return frozenset({RECEIVED})
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - set(CONTAINERS))
    if not names or unknown:
        raise HttpProblem(BAD_REQUEST, f"container must be among {', '.join(CONTAINERS)}")
    return names


async def events(request: web.Request) -> web.StreamResponse:
    standin = request.app[STANDIN]
    device = request.query.get("device")
    if device is not None:
        standin.require(device)
    subscriber = Subscriber(device, _containers(request.query.get("container")))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    remove = standin.store.listen(subscriber.offer)
    request.app[SUBSCRIBERS].add(subscriber)
    try:
        await response.prepare(request)
        await response.write(b": fleet stand-in event stream\n\n")
        while not subscriber.closed:
            await subscriber.wait(KEEPALIVE)
            if subscriber.dropped:
                await response.write(f": dropped {subscriber.dropped} events\n\n".encode())
                subscriber.dropped = 0
            if not subscriber.queue:
                await response.write(b": keepalive\n\n")
            while subscriber.queue:
                await response.write(event_text(subscriber.queue.popleft()))
    except ConnectionResetError:  # the client went away
        pass
    finally:
        remove()
        request.app[SUBSCRIBERS].discard(subscriber)
    return response


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream."""
    subscribers: set[Subscriber] = app[SUBSCRIBERS]
    for subscriber in list(subscribers):
        subscriber.close()

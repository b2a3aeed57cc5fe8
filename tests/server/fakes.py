"""A small fake LwM2M device for testing the embedded server, built on CoapEndpoint.

It registers like a device (``POST /rd?ep=..&lt=..&lwm2m=..&b=U`` with a link-format payload),
answers GET / PUT / POST / DELETE / FETCH / iPATCH from a fixed table of values (``values``),
encoded with fleet.codec in the format asked for (or with a fixed payload per path and format,
``fixed``), records every request (``seen``), can be told to answer a code (``forced``), to stay
silent (``silent``), and sends notifications to whoever observes (``notify``). It knows nothing
of the real device client, so the server's tests do not depend on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import CoapEndpoint
from fleet.codec import (
    ContentFormat,
    ObjectEntry,
    build_node,
    choose_format,
    decode,
    decode_composite_request,
    encode,
    encode_send,
    format_links,
    register_payload,
)
from fleet.codec.link import Link
from fleet.errors import MethodNotAllowed, NotFound
from fleet.model import ROOT, Composite, ModelRegistry, Path, Value, flatten
from fleet.model.shipped import shipped_registry
from fleet.observe import parse_attributes

METHOD = {1: "GET", 2: "POST", 3: "PUT", 4: "DELETE", 5: "FETCH", 7: "IPATCH"}
MODELS = shipped_registry()

DEVICE_VALUES: dict[Path, Value] = {
    Path(3, 0, 0): "My Demo Device",
    Path(3, 0, 1): "Model 500",
    Path(3, 0, 2): "LT-500-000-0001",
    Path(3, 0, 3): "1.0.0",
    Path(3, 0, 9): 72,
    Path(3, 0, 11, 0): 0,
    Path(3, 0, 13): 1752761133,
    Path(3, 0, 16): "U",
    Path(3, 0, 19): "1.0.2",
    Path(6, 0, 0): -20.0,
    Path(6, 0, 1): -40.5,
    Path(6, 0, 5): 1760110380,
    Path(3303, 0, 5700): 21.5,
    Path(3303, 0, 5701): "Cel",
    Path(3303, 0, 5602): 25.5,
    Path(3442, 0, 110): "initial",
    Path(3442, 0, 120): -5,
    Path(3442, 0, 130): 3.5,
    Path(3442, 0, 140): True,
    Path(3442, 0, 150): b"\x01\x02",
    Path(3442, 0, 160): 946684800,
    Path(3442, 0, 1110, 0): "a",
    Path(3442, 0, 1110, 1): "b",
}
EXECUTABLE = frozenset({Path(3, 0, 4), Path(3, 0, 5), Path(3442, 0, 2), Path(3442, 0, 3)})


@dataclass(frozen=True)
class Seen:
    """One request the fake received."""

    method: str
    path: Path
    query: tuple[str, ...]
    content_format: int | None
    accept: int | None
    observe: int | None
    payload: bytes
    token: bytes


@dataclass
class Observer:
    remote: tuple[str, int]
    token: bytes
    fmt: ContentFormat
    paths: tuple[Path, ...]
    query: tuple[str, ...]


@dataclass
class FakeDevice:
    """A fake device; create with :meth:`start`."""

    name: str
    server: tuple[str, int]
    lwm2m: str = "1.1"
    lifetime: int = 60
    values: dict[Path, Value] = field(default_factory=lambda: dict(DEVICE_VALUES))
    models: ModelRegistry = MODELS
    seen: list[Seen] = field(default_factory=list)
    forced: dict[tuple[str, Path], int] = field(default_factory=dict)
    fixed: dict[tuple[Path, int], bytes] = field(default_factory=dict)
    attributes: dict[Path, dict[str, object]] = field(default_factory=dict)
    executed: list[tuple[Path, bytes]] = field(default_factory=list)
    observers: dict[Path, list[Observer]] = field(default_factory=dict)
    silent: bool = False
    before_answer: Any = None
    """A coroutine function awaited (once) before answering the next request."""
    root: str = ""
    """An alternate path (``"lwm2m"``): registered with ``rt="oma.lwm2m"``, required in requests."""
    location: tuple[str, ...] = ()
    endpoint: Any = None

    @classmethod
    async def start(
        cls, server: tuple[str, int], name: str = "dev1", *, host: str = "127.0.0.1", **kw: Any
    ) -> FakeDevice:
        device = cls(name, server, **kw)
        device.endpoint = await CoapEndpoint.bind(host, handler=device.handle)
        return device

    @property
    def address(self) -> tuple[str, int]:
        return self.endpoint.address  # type: ignore[no-any-return]

    def close(self) -> None:
        self.endpoint.close()

    # -- uplink -------------------------------------------------------------------------

    def objects(self) -> list[ObjectEntry]:
        instances: dict[int, set[int]] = {}
        for path in self.values:
            instances.setdefault(path[0], set()).add(path[1])
        return [
            ObjectEntry(obj, self.models.get(obj).version, sorted(ids))
            for obj, ids in sorted(instances.items())
        ]

    def register_query(self) -> list[str]:
        query = [f"ep={self.name}", f"lt={self.lifetime}", "b=U"]
        if self.lwm2m != "1.0":
            query.insert(2, f"lwm2m={self.lwm2m}")
        return query

    async def register(
        self, *, query: Iterable[str] | None = None, payload: bytes | None = None
    ) -> Any:
        """POST /rd; keeps the Location-Path of a 2.01."""
        body = payload
        if body is None:
            body = register_payload(
                self.objects(), lwm2m_version=self.lwm2m, alternate_path=self.root or None
            ).encode()
        message = Message(
            code=Code.POST,
            uri_path=("rd",),
            uri_query=tuple(self.register_query() if query is None else query),
            payload=body,
        )
        message.opt.content_format = ContentFormat.LINK
        response = await self.endpoint.request(message, self.server, timeout=5.0)
        if response.code == Code.CREATED:
            self.location = tuple(response.opt.location_path)
        return response

    async def update(self, query: Iterable[str] = (), payload: bytes = b"") -> Any:
        message = Message(
            code=Code.POST, uri_path=self.location, uri_query=tuple(query), payload=payload
        )
        if payload:
            message.opt.content_format = ContentFormat.LINK
        return await self.endpoint.request(message, self.server, timeout=5.0)

    async def deregister(self) -> Any:
        message = Message(code=Code.DELETE, uri_path=self.location)
        return await self.endpoint.request(message, self.server, timeout=5.0)

    async def send(
        self, values: Mapping[Path, Value], fmt: ContentFormat = ContentFormat.SENML_CBOR
    ) -> Any:
        composite = build_node(Path(), values, self.models)
        assert isinstance(composite, Composite)
        message = Message(
            code=Code.POST, uri_path=("dp",), payload=encode_send(composite, self.models, fmt)
        )
        message.opt.content_format = fmt
        return await self.endpoint.request(message, self.server, timeout=5.0)

    async def notify(self, path: Path = ROOT, *, confirmable: bool = False) -> list[bool]:
        """Notify every observer of ``path`` (``Path()``: the composite observers)."""
        futures = []
        for observer in self.observers.get(path, []):
            response = self._content(observer.paths, observer.fmt, composite=not path)
            futures.append(
                self.endpoint.notify(
                    observer.remote, observer.token, response, confirmable=confirmable
                )
            )
        return list(await asyncio.gather(*futures))

    async def notify_error(self, path: Path, code: int) -> list[bool]:
        """End the observations of ``path`` with an error notification."""
        futures = [
            self.endpoint.notify(o.remote, o.token, Message(code=code))
            for o in self.observers.pop(path, [])
        ]
        return list(await asyncio.gather(*futures))

    # -- answering ----------------------------------------------------------------------

    def handle(self, request: Any) -> Any:
        segments = tuple(request.opt.uri_path)
        if self.root:
            if segments[:1] != (self.root,):
                raise NotFound("outside the alternate path")
            segments = segments[1:]
        path = Path(*(int(p) for p in segments))
        method = METHOD.get(int(request.code), "?")
        cf = request.opt.content_format
        accept = request.opt.accept
        self.seen.append(
            Seen(
                method,
                path,
                tuple(request.opt.uri_query),
                None if cf is None else int(cf),
                None if accept is None else int(accept),
                request.opt.observe,
                bytes(request.payload),
                bytes(request.token),
            )
        )
        if self.silent:
            return asyncio.get_running_loop().create_future()  # never answered
        if self.before_answer is not None:
            first, self.before_answer = self.before_answer, None
            return self._later(first, request, method, path)
        return self._answer(request, method, path)

    async def _later(self, first: Any, request: Any, method: str, path: Path) -> Any:
        await first()
        return self._answer(request, method, path)

    def _answer(self, request: Any, method: str, path: Path) -> Any:
        cf = request.opt.content_format
        code = self.forced.get((method, path))
        if code is not None:
            return Message(code=code)
        if method in ("GET", "FETCH"):
            return self._read(request, method, path)
        if method == "PUT":
            if not request.payload and request.opt.uri_query:
                update = parse_attributes(list(request.opt.uri_query))
                self.attributes.setdefault(path, {}).update(dict(update.values.items()))
                return Message(code=Code.CHANGED)
            self._write(path, request, replace=True)
            return Message(code=Code.CHANGED)
        if method == "POST":
            return self._post(path, request)
        if method == "DELETE":
            if len(path) != 2:
                raise MethodNotAllowed("delete an instance")
            self._drop(path)
            return Message(code=Code.DELETED)
        if method == "IPATCH":
            composite = decode(int(cf), request.payload, Path(), self.models)
            self.values.update(flatten(composite))
            return Message(code=Code.CHANGED)
        raise MethodNotAllowed(method)

    def _read(self, request: Any, method: str, path: Path) -> Any:
        accept = request.opt.accept
        observe = request.opt.observe
        if accept is not None and int(accept) == ContentFormat.LINK:
            return self._discover(path)
        if method == "FETCH":
            fmt = ContentFormat(int(request.opt.content_format))
            paths = tuple(decode_composite_request(fmt, request.payload))
            response = self._content(paths, ContentFormat(int(accept or fmt)), composite=True)
            key = Path()
        else:
            fixed = self.fixed.get((path, int(accept) if accept is not None else -1))
            if fixed is not None:
                return Message(code=Code.CONTENT, payload=fixed, content_format=int(accept))
            if not any(path.contains(p) for p in self.values):
                raise NotFound(str(path))
            single = len(path) == 4 or (
                len(path) == 3 and not self.models.get(path[0]).resources[path[2]].multiple
            )
            fmt = choose_format(
                None if accept is None else int(accept), path, self.lwm2m, None, single
            )
            paths = (path,)
            response = self._content(paths, fmt, composite=False)
            key = path
        if observe == 0:
            observer = Observer(
                request.remote, bytes(request.token), fmt, paths, tuple(request.opt.uri_query)
            )
            self.observers.setdefault(key, []).append(observer)
            response.opt.observe = 0
        elif observe == 1:
            kept = [o for o in self.observers.get(key, []) if o.token != bytes(request.token)]
            self.observers[key] = kept
        return response

    def _content(self, paths: tuple[Path, ...], fmt: ContentFormat, *, composite: bool) -> Any:
        leaves = {p: v for p, v in self.values.items() if any(t.contains(p) for t in paths)}
        at = Path() if composite else paths[0]
        node = build_node(at, leaves, self.models)
        payload = encode(fmt, node, at, self.models)
        return Message(code=Code.CONTENT, payload=payload, content_format=int(fmt))

    def _discover(self, path: Path) -> Any:
        below = sorted({Path(*p[:3]) for p in self.values if path.contains(p) and len(p) >= 3})
        if not below:
            raise NotFound(str(path))
        links = [Link(str(path), {k: str(v) for k, v in self.attributes.get(path, {}).items()})]
        links += [Link(str(p)) for p in below if p != path]
        return Message(
            code=Code.CONTENT,
            payload=format_links(links).encode(),
            content_format=int(ContentFormat.LINK),
        )

    def _post(self, path: Path, request: Any) -> Any:
        if path in EXECUTABLE:
            self.executed.append((path, bytes(request.payload)))
            return Message(code=Code.CHANGED)
        if len(path) == 1:
            fmt = int(request.opt.content_format)
            used = {p[1] for p in self.values if p[0] == path[0]}
            try:
                node = decode(fmt, request.payload, path, self.models)
                written = flatten(node, path)
            except Exception:  # TLV without the instance: the device picks the id
                new = Path(path[0], max(used, default=-1) + 1)
                written = flatten(decode(fmt, request.payload, new, self.models), new)
            iid = next(iter(written))[1]
            self.values.update(written)
            return Message(code=Code.CREATED, location_path=(str(path[0]), str(iid)))
        self._write(path, request, replace=False)
        return Message(code=Code.CHANGED)

    def _write(self, path: Path, request: Any, *, replace: bool) -> None:
        node = decode(int(request.opt.content_format), request.payload, path, self.models)
        if replace:
            self._drop(path)
        self.values.update(flatten(node, path))

    def _drop(self, path: Path) -> None:
        for p in [p for p in self.values if path.contains(p)]:
            del self.values[p]

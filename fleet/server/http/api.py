"""The platform's HTTP API paths, served by aiohttp over a :class:`~.standin.StandIn`.

Under ``/device-management-orchestrator/v3/<tenant>/`` (the seed document's paths):

- ``POST device-communication/<deviceID>/outgoing-msg``: an outgoing message
  (:mod:`.outgoing`); 201 with the ``contentInstance`` as filed; ``<deviceID>`` ``*``: one
  for every registered device (sent through the console's bounded pool), 201 with
  ``{"m2m:uril": [their paths]}``;
- ``GET device-communication/<deviceID>/<container>``: the container (``outgoing-msg``,
  ``sent-msg``, ``received-msg``) with its instances, oldest first (``?lim=N``: the last N);
- ``GET device-communication/<deviceID>/<container>/la`` (latest), ``/ol`` (oldest) or
  ``/<resourceName>``: one ``contentInstance`` (404 when there is none);
- ``GET <deviceID>``: the device node; ``GET <deviceID>?ty=13&rcn=8``: its management objects
  (``deviceInfo``).

A tenant other than the configured one, a device the server never saw, or any other path is a
404; a method a resource does not take is a 405; with a token every request needs
``Authorization: Bearer <token>`` (401 otherwise). Errors come in one shape (:mod:`.errors`).
The ``X-M2M-RI`` request id is echoed.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from fleet.codec import json_text
from fleet.server.http.errors import (
    BAD_REQUEST,
    NOT_ACCEPTABLE,
    UNAUTHORIZED,
    UNKNOWN_PATH,
    Handler,
    HttpProblem,
)
from fleet.server.http.outgoing import parse_outgoing
from fleet.server.http.resources import CONTAINERS, OUTGOING, ContentInstance
from fleet.server.http.standin import StandIn
from fleet.server.platform.console import EVERY

PREFIX = "/device-management-orchestrator/v3"
STANDIN: web.AppKey[StandIn] = web.AppKey("standin", StandIn)
TOKEN: web.AppKey[str | None] = web.AppKey("token", str)


def reply(request: web.Request, body: Any, status: int = 200) -> web.Response:
    headers = {}
    if "X-M2M-RI" in request.headers:
        headers["X-M2M-RI"] = request.headers["X-M2M-RI"]
    return web.Response(
        status=status,
        text=json_text.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers=headers,
    )


def check_token(request: web.Request) -> None:
    """401 unless the request carries the configured bearer token (if there is one)."""
    token = request.app[TOKEN]
    if token is None:
        return
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HttpProblem(UNAUTHORIZED, "missing Authorization: Bearer <token>")
    if not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise HttpProblem(UNAUTHORIZED, "the bearer token is not valid")


def check_accept(request: web.Request) -> None:
    """406 (the error table's "The command, not acceptable") unless JSON is acceptable."""
    accept = request.headers.get("Accept", "")
    ranges = {part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()}
    if ranges and not ranges & {"application/json", "application/*", "*/*"}:
        raise HttpProblem(NOT_ACCEPTABLE, f"the API answers application/json, not {accept}")


@web.middleware
async def token_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The token check on the API and the console's data paths (not on the page itself);
    on the API paths also the ``Accept`` check."""
    if request.path.startswith((PREFIX + "/", "/fleet/api/")):
        check_token(request)
    if request.path.startswith(PREFIX + "/"):
        check_accept(request)
    return await handler(request)


def _standin(request: web.Request) -> StandIn:
    standin = request.app[STANDIN]
    tenant = request.match_info["tenant"]
    if tenant != standin.tenant:
        raise HttpProblem(UNKNOWN_PATH, f"no tenant named {tenant!r}")
    return standin


def _container(request: web.Request) -> tuple[StandIn, str, str]:
    standin = _standin(request)
    device, name = request.match_info["device"], request.match_info["container"]
    if name not in CONTAINERS:
        raise HttpProblem(UNKNOWN_PATH, f"no container {name!r} (one of {', '.join(CONTAINERS)})")
    standin.require(device)
    return standin, device, name


async def post_outgoing(request: web.Request) -> web.Response:
    standin = _standin(request)
    device = request.match_info["device"]
    if device != EVERY:
        standin.require(device)
    outgoing = parse_outgoing(await request.read(), request.headers.get("Content-Type", ""))
    origin = request.headers.get("X-M2M-Origin")
    if device == EVERY:  # every registered device: 201 with the list of instances filed
        filed = standin.submit_everywhere(outgoing, origin)
        where = f"device-communication/{{}}/{OUTGOING}/{{}}"
        uris = [where.format(endpoint, instance.resource_name) for endpoint, instance in filed]
        return reply(request, {"m2m:uril": uris}, status=201)
    instance = standin.submit(device, outgoing, origin)
    return reply(request, instance.as_json(), status=201)


async def get_container(request: web.Request) -> web.Response:
    standin, device, name = _container(request)
    limit: int | None = None
    if "lim" in request.query:
        text = request.query["lim"]
        if not text.isdigit():
            raise HttpProblem(BAD_REQUEST, f"lim must be a whole number, not {text!r}")
        limit = int(text)
    box = standin.store.node(device, standin.now()).containers[name]
    return reply(request, box.as_json(limit))


async def get_instance(request: web.Request) -> web.Response:
    standin, device, name = _container(request)
    box = standin.store.node(device, standin.now()).containers[name]
    which = request.match_info["instance"]
    found: ContentInstance | None
    if which == "la":
        found = box.latest()
    elif which == "ol":
        found = box.oldest()
    else:
        found = box.instances.get(which)
    if found is None:
        what = {"la": "latest", "ol": "oldest"}.get(which, repr(which))
        raise HttpProblem(UNKNOWN_PATH, f"{device}/{name} has no {what} content instance")
    return reply(request, found.as_json())


async def get_node(request: web.Request) -> web.Response:
    standin = _standin(request)
    device = request.match_info["device"]
    query = request.query
    unknown = sorted(set(query) - {"ty", "rcn"})
    if unknown:
        raise HttpProblem(BAD_REQUEST, f"unknown query parameters: {', '.join(unknown)}")
    if not query:
        return reply(request, standin.node(device))
    if query.get("ty") == "13" and query.get("rcn") == "8":
        return reply(request, standin.management(device))
    raise HttpProblem(
        BAD_REQUEST, "a node is read plain or with ?ty=13&rcn=8 (its management objects)"
    )


def add_routes(app: web.Application) -> None:
    """The platform's paths (see the module docstring)."""
    base = PREFIX + "/{tenant}"
    comm = base + "/device-communication/{device}"
    app.router.add_post(comm + "/" + OUTGOING, post_outgoing)
    app.router.add_get(comm + "/{container}", get_container)
    app.router.add_get(comm + "/{container}/{instance}", get_instance)
    app.router.add_get(base + "/{device}", get_node)

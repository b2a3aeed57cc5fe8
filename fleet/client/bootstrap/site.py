"""Where a request of the Bootstrap-Server becomes a bootstrap operation and an error a code.

:func:`serve_bootstrap` is the device's CoAP handler for requests that come
from its Bootstrap-Server (LwM2M 1.1 Core, 5.2.7 Bootstrap Interface):

======  ==========================================  ========================
method  request                                     operation
======  ==========================================  ========================
PUT     ``/o``, ``/o/i``, ``/o/i/r``, ``/o/i/r/ri``   Bootstrap-Write
GET     Accept: link-format (40), ``/`` or ``/o``    Bootstrap-Discover
GET     ``/1...`` or ``/2...`` (1.1)                 Bootstrap-Read
DELETE  ``/``, ``/o``, ``/o/i``                      Bootstrap-Delete
POST    ``/bs``                                      Bootstrap-Finish
======  ==========================================  ========================

Anything else is 4.05 Method Not Allowed (an unknown path 4.04). A
Bootstrap-Finish is first shown to the device's interceptors (the fault seam,
:func:`intercept_finish`): a device that ignores Finish drops it (no answer,
nothing done: the Bootstrap-Server times out and the device's own wait for
Finish runs out), answers a code without acting on it, or acts on it late.
Other bootstrap operations are never intercepted. What a
Bootstrap-Delete removes and what Finish checks come from
:mod:`fleet.client.bootstrap.rules`; Finish itself is decided by the host
(:meth:`BootstrapSiteHost.bootstrap_finish`), which answers what is wrong (4.06)
or ``None`` (2.04 Changed). Errors are translated by
:func:`fleet.client.site.error_response`, like every other request's.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from fleet.client import operations as ops
from fleet.client.bootstrap import rules
from fleet.client.coap.results import NO_REPLY
from fleet.client.coap.wire import Message
from fleet.client.events import Operation
from fleet.client.site import (
    DELETE,
    GET,
    INTERNAL_SERVER_ERROR,
    METHOD_NAMES,
    POST,
    PUT,
    Interceptor,
    SiteHost,
    Verdict,
    error_response,
    parse_uri_path,
    report_served,
)
from fleet.errors import BadRequest, Lwm2mError, MethodNotAllowed, NotAcceptable, NotFound
from fleet.model.path import Path

_log = logging.getLogger("fleet.client.bootstrap")

CHANGED, DELETED, CONTENT = 68, 66, 69


class BootstrapSiteHost(SiteHost, Protocol):
    """What the bootstrap site needs from its device beyond the site's needs."""

    def bootstrap_finish(self) -> str | None:
        """Bootstrap-Finish arrived: ``None`` accepts it, a text refuses it (4.06)."""
        ...

    def bootstrap_touched(self) -> None:
        """A bootstrap operation arrived (server-initiated bootstrap starts here)."""
        ...

    def bootstrap_finish_ignored(self) -> None:
        """A fault dropped or refused the Finish (the device did not act on it)."""
        ...


def classify(method: int, segments: tuple[str, ...], accept: int | None) -> Operation:
    """The bootstrap operation a request asks for (see the module's table)."""
    if segments == ("bs",):
        return Operation.BOOTSTRAP_FINISH if method == POST else Operation.UNKNOWN
    if method == PUT:
        return Operation.BOOTSTRAP_WRITE
    if method == GET:
        if accept == ops.LINK_FORMAT:
            return Operation.BOOTSTRAP_DISCOVER
        return Operation.BOOTSTRAP_READ
    if method == DELETE:
        return Operation.BOOTSTRAP_DELETE
    return Operation.UNKNOWN


def _segments(request: Any) -> tuple[str, ...]:
    segments = tuple(request.opt.uri_path)
    return segments[:-1] if segments and segments[-1] == "" else segments


def serve_bootstrap(
    host: BootstrapSiteHost, request: Any, interceptors: tuple[Interceptor, ...] = ()
) -> Any:
    """Answer one request of the Bootstrap-Server (a Finish through ``interceptors``)."""
    if interceptors:
        segments = _segments(request)
        if classify(int(request.code), segments, None) is Operation.BOOTSTRAP_FINISH:
            return intercept_finish(host, request, interceptors)
    return _serve(host, request)


def intercept_finish(
    host: BootstrapSiteHost, request: Any, interceptors: tuple[Interceptor, ...]
) -> Any:
    """A Bootstrap-Finish through ``interceptors`` (the first verdict wins): dropped (the
    device ignores it), answered with a code instead of acting, delayed, or served."""
    verdict: Verdict | None = None
    for interceptor in interceptors:
        verdict = interceptor(request, Operation.BOOTSTRAP_FINISH, None)
        if verdict is not None:
            break
    if verdict is None:
        return _serve(host, request)
    _log.info("%s: Bootstrap-Finish intercepted (%s)", host.name, verdict)
    if verdict.dropped:
        host.bootstrap_finish_ignored()
        return NO_REPLY
    if verdict.code is not None:
        host.bootstrap_finish_ignored()
        response = Message(code=verdict.code)
        if host.listening:
            report_served(
                host,
                request,
                Operation.BOOTSTRAP_FINISH,
                POST,
                response,
                host.clock.now(),
                injected=True,
            )
        return response
    return _late(host, request, host.clock.now() + verdict.delay_s)


async def _late(host: BootstrapSiteHost, request: Any, when: float) -> Any:
    await host.clock.sleep_until(when)
    return _serve(host, request)


def _serve(host: BootstrapSiteHost, request: Any) -> Any:
    started = host.clock.now()
    segments = _segments(request)
    method = int(request.code)
    operation = classify(method, segments, ops.accept_of(request))
    try:
        host.bootstrap_touched()
        response = _run(host, operation, segments, request)
    except Lwm2mError as error:
        response = error_response(error)
    except (ValueError, OverflowError) as error:
        response = error_response(BadRequest(f"malformed request: {error}"))
    except Exception:
        _log.exception("device %s failed to answer bootstrap request %s", host.name, request)
        response = Message(code=INTERNAL_SERVER_ERROR)
    if host.listening:
        report_served(host, request, operation, method, response, started)
    return response


def _run(host: BootstrapSiteHost, operation: Operation, segments: tuple[str, ...], req: Any) -> Any:
    if operation is Operation.BOOTSTRAP_FINISH:
        problem = host.bootstrap_finish()
        if problem is not None:
            raise NotAcceptable(problem)
        return Message(code=CHANGED)
    if operation is Operation.UNKNOWN:
        method = METHOD_NAMES.get(int(req.code), str(req.code))
        raise MethodNotAllowed(f"/{'/'.join(segments)}: {method} is not a bootstrap operation")
    path = parse_uri_path(segments)
    if path is None:
        raise NotFound(f"/{'/'.join(segments)}: not an LwM2M path")
    if operation is Operation.BOOTSTRAP_DISCOVER:
        payload = rules.discover_links(host.tree, path, host.lwm2m_version)
        return Message(code=CONTENT, payload=payload.encode(), content_format=ops.LINK_FORMAT)
    if operation is Operation.BOOTSTRAP_READ:
        if host.lwm2m_version == "1.0":
            raise MethodNotAllowed(f"{path}: Bootstrap-Read is a LwM2M 1.1 operation")
        rules.check_read(path)
        return ops.read(host, path, req)
    if operation is Operation.BOOTSTRAP_DELETE:
        for target in rules.deletions(host.tree, path):
            host.tree.remove_instance(target[0], target[1])
            if host.has_attributes():
                host.attributes.discard(target)
        return Message(code=DELETED)
    return _write(host, path, req)


def _write(host: BootstrapSiteHost, path: Path, request: Any) -> Any:
    if not path:
        raise MethodNotAllowed("/: a Bootstrap-Write targets an object or below")
    model = host.tree.model(path[0])
    resource = model.resources.get(path[2]) if len(path) >= 3 else None
    if len(path) >= 3 and resource is None:
        raise NotFound(f"{path}: object {path[0]} ({model.name}) has no resource {path[2]}")
    node = ops.write_value(host, path, request, resource, ops.content_format_of(request))
    host.tree.bootstrap_write(path, node)
    return Message(code=CHANGED)

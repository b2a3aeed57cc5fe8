"""HTTP errors of the stand-in, in one shape, translated in one place (:func:`error_middleware`).

Every error answer is JSON::

    {"m2m:dbg": "what exactly is wrong",
     "status": {"code": 404, "message": "Not Found", "detail": "<the platform's text>"}}

``m2m:dbg`` is oneM2M's debug-info member (what a oneM2M client library shows); ``status`` is
the triple of the platform's error table (:mod:`fleet.server.platform.texts`), with its words
where the table has a row for the case. :class:`HttpProblem` raised by a handler becomes that
answer; so do aiohttp's own errors (unknown path 404, wrong method 405, body too large 413)
and, as a last resort, any unexpected exception (500, logged; never a traceback in the body).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from fleet.codec import json_text
from fleet.errors import FleetError
from fleet.server.platform import texts
from fleet.server.platform.texts import Status

_log = logging.getLogger("fleet.server.http")

UNKNOWN_PATH = Status(404, "Not Found", "The requested resource does not exist.")
METHOD_NOT_ALLOWED = Status(405, "method not allowed", "This resource does not allow the method.")
UNAUTHORIZED = Status(
    401,
    "unauthorized",
    "Command could not been sent to LwM2M protocol-adapter. Unauthorized request.",
)
NOT_ACCEPTABLE = Status(
    406,
    "not acceptable",
    "Command was not successfully sent to the device. The command, not acceptable.",
)
TOO_LARGE = Status(413, "payload too large", "The request body is larger than the server accepts.")
NOT_IMPLEMENTED = Status(501, "not implemented", "This stand-in cannot do that here.")
INTERNAL = Status(
    500,
    "internal server error",
    "Command could not been sent to LwM2M protocol-adapter. Internal Server Error.",
)
BAD_REQUEST = texts.BAD_PAYLOAD
UNSUPPORTED = texts.UNSUPPORTED_FORMAT
_BY_CODE = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    404: UNKNOWN_PATH,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    413: TOO_LARGE,
    415: UNSUPPORTED,
}


class HttpProblem(FleetError):
    """An HTTP request the stand-in refuses: its status row and what exactly is wrong."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def error_body(status: Status, reason: str) -> dict[str, object]:
    return {"m2m:dbg": reason, "status": status.as_json()}


def error_response(status: Status, reason: str, request: web.Request | None = None) -> web.Response:
    """The JSON answer for ``status`` (``WWW-Authenticate`` on a 401)."""
    headers = {}
    if request is not None and "X-M2M-RI" in request.headers:
        headers["X-M2M-RI"] = request.headers["X-M2M-RI"]
    if status.code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="fleet"'
    return web.Response(
        status=status.code,
        text=json_text.dumps(error_body(status, reason), ensure_ascii=False),
        content_type="application/json",
        headers=headers,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal and failure of a handler as :func:`error_response`."""
    try:
        return await handler(request)
    except HttpProblem as problem:
        return error_response(problem.status, problem.reason, request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        status = _BY_CODE.get(error.status) or Status(error.status, error.reason)
        reason = {
            404: f"no resource at {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: "the request body is too large",
        }.get(error.status, error.text or error.reason)
        return error_response(status, reason, request)
    except Exception:
        _log.exception("HTTP %s %s failed", request.method, request.path)
        return error_response(INTERNAL, "the stand-in failed on this request", request)

"""What the embedded server's API raises: refused requests, silent devices, rejected results.

A device's own answer, whatever its code, is a :class:`~fleet.server.results.Result`, never an
exception; only :meth:`Result.raise_for_status` turns a 4.xx/5.xx into :class:`DeviceError`.
Exceptions say that no answer exists:

- :class:`InvalidRequest`: refused before anything was sent (bad path, a value that does not
  fit the model, a format that cannot carry it); ``status`` is the HTTP-like code a platform
  would report (400, 404 for an unknown endpoint, 415 for a format);
- :class:`NoModel`: an :class:`InvalidRequest` for a Write the server has no object model
  to encode (anything but one plain value, which goes as text/plain);
- :class:`InsecureRoute`: the device registered over DTLS and has no session with that
  identity now; nothing is sent in the clear (a platform's 503);
- :class:`DeviceTimeout`: the device did not answer in time (a platform's 408);
- :class:`DeviceReset`: the device answered the request with a CoAP Reset;
- :class:`TransferFailed`: a block-wise answer could not be completed;
- :class:`ServerClosed`: the server was stopped while the request waited.

Errors a *device* sends to the server (4.00 for a malformed Register...) are the
:class:`fleet.errors.Lwm2mError` subclasses, answered by the CoAP layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleet.errors import FleetError

if TYPE_CHECKING:
    from fleet.model import Path
    from fleet.server.results import Result


class ServerError(FleetError):
    """Root of the errors the embedded server's API raises."""

    status: int = 500
    """The HTTP-like code a platform reports for this error."""


class InvalidRequest(ServerError, ValueError):
    """The request was refused before it was sent (nothing reached the device)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class UnknownEndpoint(InvalidRequest, LookupError):
    """No device with this endpoint name is registered."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"no registered device named {endpoint!r}", status=404)
        self.endpoint = endpoint


class NoModel(InvalidRequest):
    """A Write the server cannot encode: it has no object definition for ``paths`` (load one
    with ``--objects DIR``, or ``models=`` in Python). The message says why, naming them."""

    def __init__(self, message: str, paths: tuple[Path, ...]) -> None:
        super().__init__(message, status=400)
        self.paths = paths


class BadRule(ServerError, ValueError):
    """An on-register rule that is no command (``fleet server --on-register``, a scenario's
    ``embedded_server: on_register``), refused at start-up, saying what is wrong."""

    status = 400


class InsecureRoute(InvalidRequest):
    """A DTLS-bound registration has no DTLS session with its identity now: the request is
    not sent (see :func:`fleet.server.binding.may_send`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=503)


class RequestFailed(ServerError):
    """A request was sent but no usable answer came back."""

    def __init__(
        self, message: str, *, endpoint: str, operation: str, request_id: str, target: str = ""
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.operation = operation
        self.request_id = request_id
        self.target = target
        """The path(s) the request named, as text (``/3/0``; comma-separated for composites)."""


class DeviceTimeout(RequestFailed, TimeoutError):
    """The device did not answer in time (retransmissions exhausted or the timeout ran out)."""

    status = 408


class DeviceReset(RequestFailed):
    """The device answered the request with a CoAP Reset (it could not process it)."""

    status = 503


class TransferFailed(RequestFailed):
    """A block-wise answer could not be completed (too large, changed, out of order)."""

    status = 502


class ServerClosed(ServerError):
    """The server is stopped (or was stopped while the request waited)."""

    status = 503


class DeviceError(ServerError):
    """A device answered with an error code; raised only by :meth:`Result.raise_for_status`."""

    def __init__(self, result: Result) -> None:
        super().__init__(
            f"{result.endpoint}: {result.operation} {result.target} answered {result.code}"
            f" {result.reason}"
        )
        self.result = result
        self.status = result.code_number

"""One exception hierarchy for the whole package.

Every error the package raises on purpose derives from :class:`FleetError`.
Errors that a device answers on the wire are :class:`Lwm2mError` subclasses and
carry their CoAP response code; they are translated into a response in exactly
one place (the client's CoAP site). Errors about user input say *where* the
problem is (file, line, element) so that a message can point at it.
"""

from __future__ import annotations


class FleetError(Exception):
    """Root of every error raised by lwm2m-fleet."""


class ConfigError(FleetError, ValueError):
    """A configuration that cannot work: a device's settings, a server URI (also a
    :class:`ValueError`)."""


class Lwm2mError(FleetError):
    """An error a device answers with a CoAP code (class.detail, e.g. 4.04)."""

    code: tuple[int, int] = (5, 0)
    reason: str = "internal server error"

    @property
    def code_text(self) -> str:
        """The code as written in the specification, e.g. ``"4.04"``."""
        return f"{self.code[0]}.{self.code[1]:02d}"

    @property
    def code_number(self) -> int:
        """The code as an HTTP-like number, e.g. 404."""
        return self.code[0] * 100 + self.code[1]


class BadRequest(Lwm2mError):
    """4.00: the request or its payload cannot be processed."""

    code = (4, 0)
    reason = "bad request"


class Unauthorized(Lwm2mError):
    """4.01: the requester is not authorised."""

    code = (4, 1)
    reason = "unauthorized"


class Forbidden(Lwm2mError):
    """4.03: the operation is forbidden for this requester."""

    code = (4, 3)
    reason = "forbidden"


class NotFound(Lwm2mError):
    """4.04: the object, instance or resource does not exist."""

    code = (4, 4)
    reason = "not found"


class MethodNotAllowed(Lwm2mError):
    """4.05: the operation is not allowed on this target."""

    code = (4, 5)
    reason = "method not allowed"


class NotAcceptable(Lwm2mError):
    """4.06: none of the accepted content formats can carry the answer."""

    code = (4, 6)
    reason = "not acceptable"


class UnsupportedContentFormat(Lwm2mError):
    """4.15: the payload's content format is not supported."""

    code = (4, 15)
    reason = "unsupported content format"


class InternalServerError(Lwm2mError):
    """5.00: the device failed while handling the request."""

    code = (5, 0)
    reason = "internal server error"


class ServiceUnavailable(Lwm2mError):
    """5.03: the device cannot serve the request now."""

    code = (5, 3)
    reason = "service unavailable"


class CodecError(BadRequest):
    """A payload could not be encoded or decoded; answered as 4.00."""


class InvalidValue(BadRequest):
    """A value does not fit its resource's type or range; answered as 4.00."""


class LocatedError(FleetError):
    """An error in user input that knows where it is (file, line, column, item)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        item: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.item = item
        super().__init__(self.located())

    def located(self) -> str:
        """``file:line:col: [item] message`` with whatever parts are known."""
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        item = f"{self.item}: " if self.item else ""
        return f"{where}{item}{self.message}"


class PathError(FleetError, ValueError):
    """A text that is not a valid LwM2M path (also a :class:`ValueError`)."""


class DdfError(LocatedError):
    """A DDF XML file that cannot be loaded (names the file and the Item id)."""


class ScenarioError(LocatedError):
    """A scenario file with a mistake (names file:line:col)."""

"""The platform's status texts: the rows of its "received message error table".

Every received message carries ``status: {code, message, detail}``. The texts below are the
table's, word for word (the table's own grammar included), so that a user of the platform
recognises them. :func:`device_status` maps a device's CoAP answer code to its row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fleet.model import Path
from fleet.server.unmodelled import no_model_text

SENT = "Command was successfully sent to the device."


@dataclass(frozen=True, slots=True)
class Status:
    """``status`` of a received message: an HTTP-like code, its message and a detail."""

    code: int
    message: str
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


SUCCESS = Status(200, "success")
BAD_PAYLOAD = Status(
    400,
    "bad request",
    "Command could not been sent to LwM2M protocol-adapter. Check the payload of your message."
    " Bad request.",
)
VALUE_MANDATORY = Status(
    400,
    "bad request",
    "Command was not sent to the device. Check the value in the outgoing-msg."
    " Value is mandatory for WRITE.",
)
BAD_PATH = Status(
    404, "Not Found", "Command was not sent to the device. Check the path in the outgoing message."
)
NO_MATCHING_OBSERVE = Status(
    404,
    "Not Found",
    "The command UNOBSERVE could not been proceeded. No matching OBSERVE was found.",
)
BAD_OPERATION = Status(
    405,
    "method not allowed",
    "Command was not sent to the device. Invalid format of operation from outgoing message.",
)
TIMEOUT = Status(  # \u2019: the table's own apostrophe
    408,
    "request timeout",
    "Command was sent to the device, but didn\u2019t reach the device due to a timeout."
    " Please check following device parameters: Binding mode, LwM2M Lifetime.",
)
ALREADY_OBSERVED = Status(
    409,
    "request conflict",
    "A resource with the same parameter already exists."
    " Please verify the resource name or ID and try again.",
)
UNSUPPORTED_FORMAT = Status(
    415, "unsupported media type", "Command was not sent to the device. Unsupported message format"
)


def no_device(endpoint: str) -> Status:
    """An endpoint with no registration (never registered, gone, or expired): 404, naming
    it. The table's 500 "unable to get device data" would blame the adapter instead."""
    return Status(404, "Not Found", f"Command was not sent: no registered device named {endpoint}.")


def not_sent(reason: str) -> Status:
    """400: refused before sending, saying exactly why (e.g. the server has no model of the
    resource: ``no model for /20500/0/1 ...; load its definition with --objects DIR``)."""
    return Status(400, "bad request", f"Command was not sent to the device: {reason}.")


def with_note(status: Status, note: str | None) -> Status:
    """``status`` with ``note`` as (or after) its detail: a success whose values the server
    could not all read says so."""
    if not note:
        return status
    detail = f"{status.detail} {note}" if status.detail else note
    return Status(status.code, status.message, detail)


def unmodelled_note(paths: Iterable[Path]) -> str:
    """What a success says when the server could not type every value: which, and how to
    mend it (the values shown are as the device sent them, or absent for TLV)."""
    return f"The server has {no_model_text(paths)} (values shown untyped, as sent)."


UNAVAILABLE = Status(
    503,
    "service unavailable",
    "Command could not been sent to LwM2M protocol-adapter. Service Unavailable.",
)

_DEVICE_ROWS: dict[int, Status] = {
    400: Status(400, "bad request", f"{SENT} Device could not process the command."),
    401: Status(401, "unauthorized", f"{SENT} Device rejects command as unauthorized request."),
    403: Status(403, "forbidden", f"{SENT} Device rejects command as forbidden request."),
    404: Status(404, "Not found", f"{SENT} Device rejects command as not found."),
    405: Status(405, "method not allowed", f"{SENT} Device rejects command, method not allowed."),
    406: Status(406, "not acceptable", f"{SENT} Device rejects command, not acceptable."),
    415: Status(
        415, "unsupported media type", f"{SENT} Device rejects command, unsupported content format."
    ),
}


def device_status(coap_code: str) -> Status:
    """The status of a device's answer, from its CoAP code (``"2.05"``, ``"4.05"``...).

    Every 2.xx is 200 success; the table's device rows keep their code; any other error
    code becomes its HTTP-like number with the generic "could not process" detail.
    """
    major, _, minor = coap_code.partition(".")
    number = int(major) * 100 + int(minor)
    if major == "2":
        return SUCCESS
    row = _DEVICE_ROWS.get(number)
    if row is not None:
        return row
    return Status(
        number,
        "bad request" if major == "4" else "internal server error",
        f"{SENT} Device could not process the command.",
    )

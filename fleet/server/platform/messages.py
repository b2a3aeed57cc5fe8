"""Received messages in the platform's shape, and how the console prints them.

A received message is ``{"content": {...}, "labels": [...]}`` as in the platform's
"Example of corresponding received message": ``content`` holds ``nodeResourceName``,
``time`` (ms since the epoch), ``messageType`` and, depending on the type:

- ``registration`` / ``update`` / ``deregistration`` / ``registration-expire``: nothing more;
- ``response``: ``method`` (read, write, exec, observe, unobserve), ``status`` {code, message,
  detail}, ``resourcePath`` and ``data`` (``{"3/0/0": "..."}``; ``null`` for write, exec and
  errors);
- ``notify``: ``resourcePath``, ``dataValue`` (the value; a map for an observed object or
  instance) and ``attributes`` (the OBSERVE's parameters).

``resourcePath`` has one form in every message, made by :func:`resource_path`: ``"3442/0/2"``,
no leading slash, as the document's responses and its ``data`` keys write it (its one notify
example writes ``"/3303/0/5602"``; docs/platform-api.md lists that difference).

``labels`` (``outgoing_msgRN:<uuid>``, ``requestId:<uuid>``) are the same for every message of
one chain: a command's response, or an OBSERVE's response and all its notifications. Status
messages carry none.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fleet.codec import json_text
from fleet.codec.json_text import non_finite_text
from fleet.model import Path, Value
from fleet.server.events import ServerEvent
from fleet.server.platform.commands import Method
from fleet.server.platform.texts import Status

Message = dict[str, Any]
"""One received message, ready for ``json.dumps``."""


def json_value(value: Value) -> Any:
    """A decoded LwM2M value as JSON: opaque as base64 text, an object link as ``"3:0"``,
    a float without JSON form (a device sent NaN or infinity) as ``"NaN"``/``"Infinity"``."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, tuple):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return non_finite_text(value)
    return value


def dumps(data: Any, *, indent: int | None = None, compact: bool = True) -> str:
    """JSON text of ``data``, never with ``NaN``/``Infinity`` (invalid JSON); on one line
    without spaces when ``compact`` and no ``indent``."""
    separators = (",", ":") if indent is None and compact else None
    return json_text.dumps(data, indent=indent, separators=separators, ensure_ascii=False)


def resource_path(path: Path | str) -> str:
    """A path as every message writes it (``resourcePath``, ``data`` keys): ``Path(3, 0, 0)``,
    ``"/3/0/0"`` or ``"3/0/0"`` -> ``"3/0/0"``."""
    return str(path).lstrip("/")


def data_map(values: Mapping[Path, Value]) -> dict[str, Any]:
    """``{"3/0/0": "ACME", ...}`` in path order."""
    return {resource_path(p): json_value(v) for p, v in sorted(values.items())}


def labels_of(outgoing: str, request_id: str) -> list[str]:
    """The traceability labels of one chain."""
    return [f"outgoing_msgRN:{outgoing}", f"requestId:{request_id}"]


def time_ms(seconds: float) -> int:
    return round(seconds * 1000)


def status_message(message_type: str, endpoint: str, time: float) -> Message:
    """A registration, update, deregistration or registration-expire message."""
    return {
        "content": {
            "nodeResourceName": endpoint,
            "time": time_ms(time),
            "messageType": message_type,
        }
    }


def bootstrap_message(event: ServerEvent) -> Message:
    """A ``bootstrap-request`` or ``bootstrap-finish`` message with the code the device got
    (or gave) and, for a failure, why."""
    content: dict[str, Any] = {
        "nodeResourceName": event.endpoint,
        "time": time_ms(event.time),
        "messageType": str(event.kind),
        "code": event.code,
    }
    if event.detail:
        content["detail"] = event.detail
    return {"content": content}


def response_message(
    endpoint: str,
    time: float,
    method: Method | None,
    path: str | None,
    status: Status,
    data: Mapping[Path, Value] | None,
    labels: list[str],
) -> Message:
    """The answer to one command (or its refusal)."""
    content: dict[str, Any] = {
        "nodeResourceName": endpoint,
        "time": time_ms(time),
        "messageType": "response",
        "method": None if method is None else str(method),
        "status": status.as_json(),
        "resourcePath": None if path is None else resource_path(path),
        "data": None if data is None else data_map(data),
    }
    return {"content": content, "labels": list(labels)}


def notify_message(
    endpoint: str,
    time: float,
    path: str,
    values: Mapping[Path, Value],
    attributes: Mapping[str, Any],
    labels: list[str],
) -> Message:
    """One notification of an observation."""
    target = Path.parse(path)
    value: Any
    if target in values:
        value = json_value(values[target])
    elif len(values) == 1:
        value = json_value(next(iter(values.values())))
    else:
        value = data_map(values)
    content = {
        "nodeResourceName": endpoint,
        "time": time_ms(time),
        "messageType": "notify",
        "resourcePath": resource_path(path),
        "dataValue": value,
        "attributes": dict(attributes),
    }
    return {"content": content, "labels": list(labels)}


def render(message: Message, *, as_json: bool) -> str:
    """One line of JSON (``--json``) or the document's pretty, multi-line JSON."""
    return dumps(message, indent=None if as_json else 2)


def summary(message: Message) -> str:
    """A one-line description (for the demo's live view)."""
    content = message["content"]
    kind = content["messageType"]
    head = f"{content['nodeResourceName']} {kind}"
    if kind == "response":
        status = content["status"]
        data = content.get("data")
        shown = ""
        if data:
            shown = " " + ", ".join(f"{k}={v}" for k, v in list(data.items())[:2])
            shown += " …" if len(data) > 2 else ""
        return f"{head} {content['method']} {content['resourcePath']} {status['code']}{shown}"
    if kind == "notify":
        return f"{head} {content['resourcePath']} = {content['dataValue']}"
    return head


def fan_out_summary(content: str, devices: int, messages: list[Message]) -> str:
    """``* READ /3/0/0: 20 devices, 20 answers: 200 x19, 408 x1``."""
    codes = Counter(int(m["content"]["status"]["code"]) for m in messages)
    counted = ", ".join(f"{code} x{count}" for code, count in sorted(codes.items()))
    plural = "" if devices == 1 else "s"
    answers = f"{len(messages)} answer{'' if len(messages) == 1 else 's'}"
    return f"* {content}: {devices} device{plural}, {answers}: {counted or 'none'}"

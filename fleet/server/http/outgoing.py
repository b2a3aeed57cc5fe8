"""An application's outgoing message, checked (pure): the body of a POST to ``outgoing-msg``.

The platform takes a oneM2M content instance::

    {"m2m:cin": {"con": "READ /6; RD /3/0/0"}}                               protocol mode
    {"m2m:cin": {"con": {"method": "GET", "path": "/3442/0/160"},
                 "cnf": "application/json:0"}}                                REST mode
    {"m2m:cin": {"con": [{"method": "read", "path": "/6"}, ...], "cnf": ...}}  several commands

with ``Content-Type: application/json;ty=4``. :func:`parse_outgoing` checks the media type
(415 otherwise; a ``ty`` other than 4 is a 400), the JSON, the ``m2m:cin`` wrapper and its
members (``con`` mandatory; ``cnf``, ``lbl`` labels, ``rn`` resource name optional; anything
else is refused, not ignored) and returns an :class:`Outgoing`. What the commands *say* is
checked later by :mod:`fleet.server.platform.commands`, command by command, and reported in
``received-msg`` as the platform does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fleet.codec import json_text
from fleet.server.http.errors import BAD_REQUEST, UNSUPPORTED, HttpProblem

CONTENT_INFOS = ("application/json:0", "text/plain:0")
"""The ``cnf`` values accepted (the platform's examples use the first)."""
MEMBERS = frozenset({"con", "cnf", "lbl", "rn"})
_NAME = re.compile(r"[A-Za-z0-9._~-]{1,128}")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A checked outgoing message."""

    con: Any
    """As the application wrote it: a text, a command object or a list of them."""
    cnf: str | None = None
    labels: tuple[str, ...] = ()
    resource_name: str | None = None

    @property
    def rest(self) -> bool:
        """REST mode (``con`` is JSON), else protocol mode (``con`` is a text)."""
        return not isinstance(self.con, str)

    @property
    def text(self) -> str:
        """The content as the command language reads it."""
        if isinstance(self.con, str):
            return self.con
        return json_text.dumps(self.con, separators=(",", ":"), ensure_ascii=False)


def check_media_type(content_type: str) -> None:
    """``application/json`` with an optional ``ty=4``; :class:`HttpProblem` otherwise."""
    media, *params = (part.strip() for part in content_type.split(";"))
    if media.lower() != "application/json":
        shown = media or "none"
        raise HttpProblem(UNSUPPORTED, f"Content-Type must be application/json;ty=4, not {shown}")
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "ty" and value.strip() != "4":
            raise HttpProblem(
                BAD_REQUEST, f"outgoing-msg takes content instances (ty=4), not ty={value.strip()}"
            )


def parse_outgoing(body: bytes, content_type: str) -> Outgoing:
    """Check a POST body to ``outgoing-msg`` (see the module docstring)."""
    check_media_type(content_type)
    try:
        document = json_text.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise HttpProblem(BAD_REQUEST, "the body is not UTF-8 text") from None
    except ValueError as error:
        raise HttpProblem(BAD_REQUEST, f"malformed JSON: {error}") from None
    if not isinstance(document, dict) or set(document) != {"m2m:cin"}:
        raise HttpProblem(BAD_REQUEST, 'the body must be one object {"m2m:cin": {...}}')
    cin = document["m2m:cin"]
    if not isinstance(cin, dict):
        raise HttpProblem(BAD_REQUEST, "m2m:cin must be an object")
    unknown = sorted(set(cin) - MEMBERS)
    if unknown:
        raise HttpProblem(BAD_REQUEST, f"m2m:cin has unknown members: {', '.join(unknown)}")
    if "con" not in cin:
        raise HttpProblem(BAD_REQUEST, "m2m:cin has no con (the command)")
    con = cin["con"]
    if isinstance(con, str):
        if not con.strip():
            raise HttpProblem(BAD_REQUEST, "con is empty")
    elif isinstance(con, list):
        if not con or not all(isinstance(item, dict) for item in con):
            raise HttpProblem(BAD_REQUEST, "con as a list must hold command objects")
    elif not isinstance(con, dict):
        raise HttpProblem(BAD_REQUEST, "con must be a text, a command object or a list of them")
    cnf = cin.get("cnf")
    if cnf is not None and cnf not in CONTENT_INFOS:
        raise HttpProblem(
            UNSUPPORTED, f"cnf {cnf!r} is not supported (use {' or '.join(CONTENT_INFOS)})"
        )
    labels = cin.get("lbl", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise HttpProblem(BAD_REQUEST, "lbl must be a list of texts")
    name = cin.get("rn")
    if name is not None and (not isinstance(name, str) or not _NAME.fullmatch(name)):
        raise HttpProblem(BAD_REQUEST, "rn must be 1-128 letters, digits or ._~-")
    return Outgoing(con, cnf, tuple(labels), name)

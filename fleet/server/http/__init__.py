"""A local stand-in for the Device-to-Cloud platform's HTTP API, with a web console.

``fleet server --http PORT`` and ``fleet demo --web`` serve it beside the embedded LwM2M
server. What lives where:

- :mod:`.resources`: content instances and containers in the platform's shape (pure);
- :mod:`.outgoing`: the checks of a POST to ``outgoing-msg`` (pure);
- :mod:`.standin`: outgoing -> sent -> received messages over the platform console;
- :mod:`.api`: the platform's paths; :mod:`.stream`: Server-Sent Events of new messages;
- :mod:`.web` and ``static/``: the web console; :mod:`.switches`: its fault switches;
- :mod:`.errors`: the one error shape; :mod:`.app`: the aiohttp application on a port.

Its names load lazily, so that ``import fleet.server.http.launch`` (which every ``fleet`` command
does) does not import aiohttp until the HTTP face is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fleet.server.http.app import MAX_BODY, HttpServer, build_app
    from fleet.server.http.standin import StandIn
    from fleet.server.http.switches import DeviceSwitches, NoSwitches, Switches

_WHERE = {
    "MAX_BODY": "app",
    "HttpServer": "app",
    "build_app": "app",
    "StandIn": "standin",
    "DeviceSwitches": "switches",
    "NoSwitches": "switches",
    "Switches": "switches",
}
__all__ = [
    "MAX_BODY",
    "DeviceSwitches",
    "HttpServer",
    "NoSwitches",
    "StandIn",
    "Switches",
    "build_app",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

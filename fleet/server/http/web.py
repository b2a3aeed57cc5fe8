"""The web console for demos: a page, its data and its fault switches, on the API's port.

- ``GET /`` (and ``/console/*``): the page, plain HTML/CSS and one vanilla JavaScript module
  of ours shipped as package data (``fleet/server/http/static/``): no build step, no CDN,
  nothing fetched from outside, so it works offline;
- ``GET /fleet/api/devices``: every device the server knows, with its registration state and
  timestamps, its location (from /6), its latest values, and its fault switches when the
  device runs in this process (``null`` otherwise);
- ``POST /fleet/api/devices/<endpoint>/faults`` ``{"fault": "silence"|"reject"|"reboot",
  "on": true}``: flips a switch (:mod:`.switches`); 501 when the devices run elsewhere.

The page sends its commands through the platform's own API (``outgoing-msg``) and follows
``received-msg`` through the event stream (:mod:`.stream`), like any application would.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

from aiohttp import web

from fleet.codec import json_text
from fleet.model import Path
from fleet.server import DeviceRecord
from fleet.server.http.api import PREFIX, STANDIN, reply
from fleet.server.http.errors import BAD_REQUEST, NOT_IMPLEMENTED, HttpProblem
from fleet.server.http.switches import ACTIONS, SWITCHES, Switches
from fleet.server.platform import device_row
from fleet.server.platform.messages import data_map

SWITCHBOARD: web.AppKey[Switches] = web.AppKey("switches", Switches)
STATIC = {
    "index.html": "text/html",
    "console.css": "text/css",
    "console.js": "text/javascript",
    "city.json": "application/json",
}
LATITUDE, LONGITUDE = Path(6, 0, 0), Path(6, 0, 1)


def static_file(name: str) -> bytes:
    return resources.files("fleet.server.http").joinpath("static", name).read_bytes()


async def page(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "index.html")
    if name not in STATIC:
        raise web.HTTPNotFound()
    return web.Response(
        body=static_file(name),
        content_type=STATIC[name],
        headers={"Cache-Control": "no-cache"},
    )


def _location(record: DeviceRecord) -> dict[str, float] | None:
    """The device's position for the map; none unless both are finite numbers (a device
    may report NaN: ``values`` shows it as text, the map leaves it out)."""
    lat, lon = record.values.get(LATITUDE), record.values.get(LONGITUDE)
    numbers = isinstance(lat, int | float) and isinstance(lon, int | float)
    if numbers and math.isfinite(lat) and math.isfinite(lon):  # type: ignore[arg-type]
        return {"lat": float(lat), "lon": float(lon)}  # type: ignore[arg-type]
    return None


def device_view(record: DeviceRecord, switches: Switches) -> dict[str, Any]:
    """One device for the console."""
    row = device_row(record)
    row["location"] = _location(record)
    row["values"] = data_map(record.values)
    row["faults"] = switches.state(record.endpoint)
    return row


async def devices(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    switches = request.app[SWITCHBOARD]
    records = sorted(standin.server.devices(), key=lambda r: r.endpoint)
    views = [device_view(record, switches) for record in records]
    return reply(
        request,
        {
            "tenant": standin.tenant,
            "api": f"{PREFIX}/{standin.tenant}",
            "switches": any(view["faults"] is not None for view in views),
            "devices": views,
        },
    )


async def faults(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    endpoint = request.match_info["device"]
    standin.require(endpoint)
    try:
        body = json_text.loads(await request.read())
    except ValueError as error:
        raise HttpProblem(BAD_REQUEST, f"malformed JSON: {error}") from None
    fault = body.get("fault") if isinstance(body, dict) else None
    on = body.get("on", True) if isinstance(body, dict) else None
    if fault not in SWITCHES + ACTIONS or not isinstance(on, bool):
        choices = ", ".join(SWITCHES + ACTIONS)
        raise HttpProblem(BAD_REQUEST, f'expected {{"fault": one of {choices}, "on": true|false}}')
    state = request.app[SWITCHBOARD].apply(endpoint, fault, on)
    if state is None:
        raise HttpProblem(
            NOT_IMPLEMENTED,
            f"{endpoint} does not run in this process: fault switches need the devices here "
            "(fleet demo --web)",
        )
    return reply(request, {"endpoint": endpoint, "faults": state})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_get("/console/{name}", page)
    app.router.add_get("/fleet/api/devices", devices)
    app.router.add_post("/fleet/api/devices/{device}/faults", faults)

"""The console's own words: the commands of a console line that go to no device.

``DEVICES``, ``INFO ENDPOINT``, ``WAIT ENDPOINT [SECONDS]``, ``SLEEP SECONDS``, ``RULES
[--wait]``, ``HELP``, ``QUIT`` / ``EXIT``, and the firmware campaign words (``FOTA``,
``FOTA-STATUS``, ``SOTA``... handed to :mod:`fleet.server.campaign.console`). What each
says goes to the console's ``say``; :mod:`fleet.server.platform.console` sends every
other line to devices.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fleet.server import UnknownEndpoint
from fleet.server.campaign.console import FOTA_WORDS, FotaDesk
from fleet.server.platform.devices import device_info, device_row

if TYPE_CHECKING:
    from fleet.server.platform.console import Console

CONSOLE_WORDS = (
    "DEVICES",
    "INFO",
    "WAIT",
    "SLEEP",
    "HELP",
    "QUIT",
    "EXIT",
    "RULES",
    *FOTA_WORDS,
)
HELP = """\
ENDPOINT COMMAND[; COMMAND...]   READ|RD, WRITE|WR path value, EXECUTE|EXE,
                                 OBSERVE|OBS path [pmin=N pmax=N gt=X lt=X st=X], UNOBSERVE|UOBS
ENDPOINT {"method": "GET", "path": "/3/0/0"}   REST mode (GET/PUT/POST), or a JSON list
* COMMAND                        the command for every registered endpoint
DEVICES | INFO ENDPOINT | WAIT ENDPOINT [S] | SLEEP S | RULES [--wait] | HELP | QUIT
FOTA ENDPOINT|* FILE [--push | --uri URI] [--version V] | FOTA-STATUS [ENDPOINT] [--wait]
SOTA ENDPOINT|* FILE [--push | --uri URI] [--version V] [--instance N] [--no-activate]"""


async def console_command(console: Console, word: str, args: list[str]) -> None:
    """Run one of :data:`CONSOLE_WORDS` (``word`` in capitals) with its arguments."""
    if word in FOTA_WORDS:
        if console.fota is None:
            console.fota = FotaDesk(console.server)
        await console.fota.command(word, args, console.say)
    elif word in ("QUIT", "EXIT"):
        console.finished = True
    elif word == "HELP":
        console.say(HELP)
    elif word == "RULES":
        if args and args[0].lower() == "--wait":
            await console.pool.drain()
        if console.rules is None:
            console.say({"on_register": [], "pool": console.pool.stats.as_json()})
        else:
            console.say(console.rules.describe())
    elif word == "DEVICES":
        console.say([device_row(r) for r in console.server.devices()])
    elif word == "INFO":
        if not args:
            console.say("INFO ENDPOINT: the endpoint is missing")
            return
        record = console.server.device(args[0])
        console.say(device_info(record) if record else f"unknown device {' '.join(args)!r}")
    elif word == "SLEEP":
        seconds = _seconds(args, None)
        if seconds is None:
            console.say("SLEEP SECONDS")
        else:
            await asyncio.sleep(seconds)
    elif word == "WAIT":
        seconds = _seconds(args[1:], 10.0)
        if not args or seconds is None:
            console.say("WAIT ENDPOINT [SECONDS]")
            return
        try:
            await console.server.wait_for_registration(args[0], seconds, hooks=True)
        except (TimeoutError, UnknownEndpoint):
            console.say(f"{args[0]} did not register within {seconds:g} s")


def _seconds(args: list[str], default: float | None) -> float | None:
    if not args:
        return default
    try:
        value = float(args[0])
    except ValueError:
        return None
    return value if 0 <= value < 86400 else None

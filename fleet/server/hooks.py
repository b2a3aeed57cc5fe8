"""On-register hooks: what the server does by itself after every Register.

A hook is ``async def hook(server, registration) -> None``; the server runs its hooks in order,
in one task per Register, after answering it. :func:`read_on_register` makes the hook a
platform typically has: read some objects (by default /3 Device and /6 Location) so that the
device's :class:`~fleet.server.records.DeviceInfo` (manufacturer, model, firmware and software
version, system time, ``geo:`` location) is filled in. Each read is an ordinary request: it
emits its ``response`` event and is counted. Objects the device did not register are skipped;
a device that does not answer is logged, not fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from fleet.server.directory import Registration
from fleet.server.errors import ServerError
from fleet.server.inbound import OnRegister
from fleet.server.requests import PathLike, as_path

if TYPE_CHECKING:
    from fleet.server.server import Lwm2mServer

_log = logging.getLogger("fleet.server")

DEVICE_INFO_PATHS = ("/3", "/6")
"""What a platform reads on every Register to fill in its device info."""


def read_on_register(paths: Iterable[PathLike] = DEVICE_INFO_PATHS) -> OnRegister:
    """A hook that reads ``paths`` (those whose object the device registered)."""
    targets = tuple(as_path(p) for p in paths)

    async def read_paths(server: Lwm2mServer, registration: Registration) -> None:
        record = server.device(registration.endpoint)
        for path in targets:
            if record is None or not record.holds(registration):
                return
            if not record.objects.has(path):
                continue
            try:
                await server.read(registration.endpoint, path)
            except ServerError as error:
                _log.info(
                    "read of %s on register of %s failed: %s", path, registration.endpoint, error
                )

    read_paths.__qualname__ = f"read_on_register({', '.join(str(p) for p in targets)})"
    return read_paths

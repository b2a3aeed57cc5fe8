"""Reading an input file with a bound on its size: no file (nor ``/dev/zero``) fills memory.

Scenario files, object definitions (DDF), key files and command files are read whole
before they are parsed. :func:`read_bounded` reads at most one byte more than the limit
and raises :class:`FileTooLarge` (naming the file and the limit) when that byte is there,
whatever the file is: a regular file, a pipe, a character device.
"""

from __future__ import annotations

import os
import pathlib
from typing import Final

from fleet.errors import FleetError

MiB: Final = 1 << 20
MAX_SCENARIO_BYTES: Final = 4 * MiB
"""A scenario of 10,000 groups (the most one may have) is about 300 KiB."""
MAX_DDF_BYTES: Final = 4 * MiB
"""The largest object definition of the OMA registry is about 300 KiB."""
MAX_KEYS_BYTES: Final = 256 * MiB
"""A key file for a million devices is about 80 MiB."""
MAX_COMMANDS_BYTES: Final = 16 * MiB


class FileTooLarge(FleetError):
    """The file has more bytes than its kind allows."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(f"{path}: the file is larger than {describe_size(limit)} (the limit)")
        self.path = path
        self.limit = limit


def describe_size(size: int) -> str:
    """``"64 MiB"``, ``"512 KiB"`` or ``"100 bytes"``."""
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of ``path``; :class:`FileTooLarge` past ``limit`` bytes, ``OSError`` as is."""
    name = os.fspath(path)
    with pathlib.Path(name).open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(name, limit)
    return data

"""Ctrl-C and SIGTERM for commands that stop cleanly: :class:`StopSignals` makes both set an
:class:`asyncio.Event` (the command then stops its server or devices) and remembers that one
came, so the command can end with :data:`EXIT_INTERRUPTED` as every ``fleet`` command does.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Final

EXIT_INTERRUPTED: Final = 130
"""128 + SIGINT: the exit status of a command ended by Ctrl-C or SIGTERM."""

_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """While installed on the running loop, SIGINT and SIGTERM set ``stop``."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.received: int | None = None
        """The signal that came (``None``: none)."""
        self._loop: asyncio.AbstractEventLoop | None = None

    def _arrived(self, signum: int) -> None:
        if self.received is None:
            self.received = signum
        self.stop.set()

    def install(self) -> StopSignals:
        self._loop = asyncio.get_running_loop()
        for signum in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.add_signal_handler(signum, self._arrived, signum)
        return self

    def remove(self) -> None:
        if self._loop is None:
            return
        for signum in _SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.remove_signal_handler(signum)
        self._loop = None

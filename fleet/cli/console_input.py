"""Whether ``fleet server`` may read its console from stdin.

A process started in the background of an interactive shell (``fleet server &``)
that reads its terminal is stopped by the kernel (SIGTTIN) at the first key the
user types for the shell: the server then answers no device until ``fg``. So the
server does not read a terminal of which it is not the foreground process group
(job control, POSIX "Terminal Access Control"); it says so in one line and takes
commands from ``--commands FILE`` or the HTTP API instead. In the foreground, from
a pipe or from a file, stdin is read as always.
"""

from __future__ import annotations

import os
from typing import Final

BACKGROUND_NOTE: Final = (
    "fleet server: started in the background of a terminal: console lines are not read "
    "from it (run it in the foreground, or give --commands FILE or --http PORT)"
)


def background_terminal(fd: int) -> bool:
    """Whether ``fd`` is our controlling terminal and another process group has it."""
    try:
        return os.isatty(fd) and os.tcgetpgrp(fd) != os.getpgrp()
    except OSError:  # a terminal that is not ours: reading it does not stop us
        return False

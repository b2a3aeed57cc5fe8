"""A helper process of a benchmark: a copy of the script in another role, talking over pipes.

The benchmarks that need a peer outside the fleet's processes (a lean responder, an
observing server) start their own script again with a role flag; the child prints
``ready`` once it listens. Not a benchmark itself.
"""

from __future__ import annotations

import subprocess
import sys


def start_child(script: str, *args: str, what: str) -> subprocess.Popen[str] | None:
    """Start ``script`` with ``args``; ``None`` (the child killed) when it never says ready."""
    child = subprocess.Popen(
        [sys.executable, script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdin is not None
    if "ready" not in child.stdout.readline():
        print(f"the {what} did not start")
        child.kill()
        child.wait(10)
        return None
    return child

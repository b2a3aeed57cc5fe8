"""``fleet demo``: a self-contained demo fleet against the embedded server, with a live view.

:mod:`.fleet` makes the devices (located over a city, temperatures on a daily curve),
:mod:`.view` renders what is going on, :mod:`.run` puts it together (:func:`run_demo`).
"""

from fleet.demo.run import FLOWS, DemoOptions, run_demo
from fleet.demo.view import DemoState, render, status_line, summary_lines

__all__ = [
    "FLOWS",
    "DemoOptions",
    "DemoState",
    "render",
    "run_demo",
    "status_line",
    "summary_lines",
]

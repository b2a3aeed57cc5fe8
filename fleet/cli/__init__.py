"""The ``fleet`` command line: click commands that parse, then call the library.

Each command group lives in its own module of this package; this module only
assembles them. No protocol logic lives here.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

try:  # a Ctrl-C while the commands load ends the program quietly (130), not with a traceback
    import click

    from fleet.cli.codec import decode, encode
    from fleet.cli.credentials import credentials
    from fleet.cli.demo import demo
    from fleet.cli.device import device
    from fleet.cli.merge import merge
    from fleet.cli.objects import objects
    from fleet.cli.report import report
    from fleet.cli.run import run
    from fleet.cli.scenario import init, schema, validate
    from fleet.cli.server import server
except KeyboardInterrupt:
    raise SystemExit(130) from None


EXIT_INTERRUPTED = 130
"""128 + SIGINT: a Ctrl-C before a command took charge of it."""


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(EXIT_INTERRUPTED)


class FleetGroup(click.Group):
    """The ``fleet`` group: a Ctrl-C before a command handles it itself (``fleet run``
    stops its devices) ends the program with 130 and no traceback or "Aborted!"."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return super().main(*args, **kwargs)
        previous = signal.signal(signal.SIGINT, _interrupted)
        try:
            return super().main(*args, **kwargs)
        finally:
            signal.signal(signal.SIGINT, previous)


@click.group(cls=FleetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lwm2m-fleet", prog_name="fleet")
def main() -> None:
    """Simulate whole fleets of LwM2M devices."""


main.add_command(objects)
main.add_command(decode)
main.add_command(encode)
main.add_command(validate)
main.add_command(schema)
main.add_command(init)
main.add_command(device)
main.add_command(server)
main.add_command(demo)
main.add_command(run)
main.add_command(merge)
main.add_command(report)
main.add_command(credentials)

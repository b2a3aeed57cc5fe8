"""The ``fleet`` command line: click commands that parse, then call the library.

Each command group lives in its own module of this package; this module only
assembles them. No protocol logic lives here.
"""

from __future__ import annotations

try:  # a Ctrl-C while the commands load ends the program quietly (130), not with a traceback
    import click

    from fleet.cli.codec import decode, encode
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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

"""``fleet demo``: a living fleet in one command (see :mod:`fleet.demo`).

Starts the embedded server (or uses ``--server coap://host:port``), ``--devices`` virtual
devices, runs the platform document's example flows, and shows a live view on a terminal or
plain periodic lines (plus each flow message as a JSON line) otherwise. Ends after
``--duration`` seconds (exit status 0) or on Ctrl-C / SIGTERM: every device de-registers, a
summary prints, and the exit status is 130 as for every ``fleet`` command.

``--web`` also serves the platform's HTTP API and the web console (``--web-port``, default
8088, on 127.0.0.1 unless ``--web-host``) and opens it in the browser (not with
``--no-browser``); its fault switches reach the demo's devices, which run in this process.
"""

from __future__ import annotations

import asyncio
import sys

import click

from fleet.cli.durations import Duration
from fleet.cli.options import loop_option
from fleet.cli.signals import EXIT_INTERRUPTED, StopSignals
from fleet.client.config import ConfigError
from fleet.client.uri import parse_uri
from fleet.demo import DemoOptions, run_demo, summary_lines
from fleet.demo.view import DemoState
from fleet.errors import FleetError
from fleet.runner import loops
from fleet.server.errors import BadRule
from fleet.server.http.launch import HttpOptions
from fleet.server.platform.rules import parse_rules


async def _main(options: DemoOptions) -> tuple[DemoState, bool]:
    """The demo's state at the end, and whether Ctrl-C or SIGTERM ended it."""
    stop = asyncio.Event()

    def write(text: str) -> None:
        sys.stdout.write(text if options.interactive else text + "\n")
        sys.stdout.flush()

    signals = StopSignals(stop).install()
    try:
        return await run_demo(options, write, stop), signals.received is not None
    finally:
        signals.remove()


@click.command("demo")
@loop_option
@click.option("--devices", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--duration",
    type=Duration(0.1),
    help="How long to run: 30s, 5m, 1h or seconds (default: until Ctrl-C).",
)
@click.option(
    "--time-scale",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Simulated seconds per real second (60: an hour per minute).",
)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--server", "server_uri", help="Use this LwM2M server instead of the embedded one.")
@click.option(
    "--lifetime",
    default=300,
    show_default=True,
    type=Duration(1, whole=True),
    help="Registration lifetime of the devices: 5m, 300... (a silenced device expires after it).",
)
@click.option("--web", is_flag=True, help="Serve the platform API and web console, open it.")
@click.option("--web-port", default=8088, show_default=True, type=click.IntRange(0, 65535))
@click.option("--web-host", default="127.0.0.1", show_default=True)
@click.option("--no-browser", is_flag=True, help="With --web: do not open a browser.")
@click.option(
    "--bootstrap",
    is_flag=True,
    help="The devices start from an embedded Bootstrap-Server that writes the server's account "
    "(the demo's own; a scenario's bootstrap: section: fleet server --bootstrap-port N "
    "--scenario FILE).",
)
@click.option(
    "--scenario",
    "scenario",
    hidden=True,
    help="Refused: the demo takes no scenario (see the error).",
)
@click.option(
    "--on-register",
    "on_register",
    multiple=True,
    metavar="RULE",
    help="The embedded server runs this console command (no endpoint, e.g. 'READ /3/0/0') "
    "against every device as it registers; repeatable (docs/server.md).",
)
def demo(
    devices: int,
    duration: float | None,
    time_scale: float,
    seed: int,
    server_uri: str | None,
    lifetime: int,
    web: bool,
    web_port: int,
    web_host: str,
    no_browser: bool,
    bootstrap: bool,
    on_register: tuple[str, ...],
    loop: str,
    scenario: str | None,
) -> None:
    """Run a demo fleet against the embedded server, with a live view."""
    if scenario is not None:
        raise click.UsageError(
            "fleet demo takes no scenario: its devices, and with --bootstrap the account its "
            "Bootstrap-Server writes, are the demo's own. Serve a scenario's bootstrap: section "
            "with 'fleet server --bootstrap-port N --scenario FILE' and run its devices with "
            "'fleet run FILE'."
        )
    if on_register and server_uri is not None:
        raise click.UsageError("--on-register rules run on the embedded server: not with --server")
    try:
        rules = parse_rules(on_register)
    except BadRule as error:
        raise click.UsageError(f"--on-register: {error}") from None
    if bootstrap and server_uri is not None:
        raise click.UsageError("--bootstrap runs the embedded servers: not with --server")
    if web and server_uri is not None:
        raise click.UsageError("--web serves the embedded server's API: not with --server")
    if server_uri is not None:
        try:
            parse_uri(server_uri)
        except ConfigError as error:
            raise click.UsageError(str(error)) from None
    options = DemoOptions(
        devices=devices,
        duration=duration,
        time_scale=time_scale,
        seed=seed,
        server=server_uri,
        interactive=sys.stdout.isatty(),
        lifetime=lifetime,
        web=HttpOptions(web_port, web_host) if web else None,
        open_browser=web and not no_browser,
        bootstrap=bootstrap,
        on_register=rules,
    )
    try:
        state, interrupted = loops.run(_main(options), loop)
    except FleetError as error:  # the web port cannot be bound
        raise click.ClickException(str(error)) from None
    for line in summary_lines(state):
        click.echo(line)
    if interrupted:  # every device de-registered, the summary printed: as fleet run
        sys.exit(EXIT_INTERRUPTED)

"""``fleet credentials``: make a fleet CA, and export what a scenario's devices present.

``fleet credentials init DIR`` makes a fleet CA folder (see
:mod:`fleet.client.fleet_ca`); with ``--scenario FILE`` it also mints the certificate
of every device of that scenario's ``mode: x509`` groups that use the folder (cached).
``fleet credentials export SCENARIO --format csv|json [--for PLATFORM] [-o FILE]``
writes each device's endpoint, identity and key or certificate in the shape a
platform's bulk import takes (see :mod:`fleet.runner.export` and
``docs/credentials.md``), to stdout or ``FILE`` (created readable by its owner only: it
holds keys).
"""

from __future__ import annotations

import os
import pathlib

import click

from fleet.client.coap.x509 import X509Error, x509_available
from fleet.client.credentials import CredentialError
from fleet.client.fleet_ca import CA_FILE, SERVER_FILE, SERVER_KEY, FleetCa
from fleet.runner.export import FORMATS, TARGETS, ExportError, export_rows, render
from fleet.scenario import ScenarioErrors, load_scenario


@click.group()
def credentials() -> None:
    """Fleet CA and device credentials: init, export."""


@credentials.command("init")
@click.argument("directory", type=click.Path(path_type=pathlib.Path))
@click.option("--name", default="lwm2m-fleet CA", show_default=True, help="The CA's name.")
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(path_type=pathlib.Path),
    help="Also mint the certificates of this scenario's devices (mode: x509, ca: DIR).",
)
def init(directory: pathlib.Path, name: str, scenario_file: pathlib.Path | None) -> None:
    """Make a fleet CA in DIRECTORY: ca.pem/ca.key, server.pem/server.key, devices.csv."""
    reason = x509_available()
    if reason is not None:
        raise click.ClickException(reason)
    try:
        ca = FleetCa.create(directory, name)
    except X509Error as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"{directory}: {error.strerror}") from None
    click.echo(f"fleet CA {ca.name!r} in {directory}: {CA_FILE} (trust anchor), "
               f"{SERVER_FILE} + {SERVER_KEY} (for fleet server)")  # fmt: skip
    if scenario_file is not None:
        _load(scenario_file)  # loading mints and caches the devices of groups using DIR
        count = FleetCa.load(directory).cached
        click.echo(f"{count} device certificates minted for {scenario_file} (cached)")


def _load(file: pathlib.Path) -> object:
    try:
        return load_scenario(file)
    except ScenarioErrors as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(2) from None


@credentials.command("export")
@click.argument("scenario_file", type=click.Path(path_type=pathlib.Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option(
    "--for",
    "target",
    type=click.Choice(TARGETS),
    default="generic",
    show_default=True,
    help="The platform whose bulk import the output fits.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=pathlib.Path),
    help="Write here (mode 0600) instead of stdout.",
)
def export(scenario_file: pathlib.Path, fmt: str, target: str, output: pathlib.Path | None) -> None:
    """Write every device's endpoint, identity and key or certificate for a platform."""
    from fleet.scenario import Scenario

    scenario = _load(scenario_file)
    assert isinstance(scenario, Scenario)
    if not any(group.security is not None for group in scenario.groups):
        raise click.ClickException(f"{scenario_file}: no group has security: (nothing to export)")
    try:
        text = render(export_rows(scenario), fmt, target)
    except (ExportError, CredentialError) as error:
        raise click.ClickException(str(error)) from None
    if output is None:
        click.echo(text, nl=False)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    click.echo(f"wrote {output}", err=True)

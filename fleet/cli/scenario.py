"""``fleet validate``, ``fleet schema`` and ``fleet init``: scenario files from the command line.

``validate`` checks files exactly as ``fleet run`` would (same overrides,
same environment) without starting a device. Exit status: 0 when every file
is valid, :data:`EXIT_INVALID_SCENARIO` (2) when any is not (also click's
status for a wrong command line: both mean "fix the input").
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable
from typing import Final, TypeVar

import click

from fleet.cli.options import objects_option
from fleet.cli.server_setup import check_rules
from fleet.codec import json_text
from fleet.runner.reachable import cannot_run
from fleet.scenario import STARTER, ScenarioErrors, json_schema, load_scenario, run_settings
from fleet.scenario.starter import SCHEMA_FILE

EXIT_INVALID_SCENARIO: Final = 2
"""Exit status of ``fleet validate`` (and ``fleet run``) for an invalid scenario."""

F = TypeVar("F", bound=Callable[..., object])


def override_options(function: F) -> F:
    """``--server``, ``--devices``, ``--duration``, ``--seed`` and ``--set`` (shared with run)."""
    options = [
        click.option(
            "--server", metavar="URI", help="The LwM2M server, coap://host:port [FLEET_SERVER]."
        ),
        click.option(
            "--devices",
            type=int,
            metavar="N",
            help="Fleet size; group counts are scaled to it [FLEET_DEVICES].",
        ),
        click.option(
            "--duration", metavar="D", help="Run duration: 10m, 1h, seconds... [FLEET_DURATION]."
        ),
        click.option(
            "--seed", type=int, metavar="N", help="Seed of every random choice [FLEET_SEED]."
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override any value: --set groups.0.count=50 (YAML value; repeatable).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@override_options
@objects_option
def validate(
    files: tuple[pathlib.Path, ...],
    server: str | None,
    devices: int | None,
    duration: str | None,
    seed: int | None,
    sets: tuple[str, ...],
    objects_dirs: tuple[pathlib.Path, ...],
) -> None:
    """Check scenario files without running them; print every problem as file:line:col.

    Prints "FILE: ok, N devices in G groups, P phases" for a valid file. Flags
    and FLEET_* variables apply as they would to fleet run: a bad server URI is
    the same problem, in the same words, as fleet run reports. What stops this
    machine (not the file) from running it, a missing optional package or a
    server name that does not resolve here, is one line "FILE: this machine
    cannot run it yet: WHY" (fleet run exits 1 with "cannot run: WHY"). Exit
    status 0 when all files are valid, 2 otherwise.
    """
    settings = run_settings(
        os.environ, server=server, devices=devices, duration=duration, seed=seed, sets=sets
    )
    failed = 0
    for file in files:
        try:
            scenario = check_rules(
                load_scenario(file, settings=settings, objects_dirs=objects_dirs)
            )
        except ScenarioErrors as exc:
            failed += 1
            for line in exc.lines():
                click.echo(line)
            count = len(exc.errors)
            click.echo(f"{file}: {count} problem{'s' * (count != 1)}")
            continue
        click.echo(f"{file}: ok, {scenario.summary()}")
        for reason in cannot_run(scenario):
            click.echo(f"{file}: this machine cannot run it yet: {reason}")
    if failed:
        raise SystemExit(EXIT_INVALID_SCENARIO)


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help=f"Write to a file (e.g. {SCHEMA_FILE}) instead of printing.",
)
def schema(output: pathlib.Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of scenario files.

    Save it beside your scenarios and point editors at it with a first line
    "# yaml-language-server: $schema=./scenario.schema.json".
    """
    text = json_text.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.argument(
    "path",
    required=False,
    default="scenario.yaml",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=pathlib.Path),
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: pathlib.Path, force: bool) -> None:
    """Write a commented starter scenario to PATH (default scenario.yaml; - for stdout)."""
    if str(path) == "-":
        click.echo(STARTER, nl=False)
        return
    if path.exists() and not force:
        raise click.ClickException(f"{path} already exists; use --force to overwrite it")
    try:
        path.write_text(STARTER, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path}; check it with: fleet validate {path}", err=True)

"""``fleet objects list|show|check``: look at and check object definitions (DDF XML).

``list`` and ``show`` work on the shipped objects plus any ``--objects DIR``;
``check`` loads every file under the given paths and reports what failed.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import click

from fleet.cli.options import objects_option, registry_from_options
from fleet.errors import FleetError
from fleet.model.ddf import load_paths, shipped_objects_dir
from fleet.model.definitions import ObjectModel, ResourceModel

_RANGE_WIDTH = 32


@click.group()
def objects() -> None:
    """List, show and check LwM2M object definitions (DDF XML)."""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return lines


def _one_line(text: str, limit: int | None = None) -> str:
    """Whitespace collapsed; cut to ``limit`` characters with ``...``."""
    line = " ".join(text.split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 3] + "..."
    return line


def _source(model: ObjectModel) -> str:
    """``shipped:3.xml`` for the package's own files, else the file path."""
    try:
        shipped = shipped_objects_dir()
    except FleetError:
        return model.source
    path = pathlib.Path(model.source)
    if path.parent == shipped:
        return f"shipped:{path.name}"
    return model.source


@objects.command("list")
@objects_option
def list_objects(objects_dirs: tuple[pathlib.Path, ...]) -> None:
    """One line per object and version: id, version, LwM2M version, name, resources, source."""
    registry = registry_from_options(objects_dirs)
    rows = [
        (str(m.id), m.version, m.lwm2m_version, m.name, str(len(m.resources)), _source(m))
        for m in registry
    ]
    header = ("ID", "VERSION", "LWM2M", "NAME", "RESOURCES", "SOURCE")
    for line in _table(header, rows):
        click.echo(line)


def _resource_row(r: ResourceModel) -> tuple[str, ...]:
    return (
        str(r.id),
        r.name,
        r.operations.ddf() or "-",
        "Multiple" if r.multiple else "Single",
        "Mandatory" if r.mandatory else "Optional",
        r.type.value if r.type.value != "none" else "-",
        _one_line(r.range.raw, _RANGE_WIDTH) or "-",
        r.units or "-",
    )


@objects.command("show")
@click.argument("object_id", type=click.IntRange(0, 65535), metavar="OBJECT_ID")
@click.option("--version", "version", metavar="V", help="Object version (default: newest).")
@objects_option
def show_object(
    object_id: int, version: str | None, objects_dirs: tuple[pathlib.Path, ...]
) -> None:
    """The resource table of one object (default version unless --version)."""
    registry = registry_from_options(objects_dirs)
    try:
        model = registry.get(object_id, version)
    except FleetError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{model.id} {model.name}")
    click.echo(
        f"version {model.version}, LwM2M {model.lwm2m_version}, "
        f"{'multiple instances' if model.multiple else 'single instance'}, "
        f"{'mandatory' if model.mandatory else 'optional'}"
        + (f", {model.urn}" if model.urn else "")
    )
    click.echo(f"source: {_source(model)}")
    if model.description:
        click.echo(_one_line(model.description))
    click.echo("")
    header = ("ID", "NAME", "OPS", "INST", "MANDATORY", "TYPE", "RANGE", "UNITS")
    for line in _table(header, [_resource_row(r) for r in model]):
        click.echo(line)


@objects.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@click.option("--verbose", "-v", is_flag=True, help="Also list the files skipped, and why.")
def check_objects(paths: tuple[pathlib.Path, ...], verbose: bool) -> None:
    """Load every *.xml under PATHS; print one line per failure and a summary.

    Exit status 1 when any file failed.
    """
    report = load_paths(paths)
    for failure in report.failures:
        click.echo(f"FAILED {failure}")
    if verbose:
        for file, reason in report.skipped:
            click.echo(f"skipped {file}: {reason}")
    click.echo(report.summary())
    if report.failures:
        raise SystemExit(1)

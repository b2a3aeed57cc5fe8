"""Options shared by several commands, and turning them into library objects.

``@objects_option`` adds the repeatable ``--objects DIR`` option (user DDF
definitions on top of the shipped ones); :func:`registry_from_options` builds
the :class:`~fleet.model.registry.ModelRegistry` and turns a loader error into
a :class:`click.ClickException` carrying the located message (exit status 1).
``@loop_option`` adds ``--loop`` (the event loop of commands that run one).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from typing import TypeVar

import click

from fleet.errors import FleetError
from fleet.model.ddf import build_registry
from fleet.model.registry import ModelRegistry
from fleet.runner.loops import LOOPS, LoopUnavailable, resolve

F = TypeVar("F", bound=Callable[..., object])


OBJECTS_HELP = (
    "Folder (or file) of DDF XML object definitions added on top of the shipped "
    "ones; repeatable, later folders win."
)


def objects_option_with(help_text: str) -> Callable[[F], F]:
    """``--objects DIR`` (repeatable) as the ``objects_dirs`` parameter, with ``help_text``."""
    return click.option(
        "--objects",
        "objects_dirs",
        multiple=True,
        type=click.Path(exists=True, path_type=pathlib.Path),
        metavar="DIR",
        help=help_text,
    )


def objects_option(function: F) -> F:
    """Add ``--objects DIR`` (repeatable) as the ``objects_dirs`` parameter.

    The command receives a ``tuple[pathlib.Path, ...]`` and usually passes it
    to :func:`registry_from_options`.
    """
    return objects_option_with(OBJECTS_HELP)(function)


def _checked_loop(context: click.Context, parameter: click.Parameter, value: str) -> str:
    try:
        resolve(value)
    except LoopUnavailable as exc:
        message = str(exc).removeprefix("--loop uvloop: ")
        raise click.BadParameter(message, context, parameter) from None
    return value


def loop_option(function: F) -> F:
    """Add ``--loop auto|asyncio|uvloop`` [FLEET_LOOP] as the ``loop`` parameter.

    The command receives the name (checked: ``uvloop`` when it is not installed
    is a usage error) and runs its loop with :func:`fleet.runner.loops.run`.
    """
    decorator = click.option(
        "--loop",
        type=click.Choice(LOOPS),
        default="auto",
        show_default=True,
        envvar="FLEET_LOOP",
        callback=_checked_loop,
        help="Event loop: uvloop (the 'fast' extra), asyncio, or auto = uvloop when "
        "installed [FLEET_LOOP].",
    )
    return decorator(function)


def registry_from_options(objects_dirs: Sequence[pathlib.Path]) -> ModelRegistry:
    """The shipped objects plus ``--objects`` folders; errors become ClickException."""
    try:
        return build_registry(objects_dirs)
    except FleetError as exc:
        raise click.ClickException(str(exc)) from None

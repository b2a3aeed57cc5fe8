"""``fleet server``'s object models and rules: ``--objects``, ``--on-register``, ``--concurrency``.

- ``--objects DIR`` (repeatable): object definitions on top of the shipped ones, so that the
  server reads (and writes) the resources of the devices' own objects with their types;
  ``--scenario FILE`` adds the scenario's ``objects:`` too;
- ``--on-register RULE`` (repeatable): a console command without the endpoint, run against
  every device as it registers (:mod:`fleet.server.platform.rules`); a scenario's
  ``embedded_server: on_register`` rules are added after them;
- ``--concurrency N``: devices the rules and ``*`` commands talk to at once (default 32, or
  the scenario's ``embedded_server: concurrency``).

Every rule is parsed here, before the server binds a port: a bad one is a usage error naming
it, and in a scenario ``file:line:col``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import click

from fleet.cli.options import objects_option, registry_from_options
from fleet.model import ModelRegistry
from fleet.scenario import Scenario, ScenarioErrors
from fleet.server.errors import BadRule
from fleet.server.platform.pool import DEFAULT_CONCURRENCY
from fleet.server.platform.rules import Rule, parse_rule, rule_problem

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True, slots=True)
class ServerSetup:
    """What ``fleet server`` knows and does beyond serving."""

    models: ModelRegistry
    rules: tuple[Rule, ...] = ()
    concurrency: int = DEFAULT_CONCURRENCY


def setup_options(function: F) -> F:
    """Add ``--objects``, ``--on-register`` and ``--concurrency``."""
    function = click.option(
        "--concurrency",
        type=click.IntRange(1, 10_000),
        help=f"Devices the --on-register rules and '*' commands talk to at once "
        f"[default: {DEFAULT_CONCURRENCY}].",
    )(function)
    function = click.option(
        "--on-register",
        "on_register",
        multiple=True,
        metavar="RULE",
        help="Run this console command (no endpoint: 'OBSERVE /3303/0/5700 pmin=1 pmax=10', "
        "'READ /3/0/0', 'WRITE /1/0/1 300'...) against every device as it registers; "
        "repeatable.",
    )(function)
    return objects_option(function)


def check_rules(scenario: Scenario) -> Scenario:
    """``scenario`` if its ``embedded_server: on_register`` rules parse; else
    :class:`ScenarioErrors` with each bad rule at its ``file:line:col`` (``fleet validate``,
    ``fleet run`` and ``fleet server`` judge them alike)."""
    errors = scenario.embedded_server.problems(rule_problem)
    if errors:
        raise ScenarioErrors(errors)
    return scenario


def server_setup(
    objects_dirs: tuple[pathlib.Path, ...],
    on_register: tuple[str, ...],
    concurrency: int | None,
    scenario: Scenario | None = None,
) -> ServerSetup:
    """The checked setup; ``click.UsageError`` naming a bad rule."""
    rules: list[Rule] = []
    for text in on_register:
        try:
            rules.append(parse_rule(text))
        except BadRule as error:
            raise click.UsageError(f"--on-register: {error}") from None
    dirs = list(objects_dirs)
    if scenario is not None:
        dirs = [*scenario.objects_dirs, *dirs]
        # checked when the scenario was loaded (rule_check): these parse
        rules.extend(parse_rule(text) for text in scenario.embedded_server.on_register)
        if concurrency is None:
            concurrency = scenario.embedded_server.concurrency
    return ServerSetup(
        registry_from_options(dirs),
        tuple(rules),
        concurrency if concurrency is not None else DEFAULT_CONCURRENCY,
    )

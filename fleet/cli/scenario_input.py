"""Where ``fleet run`` reads its scenario: a file, or standard input for ``-``.

``fleet run -`` reads the scenario from stdin (``generate | fleet run -``);
problems are then reported as ``<stdin>:line:col: ...`` and relative paths in
the scenario (``objects:``, replay files) resolve under the current directory.
The same text goes to every worker process, so a scenario read once from a
pipe runs on every shard.
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence
from typing import Final

from fleet.cli.server_setup import check_rules
from fleet.errors import ScenarioError
from fleet.model.reading import MAX_SCENARIO_BYTES, describe_size
from fleet.runner.worker import ScenarioSource
from fleet.scenario import Scenario, ScenarioErrors, Setting, load_scenario

STDIN: Final = "-"
"""The scenario argument that means standard input."""
STDIN_NAME: Final = "<stdin>"
"""The file name messages give a scenario read from standard input."""


def _stdin_text() -> str:
    data = sys.stdin.buffer.read(MAX_SCENARIO_BYTES + 1)
    if len(data) > MAX_SCENARIO_BYTES:
        limit = describe_size(MAX_SCENARIO_BYTES)
        raise ScenarioErrors(
            [ScenarioError(f"the input is larger than {limit} (the limit)", file=STDIN_NAME)]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioErrors(
            [ScenarioError("the input is not UTF-8 text", file=STDIN_NAME)]
        ) from None


def load_run_scenario(
    path: pathlib.Path, *, settings: Sequence[Setting], objects_dirs: Sequence[pathlib.Path]
) -> tuple[Scenario, ScenarioSource]:
    """The scenario and how workers load it again; :class:`ScenarioErrors` on problems."""
    if str(path) == STDIN:
        source = ScenarioSource(
            _stdin_text(), STDIN_NAME, pathlib.Path.cwd(), tuple(settings), tuple(objects_dirs)
        )
        return check_rules(source.load()), source
    scenario = check_rules(load_scenario(path, settings=settings, objects_dirs=objects_dirs))
    return scenario, ScenarioSource.from_file(path, settings=settings, objects_dirs=objects_dirs)

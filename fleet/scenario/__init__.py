"""Scenario files: YAML -> validated, frozen data whose errors carry file:line:col.

:func:`load_scenario` reads a file (with the overrides of
:func:`run_settings`) into a :class:`Scenario`, or raises
:class:`ScenarioErrors` listing every problem as ``file:line:col: message``.
:func:`json_schema` is the published schema; :data:`STARTER` the commented
starter file; :mod:`fleet.scenario.thresholds` the k6-style pass/fail
criteria and the metric names they may use; :mod:`fleet.scenario.faults` the
``faults:`` entries (checked by the rules of :mod:`fleet.faults.rules`).
"""

from fleet.scenario.durations import DurationError, format_duration, parse_duration
from fleet.scenario.loader import arrival_capacity, load_scenario, load_scenario_text
from fleet.scenario.model import Group, Scenario, ServerTarget
from fleet.scenario.overrides import (
    ENVIRONMENT,
    Setting,
    env_settings,
    flag_settings,
    run_settings,
    scale_counts,
)
from fleet.scenario.phases import Churn, CountPhase, PausePhase, Phase, RatePhase
from fleet.scenario.problems import ScenarioErrors
from fleet.scenario.schema import json_schema
from fleet.scenario.starter import STARTER
from fleet.scenario.thresholds import (
    METRICS,
    MetricKind,
    MetricStats,
    Threshold,
    ThresholdError,
    ThresholdResult,
    ThresholdStatus,
    evaluate,
    parse_threshold,
)

__all__ = [
    "ENVIRONMENT",
    "METRICS",
    "STARTER",
    "Churn",
    "CountPhase",
    "DurationError",
    "Group",
    "MetricKind",
    "MetricStats",
    "PausePhase",
    "Phase",
    "RatePhase",
    "Scenario",
    "ScenarioErrors",
    "ServerTarget",
    "Setting",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "ThresholdStatus",
    "arrival_capacity",
    "env_settings",
    "evaluate",
    "flag_settings",
    "format_duration",
    "json_schema",
    "load_scenario",
    "load_scenario_text",
    "parse_duration",
    "parse_threshold",
    "run_settings",
    "scale_counts",
]

"""Parsers of single values and keys of the scenario format (server URI, ids, paths...).

Each raises :class:`ValueError` with a message for the user; the kinds of
:mod:`fleet.scenario.spec` turn that into a located problem.
:class:`GeneratorKind` checks a generator's kind and parameter names (the
parameter values are checked later, against the resource).
"""

from __future__ import annotations

from typing import Final

from fleet.client.uri import parse_uri
from fleet.codec import ContentFormat, parse_format
from fleet.device.generators import GENERATOR_KINDS, generators_json_schema
from fleet.errors import FleetError
from fleet.model import Path
from fleet.model.path import MAX_ID
from fleet.scenario import thresholds
from fleet.scenario.kinds import INVALID, JSON, Context, Kind, label
from fleet.scenario.model import ServerTarget
from fleet.scenario.problems import KeyPath, describe, suggest

SCENARIO_VERSION: Final = 1


def parse_server(value: object) -> ServerTarget:
    """``coap[s]://host[:port]`` -> :class:`ServerTarget`, judged by
    :func:`fleet.client.uri.parse_uri` (as ``--server`` and every command judge it)."""
    uri = parse_uri(value)  # a UriError is a ValueError: the kinds locate it
    return ServerTarget(uri.host, uri.port, uri.scheme)


def parse_scenario_version(value: object) -> int:
    if value == SCENARIO_VERSION and not isinstance(value, bool):
        return SCENARIO_VERSION
    raise ValueError(
        f"unsupported scenario version {describe(value)}; this fleet reads version "
        f"{SCENARIO_VERSION}"
    )


def parse_version_text(value: object) -> str:
    """An object version: ``"1.1"`` (a YAML number 1.1 is taken as its text)."""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value}.0"
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"an object version is a text like '1.1', got {describe(value)}")


def parse_object_id(key: object) -> int:
    if isinstance(key, str) and key.isascii() and key.isdigit():
        key = int(key)
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < MAX_ID:
        raise ValueError(f"an object id is a number 0..{MAX_ID - 1}, got {key!r}")
    return key


def parse_resource_path(key: object) -> Path:
    if not isinstance(key, str):
        raise ValueError(f"a resource path is a text like '/3/0/0', got {key!r}")
    try:
        path = Path.parse(key)
    except FleetError as exc:
        raise ValueError(str(exc)) from None
    if len(path) < 3:
        raise ValueError(f"{key!r} is not a resource path: write /object/instance/resource")
    return path


def parse_metric(key: object) -> str:
    if isinstance(key, str) and key in thresholds.METRICS:
        return key
    raise ValueError(f"unknown metric {key!r}{suggest(key, thresholds.METRICS)}")


def parse_content_format(value: object) -> ContentFormat:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"a content format is a name like senml-cbor, got {describe(value)}")
    try:
        fmt = parse_format(value)
    except FleetError as exc:
        raise ValueError(str(exc)) from None
    if fmt is ContentFormat.LINK:
        raise ValueError("link format carries links, not values")
    return fmt


class GeneratorKind(Kind):
    """``{kind: NAME, ...parameters}``; the parameters are checked later with the resource."""

    def schema(self) -> JSON:
        return generators_json_schema()

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, "a mapping with a kind (a value generator)")
        kind = value.get("kind")
        names = ", ".join(GENERATOR_KINDS)
        if kind is None:
            return ctx.error(path, f"{label(path)}: a generator needs a kind (one of {names})")
        if not isinstance(kind, str) or kind not in GENERATOR_KINDS:
            hint = suggest(kind, GENERATOR_KINDS)
            return ctx.error((*path, "kind"), f"unknown generator {kind!r}{hint} (known: {names})")
        info = GENERATOR_KINDS[kind]
        known = [p.name for p in info.parameters]
        ok = True
        for key in value:
            if key != "kind" and key not in known:
                ok = False
                ctx.error(
                    (*path, key),
                    f"unknown parameter {key!r} of generator {kind}{suggest(key, known)} "
                    f"(known: {', '.join(known)})",
                    at_key=True,
                )
        return dict(value) if ok else INVALID


def threshold_expression(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"a threshold is a text like 'p(95)<2s', got {describe(value)}")
    return value

"""The published JSON Schema: well-formed, complete, in step with the loader and the examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from fleet.scenario import STARTER, json_schema
from fleet.scenario.containers import Record
from fleet.scenario.spec import GROUP, SCENARIO
from tests.scenario.conftest import SCENARIOS


def _json_ready(value: Any) -> Any:
    """YAML data as JSON would carry it: mapping keys become text."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def _documents() -> list[tuple[str, Any]]:
    docs = [(p.name, yaml.safe_load(p.read_text())) for p in sorted(SCENARIOS.glob("*.yaml"))]
    return [*docs, ("starter", yaml.safe_load(STARTER))]


def _walk(schema: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        for name, prop in schema.get("properties", {}).items():
            found.append((f"{where}.{name}", prop))
        for key, value in schema.items():
            found.extend(_walk(value, f"{where}/{key}"))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found.extend(_walk(value, f"{where}[{index}]"))
    return found


def test_structure() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["version", "groups"]
    properties = schema["properties"]
    assert isinstance(properties, dict)
    assert list(properties) == [f.key for f in SCENARIO.fields]
    group = properties["groups"]["items"]
    assert group["required"] == ["count"]
    assert list(group["properties"]) == [f.key for f in GROUP.fields]
    phases = properties["phases"]["items"]["oneOf"]
    assert [p["required"] for p in phases] == [
        ["pause"],
        ["duration", "arrivalCount"],
        ["duration", "arrivalRate"],
    ]
    assert properties["server"]["default"] == "coap://127.0.0.1:5683"
    json.dumps(schema)  # JSON-ready


def test_every_key_has_a_description() -> None:
    for where, prop in _walk(json_schema()):
        assert prop.get("description") or "const" in prop, f"{where} has no description"


def test_the_declaration_feeds_the_schema() -> None:
    def records(kind: object) -> list[Record]:
        found = [kind] if isinstance(kind, Record) else []
        for child in vars(kind).values() if hasattr(kind, "__dict__") else []:
            if isinstance(child, tuple | list):
                for item in child:
                    found.extend(records(item[1] if isinstance(item, tuple) else item))
            else:
                found.extend(records(child))
        return found

    titles = {r.title for r in records(SCENARIO)}
    assert {
        "scenario",
        "group",
        "object",
        "rate phase",
        "count phase",
        "pause phase",
        "churn",
    } <= titles
    text = json.dumps(json_schema())
    for title in titles:
        assert f'"title": "{title}"' in text


def test_the_published_copy_is_current() -> None:
    saved = (SCENARIOS / "scenario.schema.json").read_text(encoding="utf-8")
    current = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert saved == current, "regenerate it: fleet schema -o scenarios/scenario.schema.json"


jsonschema = pytest.importorskip("jsonschema")


def _validator() -> Any:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("name", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_examples_and_starter_validate_against_the_schema(name: str, document: Any) -> None:
    errors = [e.message for e in _validator().iter_errors(_json_ready(document))]
    assert errors == [], name


@pytest.mark.parametrize(
    "change",
    [
        {"lifetmie": 60},
        {"count": "ten"},
        {"count": 0},
        {"lifetime": "10 minutes"},
        {"binding": "T"},
        {"lwm2m_version": "2.0"},
        {"objects": {"x": [0]}},
        {"generators": {"/3303/0/5700": {"kind": "random_wlak"}}},
        {"generators": {"/3303/0/5700": {"kind": "random_walk", "stepp": 1}}},
        {"values": {"3/0": 1}},
    ],
)
def test_the_schema_catches_group_mistakes(change: dict[str, Any]) -> None:
    document = {"version": 1, "groups": [{"count": 1, **change}]}
    assert list(_validator().iter_errors(document)), change


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"server": "http://x"},
        {"duration": "forever"},
        {"phases": [{"duration": "1m", "arrivalRate": 1, "arrivalCount": 3}]},
        {"phases": [{"pause": "1m", "duration": 3}]},
        {"thresholds": {"register_duration": ["p95<2s"]}},
        {"thresholds": {"nope": ["avg<1s"]}},
        {"churn": {"away": "1m"}},
    ],
)
def test_the_schema_catches_scenario_mistakes(change: dict[str, Any]) -> None:
    document = {"version": 1, "groups": [{"count": 1}], **change}
    assert list(_validator().iter_errors(document)), change


def test_the_schema_accepts_every_short_form() -> None:
    document = {
        "version": 1,
        "duration": 90,
        "groups": [{"count": 1, "lwm2m_version": 1.1, "objects": {"3": {"version": 1.1}}}],
        "thresholds": {"request_failed": "rate<1%"},
    }
    assert list(_validator().iter_errors(document)) == []

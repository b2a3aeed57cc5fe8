"""Value generators: parsing and validation, and every kind's values at controlled times."""

from __future__ import annotations

import itertools
import math
import os
import random
import subprocess
import sys
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.device.gen_base import Output, slot, unit_noise
from fleet.device.generators import (
    GENERATOR_KINDS,
    Generator,
    GeneratorError,
    device_rng,
    generators_json_schema,
    parse_duration,
    parse_generator,
)
from fleet.model import Operations, ResourceModel, ResourceType, parse_range
from fleet.model.shipped import shipped_registry
from fleet.model.values import check_value


def res(type_: ResourceType, range_text: str = "", name: str = "Value") -> ResourceModel:
    return ResourceModel(1, name, Operations.R, False, False, type_, parse_range(range_text, type_))


FLOAT = res(ResourceType.FLOAT)
PERCENT = res(ResourceType.FLOAT, "0..100")
INTEGER = res(ResourceType.INTEGER)
LEVEL = res(ResourceType.INTEGER, "0..100")
UNSIGNED = res(ResourceType.UNSIGNED_INTEGER)
BOOLEAN = res(ResourceType.BOOLEAN)
TEXT = res(ResourceType.STRING)
MODE = res(ResourceType.STRING, "ON,OFF,AUTO")
CODES = res(ResourceType.INTEGER, "0,1,5")


def make(spec: Mapping[str, object], resource: ResourceModel, *, seed: int = 1) -> Generator:
    return parse_generator(spec, resource).create(device_rng(seed, 0), 0.0)


def error_of(spec: Mapping[str, object], resource: ResourceModel) -> GeneratorError:
    with pytest.raises(GeneratorError) as info:
        parse_generator(spec, resource)
    return info.value


# -- the API the scenario loader uses -------------------------------------------------------------


def test_every_kind_is_described_and_parsable() -> None:
    assert set(GENERATOR_KINDS) == {
        "constant",
        "random_walk",
        "sine",
        "daily",
        "step",
        "sawtooth",
        "counter",
        "replay",
        "linked",
    }
    for name, info in GENERATOR_KINDS.items():
        assert info.name == name and info.description and info.types
        names = [p.name for p in info.parameters]
        assert len(names) == len(set(names)) and "kind" not in names
        schema = info.json_schema()
        assert schema["additionalProperties"] is False
        assert schema["required"] == ["kind"] + [p.name for p in info.parameters if p.required]
        for param in info.parameters:
            assert param.description
            fragment = param.json_schema()
            assert fragment["description"] == param.description
            assert any(k in fragment for k in ("type", "anyOf", "enum"))
    kinds = [
        s["properties"]["kind"]["const"]  # type: ignore[index]
        for s in generators_json_schema()["oneOf"]  # type: ignore[attr-defined]
    ]
    assert kinds == list(GENERATOR_KINDS)


@pytest.mark.parametrize(
    ("spec", "key", "fragment"),
    [
        ({}, "kind", "needs a kind"),
        ({"kind": "noise"}, "kind", "unknown generator 'noise'"),
        ({"kind": "sine", "amplitude": 1}, "period", "needs period"),
        ({"kind": "sine", "period": "1m", "amplitude": 1, "wobble": 2}, "wobble", "unknown"),
        ({"kind": "sine", "period": "1m", "amplitude": "big"}, "amplitude", "number"),
        ({"kind": "sine", "period": "soon", "amplitude": 1}, "period", "not a duration"),
        ({"kind": "sine", "period": 0, "amplitude": 1}, "period", "longer than 0"),
        ({"kind": "sine", "period": "1m", "amplitude": -1}, "amplitude", "negative"),
        ({"kind": "random_walk"}, "min", "no range"),
        ({"kind": "random_walk", "min": 5, "max": 5}, "max", "greater than min"),
        ({"kind": "random_walk", "min": 0, "max": 9, "start": 10}, "start", "within min..max"),
        ({"kind": "random_walk", "min": 0, "max": 9, "step": 0}, "step", "greater than 0"),
        ({"kind": "daily", "min": 10, "max": 20, "peak_hour": 25}, "peak_hour", "0..24"),
        ({"kind": "daily", "min": 10, "max": 20, "time_scale": 0}, "time_scale", "greater"),
        ({"kind": "sawtooth", "min": 0, "max": 1}, "period", "needs period"),
        (
            {"kind": "sawtooth", "min": 0, "max": 1, "period": 9, "direction": "left"},
            "direction",
            "up, down",
        ),
        ({"kind": "linked", "source": "/3303/0"}, "source", "not a resource path"),
        ({"kind": "linked", "source": "/3303/x/1"}, "source", "not a number"),
        ({"kind": "linked", "source": ["/1/0/1", "/1/0/2"]}, "source", "exactly one"),
        ({"kind": "linked", "source": "/1/0/1", "op": "median"}, "op", "one of"),
        ({"kind": "linked", "source": "/1/0/1", "threshold": 3}, "threshold", "above and below"),
        ({"kind": "replay", "file": "x.csv", "column": "v"}, "interval", "time_column or interval"),
    ],
)
def test_bad_specs_name_the_offending_parameter(
    spec: dict[str, object], key: str, fragment: str
) -> None:
    error = error_of(spec, FLOAT)
    assert error.key == key
    assert fragment in error.message
    assert str(error).startswith(f"{key}: ")


@pytest.mark.parametrize(
    ("spec", "resource", "key"),
    [
        ({"kind": "sine", "period": 60, "amplitude": 1}, BOOLEAN, "kind"),
        ({"kind": "counter"}, TEXT, "kind"),
        ({"kind": "random_walk", "min": 0, "max": 1}, CODES, "kind"),
        ({"kind": "linked", "source": "/1/0/1", "op": "above", "threshold": 1}, FLOAT, "kind"),
        ({"kind": "linked", "source": "/1/0/1", "op": "mean"}, TEXT, "kind"),
    ],
)
def test_a_kind_that_does_not_fit_the_resource_type_is_refused(
    spec: dict[str, object], resource: ResourceModel, key: str
) -> None:
    error = error_of(spec, resource)
    assert error.key == key
    assert resource.type.value in error.message or "only allows" in error.message


def test_an_executable_resource_takes_no_generator() -> None:
    reboot = shipped_registry().get(3).resource(4)
    assert error_of({"kind": "constant", "value": 1}, reboot).key == "kind"


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"kind": "constant", "value": 101}, "value"),
        ({"kind": "constant", "choices": [1, 200]}, "choices[1]"),
        ({"kind": "random_walk", "min": -5, "max": 50}, "min"),
        ({"kind": "random_walk", "min": 5, "max": 150}, "max"),
        ({"kind": "sine", "period": 60, "amplitude": 30, "offset": 80}, "amplitude"),
        ({"kind": "daily", "min": 10, "max": 95, "spread": 10}, "spread"),
        ({"kind": "sawtooth", "min": 0, "max": 101, "period": 60}, "max"),
        ({"kind": "counter", "start": 0, "max": 1000}, "max"),
        ({"kind": "counter", "start": -1}, "start"),
        ({"kind": "step", "levels": [0, 50, 101], "period": 30}, "levels[2]"),
        ({"kind": "step", "min": 0, "max": 120, "period": 30}, "max"),
    ],
)
def test_values_outside_the_range_are_refused_when_parsed(
    spec: dict[str, object], key: str
) -> None:
    error = error_of(spec, LEVEL)
    assert error.key == key


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10.0),
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("2d", 172800.0),
        (" 1m 30s ", 90.0),
        ("1.5h", 5400.0),
        (3, 3.0),
        (2.5, 2.5),
        (0, 0.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10", "ten s", "", "5 minutes", -1, True, None, [1], "1h-5m"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(GeneratorError) as info:
        parse_duration(text, "every")
    assert info.value.key == "every"


# -- determinism -----------------------------------------------------------------------------------


def test_device_rng_is_stable_across_processes_and_distinct_per_device_and_stream() -> None:
    code = (
        "from fleet.device.generators import device_rng;"
        "print([device_rng(42, i, s).random() for i in (0, 1) for s in ('', 'churn')])"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1
    here = str([device_rng(42, i, s).random() for i in (0, 1) for s in ("", "churn")])
    assert outputs == {here}
    draws = [device_rng(42, i, s).random() for i in range(50) for s in ("", "churn", "values")]
    assert len(set(draws)) == len(draws)
    assert device_rng(43, 0).random() != device_rng(42, 0).random()


def test_the_same_seed_gives_the_same_values_and_another_seed_others() -> None:
    spec = {"kind": "random_walk", "min": 0, "max": 100, "step": 5, "every": "1s", "decimals": 3}
    series = [[make(spec, PERCENT, seed=s).value_at(t) for t in range(100)] for s in (7, 7, 8)]
    assert series[0] == series[1]
    assert series[0] != series[2]


@given(st.integers(0, 2**64 - 1), st.integers(0, 10**9))
def test_unit_noise_is_in_zero_one(salt: int, index: int) -> None:
    assert 0.0 <= unit_noise(salt, index) < 1.0


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-3, 1e4, allow_nan=False),
    st.integers(0, 10**6),
)
def test_slot_boundaries_are_consistent(start: float, every: float, k: int) -> None:
    boundary = start + k * every
    assert slot(boundary, start, every) == k
    if k:
        assert slot(math.nextafter(boundary, -math.inf), start, every) == k - 1


# -- output shaping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "decimals", "raw", "shaped"),
    [
        (INTEGER, None, 2.5, 3),
        (INTEGER, None, -2.5, -2),
        (INTEGER, None, 2.49, 2),
        (LEVEL, None, 140.0, 100),
        (LEVEL, None, -3.0, 0),
        (UNSIGNED, None, -7.0, 0),
        (PERCENT, 1, 21.26, 21.3),
        (PERCENT, None, 100.5, 100.0),
        (FLOAT, None, -1e9, -1e9),
    ],
)
def test_output_rounds_and_clamps(
    resource: ResourceModel, decimals: int | None, raw: float, shaped: float
) -> None:
    out = Output(resource, decimals)(raw)
    assert out == shaped and type(out) is type(shaped)


# -- constant and step -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "value", "expected"),
    [
        (FLOAT, "21.5", 21.5),
        (FLOAT, 3, 3.0),
        (INTEGER, "42", 42),
        (BOOLEAN, "true", True),
        (BOOLEAN, False, False),
        (MODE, "AUTO", "AUTO"),
        (res(ResourceType.OPAQUE), "hex:0a0b", b"\n\x0b"),
    ],
)
def test_constant(resource: ResourceModel, value: object, expected: object) -> None:
    generator = make({"kind": "constant", "value": value}, resource)
    assert generator.value_at(0) == expected and type(generator.value_at(1e6)) is type(expected)
    assert generator.next_change(0) is None


def test_constant_choices_are_picked_per_device_from_its_rng() -> None:
    spec = parse_generator({"kind": "constant", "choices": ["ON", "OFF", "AUTO"]}, MODE)
    picks = [spec.create(device_rng(5, i), 0).value_at(0) for i in range(60)]
    assert set(picks) == {"ON", "OFF", "AUTO"}
    assert picks == [spec.create(device_rng(5, i), 0).value_at(0) for i in range(60)]
    assert error_of({"kind": "constant", "choices": ["ON", "DIM"]}, MODE).key == "choices[1]"
    assert error_of({"kind": "constant", "value": 1, "choices": [1]}, INTEGER).key == "value"


@pytest.mark.parametrize(
    ("spec", "resource", "expected"),
    [
        ({"levels": [10, 20, 30], "period": 30}, LEVEL, [10, 20, 30, 10, 20, 30]),
        ({"period": 20}, BOOLEAN, [False, True, False, True, False, True]),
        ({"period": 30}, MODE, ["ON", "OFF", "AUTO", "ON", "OFF", "AUTO"]),
        ({"period": 30}, CODES, [0, 1, 5, 0, 1, 5]),
        ({"min": 1.5, "max": 3, "period": 20}, FLOAT, [1.5, 3.0, 1.5, 3.0, 1.5, 3.0]),
        ({"levels": ["a", "b"], "period": 20}, TEXT, ["a", "b", "a", "b", "a", "b"]),
    ],
)
def test_step_holds_each_level_for_period_over_levels(
    spec: dict[str, object], resource: ResourceModel, expected: list[object]
) -> None:
    generator = parse_generator({"kind": "step", **spec}, resource).create(random.Random(1), 5.0)
    hold = float(spec["period"]) / len(set(expected))  # type: ignore[arg-type]
    seen = [generator.value_at(5.0 + i * hold) for i in range(6)]
    assert seen == expected
    assert generator.value_at(5.0 + hold * 0.999) == expected[0]
    assert generator.next_change(5.0) == 5.0 + hold
    assert generator.next_change(5.0 + hold) == 5.0 + 2 * hold


def test_step_in_random_order_only_uses_its_levels_and_is_reproducible() -> None:
    spec = parse_generator(
        {"kind": "step", "levels": [1, 2, 3], "period": 3, "order": "random"}, LEVEL
    )
    a = spec.create(device_rng(1, 0), 0)
    b = spec.create(device_rng(1, 0), 0)
    values = [a.value_at(t) for t in range(200)]
    assert set(values) == {1, 2, 3}
    assert values == [b.value_at(t) for t in range(200)]
    assert values != [1, 2, 3] * 66 + [1, 2]


def test_step_needs_levels_where_it_cannot_guess_them() -> None:
    assert error_of({"kind": "step", "period": 10}, FLOAT).key == "levels"
    assert error_of({"kind": "step", "levels": [1], "period": 10}, FLOAT).key == "levels"
    assert error_of({"kind": "step", "min": 1, "period": 10}, FLOAT).key == "max"
    assert error_of({"kind": "step", "min": 1, "max": 2, "period": 10}, TEXT).key == "min"
    assert (
        error_of({"kind": "step", "levels": [1, 2], "min": 0, "period": 1}, FLOAT).key == "levels"
    )


# -- numeric curves --------------------------------------------------------------------------------


def test_random_walk_stays_bounded_moves_by_at_most_step_and_only_at_samples() -> None:
    spec = {"kind": "random_walk", "min": 10, "max": 20, "step": 1.5, "every": "2s"}
    generator = make(spec, FLOAT)
    values = [generator.value_at(t) for t in range(0, 20_000, 2)]
    assert all(10 <= v <= 20 for v in values)
    assert all(abs(b - a) <= 1.5 + 1e-9 for a, b in itertools.pairwise(values))
    assert max(values) - min(values) > 5  # it does wander
    assert generator.value_at(101.0) == generator.value_at(100.0)
    assert generator.next_change(100.0) == 102.0
    again = make(spec, FLOAT)
    assert again.value_at(4000.0) == values[2000]  # jumping ahead equals stepping
    assert again.value_at(2.0) == values[1]  # going back replays from the start


def test_random_walk_defaults_to_the_range_and_rounds_integers() -> None:
    generator = make({"kind": "random_walk", "step": 7}, LEVEL)
    values = [generator.value_at(t) for t in range(0, 5000, 10)]
    assert all(isinstance(v, int) and 0 <= v <= 100 for v in values)
    start = make({"kind": "random_walk", "min": 0, "max": 9, "start": 4}, FLOAT)
    assert start.value_at(0) == 4.0


def test_sine_follows_its_formula() -> None:
    spec = {"kind": "sine", "period": "40s", "amplitude": 5, "offset": 20, "every": "1s"}
    generator = make(spec, FLOAT)
    assert generator.value_at(0) == pytest.approx(20)
    assert generator.value_at(10) == pytest.approx(25)
    assert generator.value_at(10.7) == pytest.approx(25)  # held until the next sample
    assert generator.value_at(30) == pytest.approx(15)
    assert generator.value_at(40) == pytest.approx(20)
    phased = make({**spec, "phase": 0.25}, FLOAT)
    assert phased.value_at(0) == pytest.approx(25)
    assert generator.next_change(10.7) == 11.0


def test_sine_noise_stays_within_its_bound_and_is_clamped_into_the_range() -> None:
    spec = {"kind": "sine", "period": 60, "amplitude": 10, "offset": 50, "noise": 2, "every": 1}
    noisy, clean = make(spec, FLOAT), make({**spec, "noise": 0}, FLOAT)
    diffs = [noisy.value_at(t) - clean.value_at(t) for t in range(600)]  # type: ignore[operator]
    assert all(abs(d) <= 2 for d in diffs) and max(diffs) > 1 and min(diffs) < -1
    edge = make({**spec, "amplitude": 50, "noise": 5}, PERCENT)
    values = [edge.value_at(t) for t in range(600)]
    assert min(values) == 0.0 and max(values) == 100.0
    assert all(check_value(PERCENT, v) == v for v in values)


def test_sine_random_phase_differs_per_device() -> None:
    spec = parse_generator(
        {"kind": "sine", "period": 60, "amplitude": 1, "random_phase": True, "decimals": 6}, FLOAT
    )
    firsts = {spec.create(device_rng(3, i), 0).value_at(0) for i in range(20)}
    assert len(firsts) == 20


def test_daily_peaks_at_its_hour_and_honours_the_time_scale() -> None:
    spec = {"kind": "daily", "min": 10, "max": 30, "peak_hour": 15, "every": "1m"}
    generator = make(spec, FLOAT)
    hour = 3600.0
    assert generator.value_at(15 * hour) == pytest.approx(30)
    assert generator.value_at(3 * hour) == pytest.approx(10)
    assert generator.value_at(9 * hour) == pytest.approx(20)
    assert generator.value_at(39 * hour) == pytest.approx(30)  # the next day
    fast = make({**spec, "time_scale": 60, "start_hour": 12, "every": "1s"}, FLOAT)
    assert fast.value_at(180.0) == pytest.approx(30)  # 3 simulated hours in 3 minutes
    assert fast.value_at(180.0 + 12 * 60) == pytest.approx(10)


def test_daily_spread_shifts_each_device_within_bounds() -> None:
    spec = parse_generator(
        {"kind": "daily", "min": 10, "max": 30, "spread": 2, "every": "1h"}, PERCENT
    )
    plain = parse_generator({"kind": "daily", "min": 10, "max": 30, "every": "1h"}, PERCENT)
    base = plain.create(device_rng(1, 0), 0).value_at(0)
    shifts = [spec.create(device_rng(1, i), 0).value_at(0) - base for i in range(30)]  # type: ignore[operator]
    assert all(abs(s) <= 2 for s in shifts) and len(set(shifts)) > 20


@pytest.mark.parametrize(
    ("direction", "expected"),
    [("up", [0.0, 25.0, 50.0, 75.0, 0.0, 25.0]), ("down", [100.0, 75.0, 50.0, 25.0, 100.0, 75.0])],
)
def test_sawtooth(direction: str, expected: list[float]) -> None:
    spec = {"kind": "sawtooth", "period": 40, "every": 10, "direction": direction}
    generator = make(spec, PERCENT)
    assert [generator.value_at(t) for t in range(0, 60, 10)] == expected


@pytest.mark.parametrize(
    ("spec", "resource", "expected"),
    [
        ({"every": 1}, INTEGER, [0, 1, 2, 3, 4, 5, 6, 7]),
        (
            {"start": 10, "step": 5, "every": 1, "max": 25},
            INTEGER,
            [10, 15, 20, 25, 10, 15, 20, 25],
        ),
        ({"start": 98, "every": 1}, LEVEL, [98, 99, 100, 98, 99, 100, 98, 99]),
        ({"step": 0.5, "every": 1}, FLOAT, [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]),
        ({"every": 2}, UNSIGNED, [0, 0, 1, 1, 2, 2, 3, 3]),
    ],
)
def test_counter(spec: dict[str, object], resource: ResourceModel, expected: list[object]) -> None:
    generator = make({"kind": "counter", **spec}, resource)
    values = [generator.value_at(t) for t in range(8)]
    assert values == expected and all(type(v) is type(expected[0]) for v in values)


def test_counter_stays_exact_near_the_integer_limit() -> None:
    top = 2**63 - 1
    generator = make({"kind": "counter", "start": top - 2, "every": 1}, INTEGER)
    assert [generator.value_at(t) for t in range(4)] == [top - 2, top - 1, top, top - 2]


def test_counter_refuses_fractions_on_integers_and_a_max_below_start() -> None:
    assert error_of({"kind": "counter", "step": 0.5}, INTEGER).key == "step"
    assert error_of({"kind": "counter", "start": 5, "max": 4}, INTEGER).key == "max"
    assert error_of({"kind": "counter", "step": -1}, INTEGER).key == "step"


KINDS_FOR_FUZZ = [
    ({"kind": "random_walk", "step": 9, "every": 3}, LEVEL),
    ({"kind": "sine", "period": 77, "amplitude": 50, "offset": 50, "noise": 9}, PERCENT),
    ({"kind": "daily", "min": 0, "max": 100, "noise": 20, "every": 600}, PERCENT),
    ({"kind": "sawtooth", "period": 31, "every": 2}, LEVEL),
    ({"kind": "counter", "step": 7, "every": 5}, LEVEL),
    ({"kind": "step", "period": 9, "order": "random"}, MODE),
]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32),
    st.floats(-100, 1e5, allow_nan=False),
    st.lists(st.floats(0, 1e5), max_size=20),
)
def test_generated_values_always_pass_the_resource_checks(
    seed: int, start: float, times: list[float]
) -> None:
    for spec, resource in KINDS_FOR_FUZZ:
        generator = parse_generator(spec, resource).create(random.Random(seed), start)
        for t in sorted(times):
            value = generator.value_at(start + t)
            assert check_value(resource, value) == value
            following = generator.next_change(start + t)
            assert following is None or following > start + t

"""GeneratorSet (one heap for a shard's generators) and linked generators."""

from __future__ import annotations

import random
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.device.gen_linked import Linked
from fleet.device.gen_set import MAX_LINK_DEPTH
from fleet.device.generators import (
    GeneratorError,
    GeneratorSet,
    GeneratorSpec,
    device_rng,
    parse_generator,
)
from fleet.model import Operations, Path, ResourceModel, ResourceType, parse_range
from fleet.model.shipped import shipped_registry
from fleet.model.values import Value

SENSORS = shipped_registry().get(3303)
SENSOR_VALUE = SENSORS.resource(5700)
MIN_MEASURED = SENSORS.resource(5601)
MAX_MEASURED = SENSORS.resource(5602)
VALUE_PATH, MIN_PATH, MAX_PATH = Path(3303, 0, 5700), Path(3303, 0, 5601), Path(3303, 0, 5602)
OTHER_PATH = Path(3303, 1, 5700)


def linked(**params: object) -> GeneratorSpec:
    resource = params.pop("resource", MAX_MEASURED)
    return parse_generator({"kind": "linked", **params}, resource)  # type: ignore[arg-type]


def run_until(gens: GeneratorSet, end: float) -> list[tuple[float, Hashable, Path, Value]]:
    """Drive the set like the runner's single timer: wake at next_deadline() until ``end``."""
    seen = []
    while (deadline := gens.next_deadline()) is not None and deadline <= end:
        seen.extend((deadline, *change) for change in gens.due(deadline))
    return seen


# -- linked on its own -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "feeds", "expected"),
    [
        ({"source": "/3303/0/5700"}, [20.0, 25.0, 18.0], [20.0, 25.0, 18.0]),
        ({"source": "/3303/0/5700", "op": "max"}, [20.0, 25.0, 18.0], [20.0, 25.0, 25.0]),
        ({"source": "/3303/0/5700", "op": "min"}, [20.0, 25.0, 18.0], [20.0, 20.0, 18.0]),
        (
            {"source": "/3303/0/5700", "scale": 1.8, "offset": 32, "decimals": 1},
            [20.0, 25.0, -40.0],
            [68.0, 77.0, -40.0],
        ),
    ],
)
def test_linked_single_source(
    params: dict[str, object], feeds: list[float], expected: list[float]
) -> None:
    generator = linked(**params).create(random.Random(1), 0.0)
    assert isinstance(generator, Linked)
    seen = []
    for value in feeds:
        generator.feed(VALUE_PATH, value)
        seen.append(generator.value_at(0))
    assert seen == expected
    assert generator.next_change(0) is None


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("max_of", [10.0, 30.0]),
        ("min_of", [10.0, 10.0]),
        ("sum", [10.0, 40.0]),
        ("mean", [10.0, 20.0]),
    ],
)
def test_linked_over_several_sources(op: str, expected: list[float]) -> None:
    generator = linked(source=["/3303/0/5700", "/3303/1/5700"], op=op).create(random.Random(1), 0)
    assert isinstance(generator, Linked)
    assert generator.feed(VALUE_PATH, 10.0)
    first = generator.value_at(0)
    changed = generator.feed(OTHER_PATH, 30.0)
    assert [first, generator.value_at(0)] == expected
    assert changed == (expected[0] != expected[1])
    assert not generator.feed(Path(3, 0, 9), 5)  # not a source


def test_linked_above_and_below_give_booleans() -> None:
    alarm = ResourceModel(5500, "Alarm", Operations.R, False, False, ResourceType.BOOLEAN)
    above = linked(resource=alarm, source="/3303/0/5700", op="above", threshold=30)
    below = linked(resource=alarm, source="/3303/0/5700", op="below", threshold=0)
    pair = [above.create(random.Random(1), 0), below.create(random.Random(1), 0)]
    seen = []
    for value in (20.0, 31.0, 30.0, -1.0):
        for generator in pair:
            assert isinstance(generator, Linked)
            generator.feed(VALUE_PATH, value)
        seen.append(tuple(g.value_at(0) for g in pair))
    assert seen == [(False, False), (True, False), (False, False), (False, True)]
    with pytest.raises(GeneratorError) as info:
        linked(resource=alarm, source="/3303/0/5700", op="above")
    assert info.value.key == "threshold"


def test_linked_results_are_rounded_and_clamped_into_the_range() -> None:
    percent = ResourceModel(
        1,
        "Pct",
        Operations.R,
        False,
        False,
        ResourceType.INTEGER,
        parse_range("0..100", ResourceType.INTEGER),
    )
    generator = linked(resource=percent, source="/3303/0/5700", scale=10).create(
        random.Random(1), 0
    )
    assert isinstance(generator, Linked)
    generator.feed(VALUE_PATH, 4.26)
    assert generator.value_at(0) == 43
    generator.feed(VALUE_PATH, 50.0)
    assert generator.value_at(0) == 100
    generator.feed(VALUE_PATH, "warm")  # not a number: ignored
    assert generator.value_at(0) == 100


# -- one heap for everything -----------------------------------------------------------------------


def test_one_heap_advances_many_devices_and_yields_only_real_changes() -> None:
    gens = GeneratorSet()
    step = parse_generator({"kind": "step", "levels": [1.0, 1.0, 2.0], "period": 30}, SENSOR_VALUE)
    counter = parse_generator({"kind": "counter", "every": 5}, MIN_MEASURED)
    for device in range(3):
        gens.schedule(device, VALUE_PATH, step.create(device_rng(1, device), float(device)))
    gens.schedule("d", MIN_PATH, counter.create(random.Random(1), 0.0))
    assert len(gens) == 4
    assert gens.values(0) == [(VALUE_PATH, 1.0)]
    assert gens.next_deadline() == 5.0
    assert list(gens.due(4.9)) == []
    assert list(gens.due(5.0)) == [("d", MIN_PATH, 1.0)]
    # at 10, 11, 12 the steps stay at 1.0 (no change yielded); at 20, 21, 22 they become 2.0
    assert list(gens.due(12.0)) == [("d", MIN_PATH, 2.0)]
    assert gens.next_deadline() == 15.0
    changes = run_until(gens, 22.0)
    assert [(t, d, v) for t, d, _, v in changes if d != "d"] == [
        (20.0, 0, 2.0),
        (21.0, 1, 2.0),
        (22.0, 2, 2.0),
    ]


def test_a_late_wakeup_jumps_to_the_value_at_now_once() -> None:
    gens = GeneratorSet()
    counter = parse_generator({"kind": "counter", "every": 1}, MIN_MEASURED)
    gens.schedule("d", MIN_PATH, counter.create(random.Random(1), 0.0))
    assert list(gens.due(100.5)) == [("d", MIN_PATH, 100.0)]
    assert gens.next_deadline() == 101.0


def test_stopping_the_iteration_early_keeps_every_deadline() -> None:
    gens = GeneratorSet()
    counter = parse_generator({"kind": "counter", "every": 1}, MIN_MEASURED)
    for device in range(5):
        gens.schedule(device, MIN_PATH, counter.create(random.Random(1), 0.0))
    iterator = gens.due(1.0)
    next(iterator)
    iterator.close()
    rest = list(gens.due(1.0))
    assert len(rest) == 4 and gens.next_deadline() == 2.0


def test_cancel_and_replace() -> None:
    gens = GeneratorSet()
    counter = parse_generator({"kind": "counter", "every": 1}, MIN_MEASURED)
    constant = parse_generator({"kind": "constant", "value": 7}, MIN_MEASURED)
    gens.schedule("a", MIN_PATH, counter.create(random.Random(1), 0.0))
    gens.schedule("b", MIN_PATH, counter.create(random.Random(1), 0.0))
    assert gens.cancel("a") == 1 and gens.cancel("a") == 0
    assert [d for d, _, _ in gens.due(3.0)] == ["b"]
    assert gens.schedule("b", MIN_PATH, constant.create(random.Random(1), 3.0)) == 7.0
    assert len(gens) == 1
    assert gens.next_deadline() is None and list(gens.due(1e9)) == []


def test_linked_generators_follow_their_sources_in_the_same_step() -> None:
    gens = GeneratorSet()
    walk = parse_generator(
        {"kind": "random_walk", "min": 0, "max": 40, "step": 4, "every": 1}, SENSOR_VALUE
    )
    # the linked ones are scheduled first: they catch up when their source arrives
    gens.schedule(
        "d", MAX_PATH, linked(source="/3303/0/5700", op="max").create(random.Random(1), 0)
    )
    gens.schedule(
        "d",
        MIN_PATH,
        linked(resource=MIN_MEASURED, source="/3303/0/5700", op="min").create(random.Random(1), 0),
    )
    first = gens.schedule("d", VALUE_PATH, walk.create(device_rng(2, 0), 0.0))
    assert dict(gens.values("d")) == {MAX_PATH: first, MIN_PATH: first, VALUE_PATH: first}
    values, highs, lows = [first], [first], [first]
    for change in run_until(gens, 300.0):
        _, device, path, value = change
        assert device == "d"
        if path == VALUE_PATH:
            values.append(value)
        elif path == MAX_PATH:
            highs.append(value)
        else:
            lows.append(value)
    assert highs[-1] == max(values) and lows[-1] == min(values)
    assert highs == sorted(highs) and lows == sorted(lows, reverse=True)
    assert len(highs) < len(values)  # only changes are reported
    # a change from elsewhere (a server Write) reaches the linked values too
    assert gens.feed("d", VALUE_PATH, 99.0, 300.0) == [("d", MAX_PATH, 99.0)]


def test_a_cycle_of_linked_generators_stops() -> None:
    gens = GeneratorSet()
    a = linked(source="/3303/0/5601", scale=1, offset=1).create(random.Random(1), 0)
    b = linked(resource=MIN_MEASURED, source="/3303/0/5602", offset=1).create(random.Random(1), 0)
    gens.schedule("d", MAX_PATH, a)
    gens.schedule("d", MIN_PATH, b)
    changes = gens.feed("d", MIN_PATH, 0.0, 0.0)
    assert 0 < len(changes) <= MAX_LINK_DEPTH


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 6))
def test_the_heap_reports_exactly_the_changes_of_each_generator(seed: int, devices: int) -> None:
    specs = [
        parse_generator(
            {"kind": "random_walk", "min": 0, "max": 9, "step": 3, "every": 2.5, "decimals": 0},
            SENSOR_VALUE,
        ),
        parse_generator(
            {"kind": "step", "levels": [1, 1, 2], "period": 7, "order": "random"}, SENSOR_VALUE
        ),
        parse_generator(
            {"kind": "sine", "period": 13, "amplitude": 2, "every": 0.7, "decimals": 0},
            SENSOR_VALUE,
        ),
    ]
    rng = random.Random(seed)
    gens, reference = GeneratorSet(), {}
    for device in range(devices):
        for i, spec in enumerate(specs):
            start = rng.uniform(0, 5)
            path = Path(3303, i, 5700)
            gens.schedule(device, path, spec.create(device_rng(seed, device), start))
            reference[(device, path)] = spec.create(device_rng(seed, device), start)
    changes = run_until(gens, 60.0)
    for (device, path), generator in reference.items():
        expected, last, now = [], generator.value_at(0.0), 0.0
        while (now := generator.next_change(now)) is not None and now <= 60.0:
            value = generator.value_at(now)
            if value != last:
                expected.append((now, value))
            last = value
        got = [(t, v) for t, d, p, v in changes if (d, p) == (device, path)]
        assert got == expected


def test_linked_copy_converts_to_the_target_type_or_ignores_what_does_not_fit() -> None:
    text = ResourceModel(5750, "Application Type", Operations.R, False, False, ResourceType.STRING)
    count = ResourceModel(1, "Count", Operations.R, False, False, ResourceType.BOOLEAN)
    as_text = linked(resource=text, source="/3303/0/5700").create(random.Random(1), 0)
    as_bool = linked(resource=count, source="/3303/0/5700").create(random.Random(1), 0)
    assert isinstance(as_text, Linked) and isinstance(as_bool, Linked)
    as_text.feed(VALUE_PATH, 21.5)
    as_bool.feed(VALUE_PATH, True)
    assert (as_text.value_at(0), as_bool.value_at(0)) == ("21.5", True)
    as_text.feed(VALUE_PATH, False)
    assert not as_bool.feed(VALUE_PATH, 3.5)  # a Float does not fit a Boolean: ignored
    assert (as_text.value_at(0), as_bool.value_at(0)) == ("false", True)

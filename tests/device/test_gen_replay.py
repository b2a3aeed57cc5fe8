"""The replay generator: CSV columns played back at controlled times, and its file:line errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from fleet.device.gen_replay import MAX_PROBLEMS
from fleet.device.generators import GeneratorError, device_rng, parse_generator
from fleet.model import Operations, ResourceModel, ResourceType, parse_range

TEMPERATURE = ResourceModel(
    5700,
    "Sensor Value",
    Operations.R,
    False,
    True,
    ResourceType.FLOAT,
    parse_range("-40..85", ResourceType.FLOAT),
)
STATE = ResourceModel(1, "State", Operations.R, False, False, ResourceType.BOOLEAN)
COUNT = ResourceModel(2, "Count", Operations.R, False, False, ResourceType.INTEGER)


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def replay(tmp_path: Path, resource: ResourceModel = TEMPERATURE, **params: object):  # type: ignore[no-untyped-def]
    spec = parse_generator({"kind": "replay", **params}, resource, base_dir=tmp_path)
    return spec


def test_interval_rows_loop_back_to_the_start(tmp_path: Path) -> None:
    write(tmp_path, "temp\n20.5\n21\n22.25\n")
    generator = replay(tmp_path, file="data.csv", column="temp", interval="10s").create(
        random.Random(1), 100.0
    )
    seen = [generator.value_at(100.0 + t) for t in (0, 9.9, 10, 20, 29.9, 30, 45)]
    assert seen == [20.5, 20.5, 21.0, 22.25, 22.25, 20.5, 21.0]
    assert generator.next_change(100.0) == 110.0
    assert generator.next_change(125.0) == 130.0  # the loop starts over
    assert generator.value_at(50.0) == 20.5  # before the start: the first row


def test_time_column_in_seconds_without_loop_holds_the_last_value(tmp_path: Path) -> None:
    write(tmp_path, "t,temp,other\n1000,10,x\n1005,11,y\n1005,12,z\n1020,13,w\n")
    spec = replay(tmp_path, file="data.csv", column="temp", time_column="t", loop=False)
    generator = spec.create(random.Random(1), 0.0)
    assert [generator.value_at(t) for t in (0, 4.9, 5, 19, 20, 1e6)] == [10, 10, 12, 12, 13, 13]
    assert generator.next_change(0) == 5.0
    assert generator.next_change(5) == 20.0
    assert generator.next_change(20) is None


def test_iso_times_a_time_scale_and_looping_after_the_last_gap(tmp_path: Path) -> None:
    write(
        tmp_path,
        "when;state\n2024-05-01T00:00:00Z;true\n2024-05-01T01:00:00Z;false\n"
        "2024-05-01T01:30:00+00:00;true\n",
    )
    spec = replay(
        tmp_path,
        STATE,
        file="data.csv",
        column="state",
        time_column="when",
        delimiter=";",
        time_scale=60,
    )
    generator = spec.create(random.Random(1), 0.0)
    # an hour of recording per minute; the last row lasts as long as the gap before it (30 min)
    assert [generator.value_at(t) for t in (0, 59, 60, 89, 90, 119, 120, 180)] == [
        True,
        True,
        False,
        False,
        True,
        True,
        True,
        False,
    ]
    assert generator.next_change(90) == 120.0


def test_random_start_gives_devices_different_rows_reproducibly(tmp_path: Path) -> None:
    write(tmp_path, "v\n" + "".join(f"{i}\n" for i in range(50)))
    spec = replay(tmp_path, COUNT, file="data.csv", column="v", interval=1, random_start=True)
    firsts = [spec.create(device_rng(9, i), 0.0).value_at(0) for i in range(30)]
    assert len(set(firsts)) > 15
    assert firsts == [spec.create(device_rng(9, i), 0.0).value_at(0) for i in range(30)]
    generator = spec.create(device_rng(9, 0), 0.0)
    first = generator.value_at(0)
    assert generator.value_at(1) == (first + 1) % 50  # type: ignore[operator]


def test_deadlines_always_move_forward_with_awkward_times(tmp_path: Path) -> None:
    write(tmp_path, "t,v\n0,1\n0.1,2\n0.30000000000000004,3\n0.7,4\n")
    spec = replay(tmp_path, COUNT, file="data.csv", column="v", time_column="t", time_scale=3)
    generator = spec.create(random.Random(1), 1e9 + 0.1)
    now, seen = 1e9 + 0.1, []
    for _ in range(40):
        following = generator.next_change(now)
        assert following is not None and following > now
        now = following
        seen.append(generator.value_at(now))
    assert seen[:8] == [2, 3, 4, 1, 2, 3, 4, 1]


@pytest.mark.parametrize(
    ("text", "params", "fragments"),
    [
        ("temp\n20\nhot\n21\n", {}, ["data.csv:3:", "'hot' is not a Float"]),
        ("temp\n20\n99\n", {}, ["data.csv:3:", "outside -40..85"]),
        ("temp,x\n20,1\n21\n", {}, ["data.csv:3: 1 fields, the header has 2"]),
        (
            "t,temp\n5,20\n4,21\n",
            {"time_column": "t", "interval": None},
            ["data.csv:3: time goes backwards"],
        ),
        (
            "t,temp\nnoon,20\n",
            {"time_column": "t", "interval": None},
            ["data.csv:2:", "neither seconds"],
        ),
        ("other\n1\n", {}, ["data.csv:1: no column 'temp' (columns: other)"]),
        ("", {}, ["data.csv:1: empty file"]),
        ("temp\n\n\n", {}, ["no data rows"]),
        ('temp\n"20\n', {}, ["data.csv:"]),
    ],
)
def test_bad_csv_rows_are_reported_with_file_and_line(
    tmp_path: Path, text: str, params: dict[str, object], fragments: list[str]
) -> None:
    write(tmp_path, text)
    spec = {"file": "data.csv", "column": "temp", "interval": "1s", **params}
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(GeneratorError) as info:
        replay(tmp_path, **spec)
    assert info.value.key in ("file", "column", "time_column")
    for fragment in fragments:
        assert fragment in info.value.message


def test_every_bad_row_is_reported_up_to_a_limit(tmp_path: Path) -> None:
    write(tmp_path, "temp\n" + "bad\n" * 30)
    with pytest.raises(GeneratorError) as info:
        replay(tmp_path, file="data.csv", column="temp", interval=1)
    lines = info.value.message.splitlines()
    assert len(lines) == MAX_PROBLEMS
    assert lines[0].endswith("'bad' is not a Float") and "data.csv:2:" in lines[0]
    assert "data.csv:3:" in lines[1]


def test_a_missing_file_and_a_bad_delimiter(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError) as info:
        replay(tmp_path, file="nope.csv", column="temp", interval=1)
    assert info.value.key == "file" and "nope.csv" in info.value.message
    write(tmp_path, "temp\n1\n")
    with pytest.raises(GeneratorError) as info:
        replay(tmp_path, file="data.csv", column="temp", interval=1, delimiter="::")
    assert info.value.key == "delimiter"


def test_an_absolute_file_ignores_the_base_dir(tmp_path: Path) -> None:
    path = write(tmp_path, "temp\n7\n")
    spec = parse_generator(
        {"kind": "replay", "file": str(path), "column": "temp", "interval": 1},
        TEMPERATURE,
        base_dir=tmp_path / "elsewhere",
    )
    assert spec.create(random.Random(1), 0).value_at(5) == 7.0

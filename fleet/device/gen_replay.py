"""The ``replay`` value generator: a column of a CSV file played back over time.

The file is read once when the scenario is parsed; every value is converted
to the resource's type and checked against its range then, and every bad row
is reported as ``file:line: what is wrong`` (up to :data:`MAX_PROBLEMS` at
once). Times come from a ``time_column`` (seconds as numbers, or ISO 8601
date-times; only differences matter, they must not go backwards) or from a
fixed ``interval``. With ``loop`` (the default) the recording starts over
after its last row, which is held as long as the gap before it (or
``interval``); without, the last value stays. ``time_scale`` plays the file
faster (60: an hour of recording per minute); ``random_start`` makes each
device begin at a random row so a fleet does not move in lockstep.
"""

from __future__ import annotations

import csv
import itertools
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Final

from fleet.device.gen_base import (
    VALUE_TYPES,
    GeneratorError,
    GeneratorInfo,
    GeneratorSpec,
    ParamInfo,
)
from fleet.device.gen_params import Params
from fleet.errors import InvalidValue
from fleet.model.definitions import ResourceModel
from fleet.model.values import Value, coerce_value

MAX_PROBLEMS: Final = 10

REPLAY: Final = GeneratorInfo(
    "replay",
    "values from a column of a CSV file (with a header row), at its times or a fixed interval",
    (
        ParamInfo("file", "string", "the CSV file (relative to the scenario file)", required=True),
        ParamInfo("column", "string", "header of the column holding the values", required=True),
        ParamInfo(
            "time_column",
            "string",
            "header of the column holding times (seconds, or ISO 8601 date-times)",
        ),
        ParamInfo("interval", "duration", "time between rows (instead of time_column)"),
        ParamInfo("loop", "boolean", "start over after the last row", default=True),
        ParamInfo("time_scale", "number", "play this many times faster than recorded", default=1),
        ParamInfo("random_start", "boolean", "each device starts at a random row", default=False),
        ParamInfo("delimiter", "string", "the field separator", default=","),
    ),
    VALUE_TYPES,
)


@dataclass(frozen=True, slots=True)
class ReplaySpec(GeneratorSpec):
    times: tuple[float, ...]
    values: tuple[Value, ...]
    cycle: float | None
    time_scale: float
    random_start: bool
    kind = "replay"

    @classmethod
    def parse(cls, p: Params, resource: ResourceModel, base_dir: FilePath | None) -> ReplaySpec:
        file = FilePath(p.text("file"))
        if base_dir is not None and not file.is_absolute():
            file = base_dir / file
        has_time, has_interval = p.has("time_column"), p.has("interval")
        if has_time == has_interval:
            raise GeneratorError("replay needs either time_column or interval", "interval")
        interval = p.duration("interval") if has_interval else None
        delimiter = p.text("delimiter", ",")
        if len(delimiter) != 1:
            raise GeneratorError(f"must be one character, got {delimiter!r}", "delimiter")
        times, values = _read(
            file,
            resource,
            p.text("column"),
            p.text("time_column") if has_time else None,
            interval,
            delimiter,
        )
        cycle = _cycle(times, interval) if p.boolean("loop", True) else None
        return cls(
            times, values, cycle, p.positive("time_scale", 1.0), p.boolean("random_start", False)
        )

    def create(self, rng: random.Random, start: float) -> Replay:
        shift = self.times[rng.randrange(len(self.times))] if self.random_start else 0.0
        return Replay(self, start, shift)


def _cycle(times: tuple[float, ...], interval: float | None) -> float | None:
    if interval is not None:
        return len(times) * interval
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    return times[-1] + gaps[-1] if gaps else None


def _read(
    file: FilePath,
    resource: ResourceModel,
    column: str,
    time_column: str | None,
    interval: float | None,
    delimiter: str,
) -> tuple[tuple[float, ...], tuple[Value, ...]]:
    try:
        handle = file.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise GeneratorError(f"cannot read {file}: {exc.strerror or exc}", "file") from None
    problems: list[str] = []
    times: list[float] = []
    values: list[Value] = []
    with handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise GeneratorError(f"{file}:1: empty file (a header row is needed)", "file")
            header = [h.strip() for h in header]
            where = {name: header.index(name) for name in header}
            for key, name in (("column", column), ("time_column", time_column)):
                if name is not None and name not in where:
                    raise GeneratorError(
                        f"{file}:1: no column {name!r} (columns: {', '.join(header)})", key
                    )
            value_at = where[column]
            time_at = where[time_column] if time_column is not None else None
            origin: float | None = None
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    problems.append(
                        f"{file}:{line}: {len(row)} fields, the header has {len(header)}"
                    )
                    continue
                try:
                    value = coerce_value(resource, row[value_at])
                except InvalidValue as exc:
                    problems.append(f"{file}:{line}: column {column!r}: {exc}")
                    continue
                if time_at is None:
                    assert interval is not None
                    moment = len(times) * interval
                else:
                    try:
                        stamp = _time(row[time_at])
                    except ValueError as exc:
                        problems.append(f"{file}:{line}: column {time_column!r}: {exc}")
                        continue
                    origin = stamp if origin is None else origin
                    moment = stamp - origin
                    if times and moment < times[-1]:
                        problems.append(f"{file}:{line}: time goes backwards ({row[time_at]!r})")
                        continue
                times.append(moment)
                values.append(value)
                if len(problems) >= MAX_PROBLEMS:
                    break
        except csv.Error as exc:
            problems.append(f"{file}:{reader.line_num}: {exc}")
    if problems:
        raise GeneratorError("\n".join(problems[:MAX_PROBLEMS]), "file")
    if not values:
        raise GeneratorError(f"{file}: no data rows after the header", "file")
    return tuple(times), tuple(values)


def _time(text: str) -> float:
    stripped = text.strip()
    try:
        number = float(stripped)
    except ValueError:
        try:
            moment = datetime.fromisoformat(stripped)
        except ValueError:
            raise ValueError(f"{text!r} is neither seconds nor an ISO 8601 date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number of seconds")
    return number


class Replay:
    __slots__ = ("shift", "spec", "start")

    def __init__(self, spec: ReplaySpec, start: float, shift: float) -> None:
        self.spec, self.start, self.shift = spec, start, shift

    def _position(self, t: float) -> tuple[int, int]:
        """(lap, row index) at time ``t``."""
        spec = self.spec
        elapsed = max(0.0, t - self.start) * spec.time_scale + self.shift
        lap = 0
        if spec.cycle is not None:
            lap = int(elapsed // spec.cycle)
            elapsed -= lap * spec.cycle
        return lap, max(0, bisect_right(spec.times, elapsed) - 1)

    def value_at(self, t: float) -> Value:
        return self.spec.values[self._position(t)[1]]

    def next_change(self, t: float) -> float | None:
        spec = self.spec
        lap, index = self._position(t)
        if index + 1 < len(spec.times):
            target = spec.times[index + 1]
        elif spec.cycle is not None:
            target = spec.cycle
        else:
            return None
        base = lap * spec.cycle if spec.cycle is not None else 0.0
        when = self.start + (base + target - self.shift) / spec.time_scale
        current = (lap, index)
        for _ in range(64):  # float rounding: make sure the row really turned at `when`
            if when > t and self._position(when) != current:
                break
            when = math.nextafter(when, math.inf)
        return when

"""Value generators: how a simulated resource's value moves over time.

The API the scenario loader and the runner use:

- :data:`GENERATOR_KINDS` — every kind's :class:`GeneratorInfo` (description,
  fitting resource types, parameters with type, required/default,
  description; ``json_schema()`` for the published schema);
- :func:`parse_generator` — ``{"kind": "sine", "period": "10m", ...}`` plus
  the resource's definition -> a validated, immutable :class:`GeneratorSpec`,
  or :class:`GeneratorError` naming the offending parameter (``key``);
- ``spec.create(rng, start)`` -> one device's :class:`Generator`:
  ``value_at(t)`` and ``next_change(t)`` (``None``: never on its own);
- :func:`device_rng` — the per-device ``random.Random`` derived from the run
  seed and the device index with a stable hash;
- :class:`GeneratorSet` — every generator of a shard on one timer heap.

Kinds: constant, random_walk, sine, daily, step, sawtooth, counter, replay,
linked (see their modules ``gen_*.py``).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from pathlib import Path as FilePath
from types import MappingProxyType
from typing import Final

from fleet.device.gen_base import (
    Generator,
    GeneratorError,
    GeneratorInfo,
    GeneratorSpec,
    ParamInfo,
    require_types,
)
from fleet.device.gen_counter import COUNTER, CounterSpec
from fleet.device.gen_discrete import CONSTANT, STEP, ConstantSpec, StepSpec
from fleet.device.gen_linked import LINKED, LinkedSpec
from fleet.device.gen_numeric import (
    DAILY,
    RANDOM_WALK,
    SAWTOOTH,
    SINE,
    DailySpec,
    RandomWalkSpec,
    SawtoothSpec,
    SineSpec,
)
from fleet.device.gen_params import Params, parse_duration
from fleet.device.gen_replay import REPLAY, ReplaySpec
from fleet.device.gen_set import GeneratorSet
from fleet.device.randomness import CompactRandom
from fleet.model.definitions import ResourceModel

__all__ = [
    "GENERATOR_KINDS",
    "Generator",
    "GeneratorError",
    "GeneratorInfo",
    "GeneratorSet",
    "GeneratorSpec",
    "ParamInfo",
    "device_rng",
    "generators_json_schema",
    "parse_duration",
    "parse_generator",
]

GENERATOR_KINDS: Final[Mapping[str, GeneratorInfo]] = MappingProxyType(
    {
        info.name: info
        for info in (CONSTANT, RANDOM_WALK, SINE, DAILY, STEP, SAWTOOTH, COUNTER, REPLAY, LINKED)
    }
)

_Parser = Callable[[Params, ResourceModel], GeneratorSpec]
_PARSERS: Final[dict[str, _Parser]] = {
    "constant": ConstantSpec.parse,
    "random_walk": RandomWalkSpec.parse,
    "sine": SineSpec.parse,
    "daily": DailySpec.parse,
    "step": StepSpec.parse,
    "sawtooth": SawtoothSpec.parse,
    "counter": CounterSpec.parse,
    "linked": LinkedSpec.parse,
}


def parse_generator(
    spec: Mapping[str, object], resource: ResourceModel, *, base_dir: FilePath | None = None
) -> GeneratorSpec:
    """Validate ``spec`` (``kind`` plus that kind's parameters) for ``resource``.

    Checks the kind, unknown and missing parameters, their types, and that the
    values the generator reaches fit the resource's type and range. Relative
    ``replay`` files are looked up under ``base_dir`` (the scenario's folder).
    Raises :class:`GeneratorError` whose ``key`` is the offending parameter
    (``"kind"`` for an unknown kind or one that does not fit the resource).
    """
    if not isinstance(spec, Mapping):
        raise GeneratorError(f"a generator is a mapping with a kind, got {spec!r}")
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in GENERATOR_KINDS:
        known = ", ".join(GENERATOR_KINDS)
        if kind is None:
            raise GeneratorError(f"a generator needs a kind (one of {known})", "kind")
        raise GeneratorError(f"unknown generator {kind!r} (known: {known})", "kind")
    info = GENERATOR_KINDS[kind]
    require_types(kind, resource, info.types)
    if resource.executable:
        raise GeneratorError(f"resource {resource.id} ({resource.name}) is executable", "kind")
    params = Params(kind, spec, info)
    if kind == "replay":
        return ReplaySpec.parse(params, resource, base_dir)
    return _PARSERS[kind](params, resource)


def generators_json_schema() -> dict[str, object]:
    """JSON Schema of a generator spec: one of the kinds, told apart by ``kind``."""
    return {
        "oneOf": [info.json_schema() for info in GENERATOR_KINDS.values()],
        "description": "a value generator: kind plus that kind's parameters",
    }


def device_rng(seed: int, index: int, stream: str = "") -> random.Random:
    """The ``random.Random`` of device ``index`` in a run seeded with ``seed``.

    Derived with BLAKE2b from ``(seed, index, stream)`` — never Python's
    randomized ``hash()`` — so a run replays identically whatever the process,
    the shard count or the order devices are created in. ``stream`` separates
    independent uses (``"values"``, ``"churn"``, ``"faults"`` ...) so adding
    draws to one never shifts another.
    """
    return random.Random(_stream_seed(seed, index, stream))


def device_compact_rng(seed: int, index: int, stream: str = "") -> CompactRandom:
    """:func:`device_rng`'s stream as a :class:`~fleet.device.randomness.CompactRandom`
    (80 bytes instead of 2,560: what each device of a fleet keeps, ``"device"``)."""
    return CompactRandom(_stream_seed(seed, index, stream))


def _stream_seed(seed: int, index: int, stream: str) -> int:
    digest = hashlib.blake2b(
        f"{seed}\x1f{index}\x1f{stream}".encode(), digest_size=16, person=b"lwm2m-fleet"
    ).digest()
    return int.from_bytes(digest, "big")

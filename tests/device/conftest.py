"""Fixtures for the device tests: the shipped objects, a manual clock, recorded changes and events.

The object definitions are the package's shipped ones; tests that need other
versions load them from the OMA registry snapshot beside the repository
(``../shared/oma-registry``), read in place.
"""

from __future__ import annotations

import pathlib
import random

import pytest

from fleet.clock import ManualClock
from fleet.device import SHIPPED_LAYOUT, DeviceEvent, ObjectTree, TreeTemplate
from fleet.model import (
    ModelRegistry,
    ObjectModel,
    Operations,
    Path,
    ResourceModel,
    ResourceType,
    parse_range,
)
from fleet.model.ddf import load_ddf_file, shipped_registry

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
OMA_VERSIONS = REPO_ROOT.parent / "shared" / "oma-registry" / "version_history"
WALL_START = 1_700_000_000.0


def oma_model_registry(*names: str) -> ModelRegistry:
    """Definitions from the OMA registry snapshot, e.g. ``oma_model_registry("3-1_0")``."""
    assert OMA_VERSIONS.is_dir(), f"the OMA registry snapshot is missing: {OMA_VERSIONS}"
    return ModelRegistry(load_ddf_file(OMA_VERSIONS / f"{name}.xml") for name in names)


class Recorder:
    """Collects what a tree tells its listeners."""

    def __init__(self) -> None:
        self.changes: list[tuple[Path, ...]] = []
        self.events: list[DeviceEvent] = []

    def on_change(self, paths: tuple[Path, ...]) -> None:
        self.changes.append(paths)

    def on_event(self, event: DeviceEvent) -> None:
        self.events.append(event)

    @property
    def changed(self) -> set[Path]:
        """Every path reported, over all calls."""
        return {p for paths in self.changes for p in paths}

    def clear(self) -> None:
        self.changes.clear()
        self.events.clear()


@pytest.fixture(scope="session")
def registry() -> ModelRegistry:
    return shipped_registry()


@pytest.fixture(scope="session")
def template(registry: ModelRegistry) -> TreeTemplate:
    return TreeTemplate.compile(registry, SHIPPED_LAYOUT)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=0.0, wall_start=WALL_START)


@pytest.fixture
def tree(template: TreeTemplate, clock: ManualClock) -> ObjectTree:
    return ObjectTree(template, clock=clock, rng=random.Random(7))


@pytest.fixture
def recorder(tree: ObjectTree) -> Recorder:
    rec = Recorder()
    tree.add_change_listener(rec.on_change)
    tree.add_event_listener(rec.on_event)
    return rec


CUSTOM = 40000
"""A made-up object for cases the shipped objects lack (write-only and ranged resources)."""


def custom_model() -> ObjectModel:
    def res(
        rid: int, name: str, ops: Operations, type_: ResourceType, **kw: object
    ) -> ResourceModel:
        rng = kw.pop("range", "")
        assert isinstance(rng, str)
        return ResourceModel(
            id=rid,
            name=name,
            operations=ops,
            multiple=bool(kw.pop("multiple", False)),
            mandatory=bool(kw.pop("mandatory", False)),
            type=type_,
            range=parse_range(rng, type_),
        )

    resources = [
        res(0, "Secret", Operations.W, ResourceType.STRING),
        res(1, "Level", Operations.RW, ResourceType.INTEGER, range="0..100", mandatory=True),
        res(2, "Label", Operations.R, ResourceType.STRING),
        res(3, "Poke", Operations.E, ResourceType.NONE),
        res(4, "Samples", Operations.RW, ResourceType.FLOAT, multiple=True),
    ]
    return ObjectModel(
        id=CUSTOM, name="Custom", version="2.0", resources={r.id: r for r in resources}
    )

"""The object definitions shipped with the package, and registries built on them.

Our own DDF files (``objects/`` in the repository) are package data under
``fleet/_objects``. :func:`shipped_registry` holds them; :func:`build_registry`
adds user folders on top (``--objects DIR`` on the command line). The names are
also importable from :mod:`fleet.model.ddf`.
"""

from __future__ import annotations

import functools
import importlib.resources
import pathlib
from collections.abc import Sequence

from fleet.errors import FleetError
from fleet.model.definitions import ObjectModel
from fleet.model.registry import ModelRegistry


def shipped_objects_dir() -> pathlib.Path:
    """The folder of DDF files shipped inside the package (``fleet/_objects``)."""
    folder = importlib.resources.files("fleet") / "_objects"
    if not isinstance(folder, pathlib.Path) or not folder.is_dir():
        raise FleetError(f"the shipped object definitions are missing: {folder}")
    return folder


def _load_folder(folder: pathlib.Path) -> list[ObjectModel]:
    """Every definition under ``folder``; the first broken file raises its DdfError."""
    # imported here: fleet.model.ddf re-exports this module's functions
    from fleet.model.ddf import load_paths

    report = load_paths([folder])
    if report.failures:
        raise report.failures[0]
    return report.models


@functools.cache
def _shipped_models() -> tuple[ObjectModel, ...]:
    return tuple(_load_folder(shipped_objects_dir()))


def shipped_registry() -> ModelRegistry:
    """A new registry holding the shipped objects (the files are read once per process)."""
    return ModelRegistry(_shipped_models())


def build_registry(extra_dirs: Sequence[pathlib.Path] = ()) -> ModelRegistry:
    """The shipped objects, then each user folder (or file) on top, in order.

    A user definition with the same id and version as an earlier one replaces
    it. A broken user file raises its located :class:`~fleet.errors.DdfError`;
    files that are not object definitions are ignored.
    """
    registry = shipped_registry()
    for folder in extra_dirs:
        for model in _load_folder(folder):
            registry.add(model)
    return registry

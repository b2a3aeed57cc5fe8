"""How fast the DDF loader reads the whole OMA registry.

Usage: ``python bench/bench_ddf.py [REGISTRY_DIR] [--runs N]``. Loads every file
under the folder (default ``../shared/oma-registry``) N times and prints the
best time and the files per second; also the time of a registry build on top
of the shipped objects.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from collections.abc import Callable

from fleet.model.ddf import build_registry, load_paths

DEFAULT_REGISTRY = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "oma-registry"


def best_of(runs: int, action: Callable[[], object]) -> float:
    """The shortest wall time of ``runs`` calls."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", nargs="?", type=pathlib.Path, default=DEFAULT_REGISTRY)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    folder: pathlib.Path = args.registry
    runs: int = max(1, args.runs)

    report = load_paths([folder])
    files = len(report.models) + len(report.failures) + len(report.skipped)
    size = sum(p.stat().st_size for p in folder.rglob("*.xml"))
    print(f"registry: {folder} ({files} files, {size / 1e6:.1f} MB)")
    print(f"result:   {report.summary()}")

    load_time = best_of(runs, lambda: load_paths([folder]))
    print(
        f"load_paths: best of {runs}: {load_time * 1000:.1f} ms, "
        f"{files / load_time:,.0f} files/s, {size / 1e6 / load_time:.1f} MB/s"
    )
    registry_time = best_of(runs, lambda: build_registry([folder]))
    print(f"build_registry (shipped + registry): best of {runs}: {registry_time * 1000:.1f} ms")


if __name__ == "__main__":
    main()

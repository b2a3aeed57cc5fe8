"""How fast each content format encodes and decodes a full Device (/3/0) object instance.

Usage: ``python bench/bench_codec.py [--loops N] [--runs R]``. For every format
that can carry an object instance, encodes and decodes an instance holding
every readable resource of the shipped Device object (multiple-instance ones
with three instances) ``N`` times per run, keeps the best of ``R`` runs and
prints microseconds per operation; the single-value formats are timed on one
resource (/3/0/0), and the embedded server's decode of a whole /3 answer with and without
cbor2's fast path. Loops are bounded by ``N`` and ``R``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from fleet.codec import ContentFormat, cborwire, decode, encode
from fleet.codec.cbor_fast import NOT_PLAIN
from fleet.model import (
    ModelRegistry,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    ResourceModel,
    ResourceType,
    SingleResource,
    Value,
)
from fleet.model.ddf import shipped_registry
from fleet.server.results import decode_answer

T = ResourceType
STRUCTURED = (
    ContentFormat.TLV,
    ContentFormat.SENML_JSON,
    ContentFormat.SENML_CBOR,
    ContentFormat.LWM2M_JSON,
    ContentFormat.LWM2M_CBOR,
)
SINGLE = (ContentFormat.TEXT, ContentFormat.CBOR)


def sample(resource: ResourceModel, index: int) -> Value:
    """A plausible value inside the resource's range."""
    low = resource.range.low
    if resource.type in (T.STRING, T.CORELNK):
        return f"{resource.name} {index}"
    if resource.type in (T.INTEGER, T.UNSIGNED_INTEGER):
        return int(low) + index if low is not None else 3800 + index
    if resource.type is T.TIME:
        return 1_700_000_000 + index
    if resource.type is T.FLOAT:
        return 21.5 + index
    if resource.type is T.BOOLEAN:
        return index % 2 == 0
    if resource.type is T.OPAQUE:
        return bytes(range(index, index + 16))
    return ObjectLink(3303, index)


def full_device(models: ModelRegistry) -> ObjectInstance:
    resources: dict[int, SingleResource | MultiResource] = {}
    for resource in models.get(3):
        if resource.type is T.NONE:
            continue
        if resource.multiple:
            resources[resource.id] = MultiResource(
                resource.id, {i: sample(resource, i) for i in range(3)}
            )
        else:
            resources[resource.id] = SingleResource(resource.id, sample(resource, 0))
    return ObjectInstance(0, resources)


def per_operation(loops: int, runs: int, action: Callable[[], object]) -> float:
    """Best of ``runs`` timings of ``loops`` calls, in microseconds of CPU time per call
    (process time: a shared machine's other work does not count)."""
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        for _ in range(loops):
            action()
        best = min(best, (time.process_time() - start) / loops)
    return best * 1e6


def row(
    fmt: ContentFormat, node: Node, path: Path, models: ModelRegistry, loops: int, runs: int
) -> str:
    payload = encode(fmt, node, path, models)
    assert decode(fmt, payload, path, models) == node
    enc = per_operation(loops, runs, lambda: encode(fmt, node, path, models))
    dec = per_operation(loops, runs, lambda: decode(fmt, payload, path, models))
    return f"{fmt.short_name:<12} {path!s:<8} {len(payload):>6} {enc:>11.1f} {dec:>11.1f}"


def server_read(models: ModelRegistry, node: ObjectNode, loops: int, runs: int) -> str:
    """The embedded server's decode of a device's whole /3 in SenML CBOR (what it does on
    every Register it reads /3 on), with cbor2's C decoder as ``cborwire.loads``' fast path
    and with our reader alone, interleaved run by run."""
    payload = encode(ContentFormat.SENML_CBOR, node, Path(3), models)
    timings: dict[str, float] = {"fast path": float("inf"), "reader only": float("inf")}
    fast = cborwire.fast_loads
    for _ in range(runs):
        for name in timings:
            cborwire.fast_loads = fast if name == "fast path" else (lambda *_: NOT_PLAIN)
            try:
                took = per_operation(
                    loops,
                    1,
                    lambda: decode_answer(ContentFormat.SENML_CBOR, payload, Path(3), models, {}),
                )
            finally:
                cborwire.fast_loads = fast
            timings[name] = min(timings[name], took)
    return "server decode_answer /3 SenML CBOR: " + ", ".join(
        f"{name} {took:.1f} µs" for name, took in timings.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    loops, runs = max(1, min(args.loops, 100_000)), max(1, min(args.runs, 100))
    models = shipped_registry()
    device = full_device(models)
    values = sum(
        1 + len(n.instances) - 1 if isinstance(n, MultiResource) else 1
        for n in device.resources.values()
    )
    print(
        f"Device /3/0: {len(device.resources)} resources, {values} values; "
        f"best of {runs} runs of {loops} operations"
    )
    print(f"{'format':<12} {'path':<8} {'bytes':>6} {'encode µs':>11} {'decode µs':>11}")
    for fmt in STRUCTURED:
        print(row(fmt, device, Path(3, 0), models, loops, runs))
    print(server_read(models, ObjectNode(3, {0: device}), loops, runs))
    first = device.resources[0]
    for fmt in SINGLE:
        print(row(fmt, first, Path(3, 0, 0), models, loops * 10, runs))


if __name__ == "__main__":
    main()

"""Benchmark of the per-run bookkeeping: value generators on one heap, metrics, planning.

Prints:

1. GeneratorSet: memory per scheduled generator (tracemalloc) and value changes applied per
   second when N devices x 2 generators (random walk + daily, every 10 s) are advanced over
   simulated time — the cost the shard's single scheduler pays.
2. RunMetrics.record and LatencyHistogram.record: nanoseconds per call.
3. Summary JSON of a busy run: size, dumps and loads time, exact merge of 8 shards.
4. plan_arrivals: time to compute every arrival of a 1,000,000-device ramp.

Pure CPU, no network; bounded in count.

    .venv/bin/python bench/bench_metrics.py [--devices 10000]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from fleet.device.generators import GeneratorSet, device_rng, parse_generator
from fleet.metrics import LatencyHistogram, Operation, RunMetrics, Summary
from fleet.model import Path
from fleet.model.shipped import shipped_registry
from fleet.runner.planning import plan_arrivals
from fleet.scenario.phases import CountPhase, RatePhase


def bench_generators(devices: int) -> None:
    resource = shipped_registry().get(3303).resource(5700)
    walk = parse_generator(
        {"kind": "random_walk", "min": -10, "max": 40, "step": 0.5, "every": "10s"}, resource
    )
    daily = parse_generator(
        {"kind": "daily", "min": 12, "max": 24, "noise": 0.3, "every": "10s", "decimals": 2},
        resource,
    )
    paths = (Path(3303, 0, 5700), Path(3303, 1, 5700))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    gens = GeneratorSet()
    for index in range(devices):
        rng = device_rng(1, index, "values")
        start = index * 0.001
        gens.schedule(index, paths[0], walk.create(rng, start))
        gens.schedule(index, paths[1], daily.create(rng, start))
    per_generator = (tracemalloc.get_traced_memory()[0] - before) / (2 * devices)
    tracemalloc.stop()
    changes, began = 0, time.perf_counter()
    now = 0.0
    while now < 600.0:
        now = gens.next_deadline() or 600.0
        changes += sum(1 for _ in gens.due(now))
    elapsed = time.perf_counter() - began
    print(f"GeneratorSet: {devices} devices x 2 generators")
    print(f"  memory per generator (incl. heap entry): {per_generator:,.0f} bytes")
    print(
        f"  {changes:,} changes over 600 simulated s in {elapsed:.2f} s: "
        f"{changes / elapsed:,.0f} changes/s ({elapsed / changes * 1e6:.2f} µs each)"
    )


def bench_records(n: int = 300_000) -> None:
    rng = random.Random(1)
    samples = [rng.expovariate(20) for _ in range(n)]
    histogram = LatencyHistogram()
    began = time.perf_counter()
    for sample in samples:
        histogram.record(sample)
    per_histogram = (time.perf_counter() - began) / n * 1e9
    metrics = RunMetrics()
    began = time.perf_counter()
    for sample in samples:
        metrics.record(Operation.READ, sample)
    per_record = (time.perf_counter() - began) / n * 1e9
    print(
        f"LatencyHistogram.record: {per_histogram:,.0f} ns; RunMetrics.record: {per_record:,.0f} ns"
    )
    print(f"  {histogram.count:,} samples in {len(histogram.buckets())} buckets")


def bench_summary(shards: int = 8, per_shard: int = 50_000) -> None:
    rng = random.Random(2)
    summaries = []
    for _ in range(shards):
        metrics = RunMetrics()
        for _sample in range(per_shard):
            op = rng.choice(list(Operation))
            metrics.record(op, rng.lognormvariate(-3, 1.2), ok=rng.random() > 0.01)
        summaries.append(Summary.from_metrics(metrics, scenario="bench", duration=60, devices=1000))
    began = time.perf_counter()
    texts = [s.dumps() for s in summaries]
    dumped = time.perf_counter() - began
    began = time.perf_counter()
    merged = Summary.merge_all(Summary.loads(t) for t in texts)
    loaded = time.perf_counter() - began
    print(
        f"Summary: {len(texts[0]):,} bytes of JSON per shard; "
        f"dumps {dumped / shards * 1e3:.1f} ms, "
        f"loads+merge of {shards} shards {loaded * 1e3:.1f} ms "
        f"({sum(s.count for s in merged.operations.values()):,} operations)"
    )


def bench_planning(count: int = 1_000_000) -> None:
    phases = [RatePhase(600, 10, ramp_to=3000), CountPhase(300, count)]
    began = time.perf_counter()
    plan = plan_arrivals(phases, count)
    total = sum(t for _, t in plan.arrivals())
    elapsed = time.perf_counter() - began
    print(
        f"plan_arrivals: {plan.arriving:,} arrivals of a ramp + count in {elapsed:.2f} s "
        f"({elapsed / plan.arriving * 1e6:.2f} µs each; checksum {total:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()
    bench_generators(min(args.devices, 200_000))
    bench_records()
    bench_summary()
    bench_planning()


if __name__ == "__main__":
    main()

"""bench/bench_fota.py, small: a campaign of a few devices runs to the end on 127.0.0.2 and
reports every figure docs/firmware.md quotes (devices finished per second, the file server's
rate, memory per downloading device). Numbers are printed by the bench, never asserted here."""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys
from types import ModuleType

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench" / "bench_fota.py"


@pytest.fixture(scope="module")
def bench_fota() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_fota", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_fota"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.asyncio
@pytest.mark.parametrize("push", [False, True], ids=["pull", "push"])
async def test_a_small_campaign_reports_the_figures(bench_fota: ModuleType, push: bool) -> None:
    args = argparse.Namespace(
        devices=12, image_kib=8, concurrency=4, push=push, batch=6, timeout=120.0, host="127.0.0.2"
    )
    figures = await bench_fota.bench(args)
    assert figures["outcomes"] == {"updated": 12}
    assert figures["mode"] == ("push" if push else "pull")
    assert figures["image_bytes"] > 8 * 1024
    for key in ("devices_finished_per_s", "bytes_per_downloading_device", "download_p95_s"):
        assert key in figures
    served = figures["file_server_bytes_per_s"]
    assert (served == 0) if push else (served > 0)  # a push serves nothing from the file server

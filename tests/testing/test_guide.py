"""The worked examples of docs/testing.md run as they are written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.testing.conftest import Run

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def examples() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    return [block for block in blocks if "def test_" in block]


def test_the_guide_has_the_three_promised_examples() -> None:
    names = " ".join(examples())
    for name in ("reads_device_object_on_register", "observation", "rejected_write"):
        assert name in names


def test_guide_examples_pass(run: Run) -> None:
    blocks = examples()
    tests = sum(block.count("\ndef test_") + block.count("async def test_") for block in blocks)
    source = "\n\n".join(blocks)
    result = run(source)
    result.assert_outcomes(passed=tests)

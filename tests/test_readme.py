"""The README's examples work as written: the Python example runs (against the embedded server
on loopback) and every scenario fragment validates inside a minimal scenario."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows no Python example"
    for number, block in enumerate(blocks):
        script = tmp_path / f"example_{number}.py"
        script.write_text(block)
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        for expected in re.findall(r"#\s*(.+)$", block, flags=re.M):
            assert expected.strip() in done.stdout, (expected, done.stdout)


_SCENARIO_HEAD = {
    "version": "",
    "faults": """version: 1
duration: 10m
groups:
  - {name: meters, count: 100, objects: {3442: [0]}}
phases:
  - {name: arrive, duration: 10s, arrivalCount: 100}
  - {name: steady, pause: 5m}
""",
    "server": "version: 1\n",
}


def test_readme_scenario_fragments_validate() -> None:
    from fleet.scenario import load_scenario_text

    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)
    checked = 0
    for block in blocks:
        body = "\n".join(line for line in block.splitlines() if not line.startswith("# yaml-"))
        first = body.split(":", 1)[0].strip()
        assert first in _SCENARIO_HEAD, f"a README yaml block starts with an unknown key: {first}"
        text = _SCENARIO_HEAD[first] + body
        load_scenario_text(text, file="README.md", base_dir=README.parent / "scenarios")
        checked += 1
    assert checked >= 3

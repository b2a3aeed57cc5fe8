"""Fuzzing scenario files and object definitions (hypothesis, a fixed budget).

Whatever the bytes, loading a scenario either gives a :class:`Scenario` or raises
:class:`ScenarioErrors` whose every line is ``file:line:col: message`` (or ``file: message``);
loading a DDF gives an object or raises :class:`DdfError`. Never another exception: no
traceback reaches a user. Inputs are the shipped example scenarios and object definitions,
mutated (characters inserted, deleted, replaced, lines duplicated), plus free text.
"""

from __future__ import annotations

import os
import pathlib
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.errors import DdfError
from fleet.model.ddf import load_ddf_bytes
from fleet.scenario import ScenarioErrors, load_scenario_text

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
OBJECTS = sorted((ROOT / "objects").glob("*.xml"))
EXAMPLES = int(os.environ.get("FLEET_FUZZ_EXAMPLES", "150"))
BUDGET = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same inputs every CI run: a failure replays
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LOCATED = re.compile(r"^s\.yaml(:\d+:\d+)?: .+")
YAML_BITS = st.sampled_from(
    [":", " ", "\n", "- ", "[", "]", "{", "}", "&a", "*a", "<<: ", "!!python/object", "'", '"',
     "\t", "#", "\x00", "\x1b", "\u202e", "1e400", ".nan", "{index:>99999}", "count: -1",
     "lifetime: 0", "version: 2", "groups:", "    "]
)  # fmt: skip


def _texts(base: list[str]) -> st.SearchStrategy[str]:
    @st.composite
    def mutated(draw: st.DrawFn) -> str:
        text = draw(st.sampled_from(base))
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(0, len(text)))
            how = draw(st.integers(0, 3))
            if how == 0:
                text = text[:at] + draw(YAML_BITS | st.text(max_size=8)) + text[at:]
            elif how == 1:
                text = text[:at] + text[at + draw(st.integers(1, 40)) :]
            elif how == 2:
                lines = text.splitlines(keepends=True)
                if lines:
                    index = draw(st.integers(0, len(lines) - 1))
                    lines.insert(index, lines[index] * draw(st.integers(1, 3)))
                    text = "".join(lines)
            else:
                text = text[:at] + draw(st.characters()) + text[at + 1 :]
        return text

    return mutated() | st.text(max_size=200)


SCENARIO_TEXTS = [path.read_text(encoding="utf-8") for path in SCENARIOS]


@BUDGET
@given(text=_texts(SCENARIO_TEXTS))
def test_any_scenario_text_loads_or_is_refused_with_its_place(text: str) -> None:
    try:
        load_scenario_text(text, file="s.yaml", base_dir=ROOT / "scenarios")
    except ScenarioErrors as errors:
        lines = errors.lines()
        assert lines and all(LOCATED.match(line) for line in lines), lines
        assert all(len(line) < 2000 for line in lines)


DDF_TEXTS = [path.read_text(encoding="utf-8") for path in OBJECTS]
XML_BITS = st.sampled_from(
    ["<", ">", "</Item>", "<Item ID=\"x\">", "<!DOCTYPE a [<!ENTITY b 'c'>]>", "&b;", "&#0;",
     "<RangeEnumeration>0..</RangeEnumeration>", "<Type>Float</Type>", "<ObjectID>-1",
     "\x00", "\ufeff", "<?xml version='1.0' encoding='latin-1'?>", "]]>", "<![CDATA["]
)  # fmt: skip


@st.composite
def ddf_bytes(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(DDF_TEXTS))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(XML_BITS | st.text(max_size=6)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 60)) :]
    return text.encode("utf-8", "surrogatepass")


@BUDGET
@given(data=ddf_bytes() | st.binary(max_size=300))
def test_any_ddf_loads_or_is_refused_with_a_ddf_error(data: bytes) -> None:
    try:
        load_ddf_bytes(data, "fuzz.xml")
    except DdfError as error:
        assert str(error).startswith("fuzz.xml"), str(error)

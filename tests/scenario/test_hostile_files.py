"""Hostile and broken files give ``file:line:col`` and the limit they hit, never a traceback,
in bounded time and memory (``fleet validate``, in process).

Each used to fail: control characters (a traceback), nesting 5,000 deep (RecursionError), a
keys-CSV field of 131,072+ characters (_csv.Error), ``{index:>1000000000}`` (MemoryError),
``/dev/zero`` as a scenario or ``--objects`` (MemoryError), a billion-laughs file and a
200,000-group file (both "the file is empty").
"""

from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli.scenario import validate
from fleet.scenario import ScenarioErrors
from fleet.scenario.yamlsource import MAX_DEPTH, load_document

ZERO = pathlib.Path("/dev/zero")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(validate, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def scenario(tmp_path: pathlib.Path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "where", "char"),
    [
        ('version: 1\ngroups:\n  - count: 1\n    endpoint: "a\x01b"\n', "4:17", "U+0001"),
        ("version: 1\x07\ngroups: [{count: 1}]\n", "1:11", "U+0007"),
        ("version: 1\ngroups: [{count: 1}]\n# a comment \x1b[31m\n", "3:13", "U+001B"),
    ],
)
def test_control_characters_are_refused_where_they_stand(
    tmp_path: pathlib.Path, text: str, where: str, char: str
) -> None:
    path = scenario(tmp_path, text)
    code, out = run(path)
    assert code == 2
    assert f"{path}:{where}: control character {char} is not allowed" in out


@pytest.mark.parametrize(
    "nested",
    [
        "x: " + "[" * 5000 + "]" * 5000,
        "x:\n" + "".join(" " * i + "a:\n" for i in range(1, 1500)),
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_refused(tmp_path: pathlib.Path, nested: str) -> None:
    path = scenario(tmp_path, "version: 1\ngroups: [{count: 1}]\n" + nested + "\n")
    code, out = run(path)
    assert code == 2 and f"{path}:" in out and "nesting depth" in out


def test_nesting_past_our_own_limit_is_refused_at_its_place() -> None:
    text = "x: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    with pytest.raises(ScenarioErrors) as caught:
        load_document(text, "f.yaml")
    assert caught.value.lines() == [
        f"f.yaml:1:{3 + MAX_DEPTH}: nested more than {MAX_DEPTH} levels deep (the limit)"
    ]


def test_a_billion_laughs_stops_at_the_alias_limit(tmp_path: pathlib.Path) -> None:
    lines = ["version: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        previous = f"*{chr(96 + level)}"
        lines.append(f"{chr(97 + level)}: &{chr(97 + level)} [{','.join([previous] * 9)}]")
    lines.append("groups: [{count: 1}]")
    path = scenario(tmp_path, "\n".join(lines) + "\n")
    code, out = run(path)
    assert code == 2 and "aliases copy more than 100000 values (the limit)" in out
    assert "empty" not in out


def test_a_file_of_many_groups_is_refused_with_the_limit(tmp_path: pathlib.Path) -> None:
    groups = "".join(f"  - {{name: g{i}, count: 1}}\n" for i in range(10_001))
    path = scenario(tmp_path, "version: 1\ngroups:\n" + groups)
    code, out = run(path)
    assert code == 2 and f"{path}:3:3: 10001 groups are more than 10000 (the limit)" in out


def test_a_file_larger_than_the_limit_is_refused(tmp_path: pathlib.Path) -> None:
    groups = "".join(f"  - {{name: g{i}, count: 1}}\n" for i in range(200_000))
    path = scenario(tmp_path, "version: 1\ngroups:\n" + groups)
    code, out = run(path)
    assert code == 2 and f"{path}: the file is larger than 4 MiB (the limit)" in out
    assert "empty" not in out


@pytest.mark.skipif(not ZERO.exists(), reason="no /dev/zero")
def test_dev_zero_as_a_scenario_or_objects(tmp_path: pathlib.Path) -> None:
    code, out = run(str(ZERO))
    assert code == 2 and "/dev/zero: the file is larger than 4 MiB (the limit)" in out
    path = scenario(tmp_path, "version: 1\ngroups: [{count: 1}]\n")
    code, out = run(path, "--objects", str(ZERO))
    assert code == 2 and "/dev/zero: the file is larger than 4 MiB (the limit)" in out


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{index:>1000000000}", "width 1000000000 is more than 255"),
        ("{index:0" + "9" * 20 + "d}", "width 099999999999... (21 digits) is more than 255"),
        ("{index:.300}", "width 300 is more than 255"),
        ("x" * 100_000 + "{index}", "is longer than 510 characters (the limit)"),
    ],
)
def test_endpoint_pattern_widths_are_bounded(
    tmp_path: pathlib.Path, pattern: str, message: str
) -> None:
    path = scenario(tmp_path, f'version: 1\ngroups:\n  - count: 2\n    endpoint: "{pattern}"\n')
    code, out = run(path)
    assert code == 2 and f"{path}:4:15: groups.0.endpoint:" in out and message in out
    assert len(out) < 2000  # never the pattern itself in full


def test_a_keys_file_with_a_huge_field_names_its_line(tmp_path: pathlib.Path) -> None:
    keys = tmp_path / "keys.csv"
    keys.write_text("endpoint,identity,key\ndev1," + "x" * 140_000 + ",hex:00\n", encoding="utf-8")
    path = scenario(
        tmp_path,
        "version: 1\nserver: coaps://127.0.0.1:5684\ngroups:\n"
        "  - count: 1\n    endpoint: dev1\n    security: {keys_file: keys.csv}\n",
    )
    code, out = run(path)
    assert code == 2
    assert f"{keys}:2: the line is longer than 4096 characters (the limit)" in out

"""Where a scenario's content came from, and the problems found in it.

A :class:`Mark` is a place: ``file:line:col`` in a YAML file (1-based), or
the command-line flag or environment variable an overridden value came from.
:class:`SourceMap` remembers a mark for every mapping key and every value of
a document, addressed by *key path* (``("groups", 0, "count")``), so the
checks can run on plain Python data and still say where each problem is.
:class:`Problems` collects :class:`~fleet.errors.ScenarioError` objects and
raises them together as :class:`ScenarioErrors`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fleet.errors import FleetError, ScenarioError

KeyPath = tuple[object, ...]
"""Keys and list indexes from the document root to a value."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A place in the input: file, 1-based line and column, or an ``item`` (a flag)."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    item: str | None = None

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(
            message, file=self.file, line=self.line, column=self.column, item=self.item
        )


class SourceMap:
    """Marks of every key and value of a document, by key path.

    A lookup for a path that has no mark of its own answers the mark of the
    nearest enclosing value, so content that was replaced as a whole (by
    ``--set``) points at the override that brought it.
    """

    def __init__(self, root: Mark) -> None:
        self._values: dict[KeyPath, Mark] = {(): root}
        self._keys: dict[KeyPath, Mark] = {}

    def record(self, path: KeyPath, value: Mark, key: Mark | None = None) -> None:
        self._values[path] = value
        if key is not None:
            self._keys[path] = key

    def value(self, path: KeyPath) -> Mark:
        """Where the value at ``path`` is (or the nearest enclosing value)."""
        for end in range(len(path), -1, -1):
            mark = self._values.get(path[:end])
            if mark is not None:
                return mark
        raise AssertionError("the root always has a mark")  # pragma: no cover

    def key(self, path: KeyPath) -> Mark:
        """Where the key naming ``path`` is; the value's mark when it has no key."""
        mark = self._keys.get(path)
        return mark if mark is not None else self.value(path)

    def replace(self, path: KeyPath, mark: Mark) -> None:
        """Everything at and below ``path`` now comes from ``mark``."""
        size = len(path)
        for table in (self._values, self._keys):
            for known in [p for p in table if p[:size] == path]:
                del table[known]
        self._values[path] = mark
        self._keys[path] = mark


class ScenarioErrors(FleetError):
    """Every problem found in a scenario, raised together (``errors`` in file order)."""

    def __init__(self, errors: Sequence[ScenarioError]) -> None:
        self.errors: tuple[ScenarioError, ...] = tuple(errors)
        super().__init__("\n".join(e.located() for e in self.errors))

    def lines(self) -> list[str]:
        """One ``file:line:col: message`` line per problem."""
        return [e.located() for e in self.errors]


def _order(error: ScenarioError) -> tuple[int, str, int, int, str]:
    # file positions first, in order; then flag and environment problems
    if error.line is None:
        return (1, error.item or "", 0, 0, error.message)
    return (0, error.file or "", error.line, error.column or 0, error.message)


class Problems:
    """Collects problems; :meth:`raise_if_any` raises them sorted by position."""

    def __init__(self) -> None:
        self._errors: list[ScenarioError] = []
        self._seen: set[str] = set()

    def add(self, mark: Mark, message: str) -> None:
        error = mark.error(message)
        text = error.located()
        if text not in self._seen:  # the same mistake reached twice is said once
            self._seen.add(text)
            self._errors.append(error)

    def extend(self, errors: Iterable[ScenarioError]) -> None:
        for error in errors:
            mark = Mark(error.file, error.line, error.column, error.item)
            self.add(mark, error.message)

    def __len__(self) -> int:
        return len(self._errors)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise ScenarioErrors(sorted(self._errors, key=_order))


def suggest(word: object, choices: Iterable[object]) -> str:
    """``"; did you mean 'count'?"`` for a close choice, else ``""``.

    Case, ``_`` and ``-`` are ignored first (``send_enabled`` -> ``send_enabled``),
    then :func:`difflib.get_close_matches` picks the nearest spelling.
    """
    text = str(word)
    names = [str(c) for c in choices]

    def squash(name: str) -> str:
        return name.replace("_", "").replace("-", "").lower()

    for name in names:
        if squash(name) == squash(text):
            return f"; did you mean {name!r}?"
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def describe(value: object) -> str:
    """A value as messages show it: ``text 'abc'``, ``integer 3``, ``a list``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value:g}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"

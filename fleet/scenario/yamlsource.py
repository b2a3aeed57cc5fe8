"""YAML with a position for every key and value, and no silent duplicate keys.

PyYAML's ``safe_load`` forgets where things were and keeps the last of two
equal keys without a word. :func:`load_document` composes the node graph
instead (every node knows its line and column), rejects duplicate keys and
builds plain Python data (dicts, lists, scalars) together with a
:class:`~fleet.scenario.problems.SourceMap` of every key and value.

Scalars resolve as with ``yaml.safe_load`` (YAML 1.1: ``yes``/``no`` are
Booleans, quote them to keep text). Merge keys (``<<: *defaults``) work:
keys written in the mapping override the merged ones. Aliases are copied;
recursive aliases and alias bombs are refused.

Hostile input is bounded, each limit named in its error with ``file:line:col``:
nesting (:data:`MAX_DEPTH` levels), values in the document (:data:`MAX_NODES`) and
values that aliases copy (:data:`MAX_ALIAS_VALUES`: a "billion laughs" file stops
there, while a legitimate file of 10,000 groups loads); control characters are
refused where they stand. libyaml composes the nodes when it is installed (PyYAML's
C extension: several times faster on big files), else PyYAML's own parser.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fleet.errors import ScenarioError
from fleet.scenario.problems import KeyPath, Mark, ScenarioErrors, SourceMap, describe

MAX_NODES = 500_000
"""Values in one document (a scenario of 10,000 groups has about 50,000)."""
MAX_ALIAS_VALUES = 100_000
"""Values copied by aliases; more is an alias bomb ("billion laughs"), not a scenario."""
MAX_DEPTH = 100
"""Levels of nesting; a scenario needs fewer than ten."""

_Loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class Document:
    """A YAML document as plain data, and where each part of it was written."""

    data: object
    source: SourceMap
    errors: list[ScenarioError]
    """Duplicate keys and unreadable values (the data keeps the first of two keys)."""


class _Builder:
    def __init__(self, file: str | None, source: SourceMap, loader: yaml.SafeLoader) -> None:
        self.file = file
        self.source = source
        self.loader = loader
        self.errors: list[ScenarioError] = []
        self.visited = 0
        self.copied = 0
        self.active: set[int] = set()
        self.built: set[int] = set()
        self.copying = 0

    def mark(self, node: Node) -> Mark:
        start = node.start_mark
        return Mark(self.file, start.line + 1, start.column + 1)

    def fail(self, node: Node, message: str) -> None:
        self.errors.append(self.mark(node).error(message))

    def build(self, node: Node, path: KeyPath) -> object:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _TooBig(node, f"the document has more than {MAX_NODES} values (the limit)")
        if id(node) in self.active:
            self.fail(node, "an alias refers to the node that contains it")
            return None
        again = id(node) in self.built  # an alias: its values are copied
        if again or self.copying:
            self.copied += 1
            if self.copied > MAX_ALIAS_VALUES:
                raise _TooBig(node, f"aliases copy more than {MAX_ALIAS_VALUES} values (the limit)")
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if len(path) >= MAX_DEPTH:
            raise _TooBig(node, f"nested more than {MAX_DEPTH} levels deep (the limit)")
        self.built.add(id(node))
        self.active.add(id(node))
        self.copying += again
        try:
            if isinstance(node, SequenceNode):
                items: list[object] = []
                for index, child in enumerate(node.value):
                    self.source.record((*path, index), self.mark(child))
                    items.append(self.build(child, (*path, index)))
                return items
            assert isinstance(node, MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))
            self.copying -= again

    def scalar(self, node: ScalarNode) -> object:
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            self.fail(node, f"cannot read this value: {exc.problem}")
            return None

    def key(self, node: Node) -> tuple[bool, object]:
        if not isinstance(node, ScalarNode):
            self.fail(node, "a key must be a single value, not a list or a mapping")
            return False, None
        value = self.scalar(node)
        try:
            hash(value)
        except TypeError:
            self.fail(node, f"a key must be a single value, got {describe(value)}")
            return False, None
        return True, value

    def merged_pairs(self, node: Node) -> list[tuple[Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        pairs: list[tuple[Node, Node]] = []
        seen: set[object] = set()
        for source in sources:
            if not isinstance(source, MappingNode):
                self.fail(source, "a merge key (<<) takes a mapping or a list of mappings")
                continue
            for key_node, value_node in self.flat_pairs(source):
                ok, key = self.key(key_node)
                if ok and key not in seen:  # earlier sources win (YAML merge rules)
                    seen.add(key)
                    pairs.append((key_node, value_node))
        return pairs

    def flat_pairs(self, node: MappingNode) -> list[tuple[Node, Node]]:
        merged: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merged_pairs(value_node))
            else:
                own.append((key_node, value_node))
        return [*merged, *own]

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[object, object]:
        result: dict[object, object] = {}
        first_seen: dict[object, Node] = {}
        merged_keys: set[object] = set()
        own = {id(k) for k, _ in node.value if k.tag != _MERGE_TAG}
        for key_node, value_node in self.flat_pairs(node):
            ok, key = self.key(key_node)
            if not ok:
                continue
            if key in first_seen:
                if key in merged_keys and id(key_node) in own:
                    merged_keys.discard(key)  # an explicit key overrides a merged one
                else:
                    where = self.mark(first_seen[key])
                    self.fail(
                        key_node,
                        f"duplicate key {key!r} (first given at line {where.line}, "
                        f"column {where.column})",
                    )
                    continue
            elif id(key_node) not in own:
                merged_keys.add(key)
            first_seen[key] = key_node
            child = (*path, key)
            self.source.record(child, self.mark(value_node), self.mark(key_node))
            result[key] = self.build(value_node, child)
        return result


class _TooBig(Exception):
    def __init__(self, node: Node, why: str) -> None:
        self.node = node
        self.why = why


def _syntax_error(exc: yaml.YAMLError, file: str | None) -> ScenarioError:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        return ScenarioError(
            f"invalid YAML: {problem}", file=file, line=mark.line + 1, column=mark.column + 1
        )
    return ScenarioError(f"invalid YAML: {exc}", file=file)


def load_document(text: str, file: str | None = None, *, root: Mark | None = None) -> Document:
    """Parse one YAML document into plain data and a source map.

    ``file`` names the input in marks; ``root`` (for values given on the
    command line) replaces every position with one mark. Raises
    :class:`ScenarioErrors` for invalid YAML; duplicate keys and unreadable
    values are returned in :attr:`Document.errors` so that checking can go on
    and report everything at once.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # PyYAML's reader checks the text at once
        raise ScenarioErrors([_relocate(_reader_error(exc, text, file), root)]) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:
            raise ScenarioErrors([_relocate(_reader_error(exc, text, file), root)]) from None
        except yaml.YAMLError as exc:
            raise ScenarioErrors([_relocate(_syntax_error(exc, file), root)]) from None
        except RecursionError:  # PyYAML's own composer, nested very deep
            error = ScenarioError(
                f"nested more than {MAX_DEPTH} levels deep (the limit)", file=file
            )
            raise ScenarioErrors([_relocate(error, root)]) from None
        base = root or Mark(file, 1, 1)
        source = SourceMap(base)
        if node is None:
            return Document(None, source, [])
        builder = _Builder(file, source, loader)
        try:
            data = builder.build(node, ())
        except _TooBig as big:
            builder.fail(big.node, big.why)
            raise ScenarioErrors([_relocate(e, root) for e in builder.errors]) from None
        if root is not None:
            source = SourceMap(root)
        return Document(data, source, [_relocate(e, root) for e in builder.errors])
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str | None) -> ScenarioError:
    """A control character (or other unreadable one) where it stands."""
    position = max(0, min(exc.position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    char = exc.character
    shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    return ScenarioError(
        f"control character {shown} is not allowed (write it escaped in a quoted string)",
        file=file,
        line=line,
        column=column,
    )


def _relocate(error: ScenarioError, root: Mark | None) -> ScenarioError:
    if root is None:
        return error
    return root.error(error.message)

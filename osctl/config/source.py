"""Reading YAML while keeping where every value came from.

PyYAML (with libyaml when available) composes the node tree; we build plain
Python values from it ourselves so that every node's line and column is kept
and a key repeated inside one mapping is reported instead of silently
overwritten, as `yaml.safe_load` would do. Nothing a user can write makes
this module raise: every problem comes back as a Diagnostic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from osctl.diagnostics import Diagnostic, format_path

try:  # libyaml is several times faster; fall back to the pure-Python composer
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    # the same interface; the stubs declare the two as unrelated classes
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# A real config is about 7 levels deep. The limits keep hostile or broken input
# (deep nesting crashes libyaml's recursive composer; alias bombs expand
# exponentially) from exhausting the stack or memory.
# One limit for the loader and fmt, checked on the raw text before libyaml sees it (and
# again on the node tree), far below libyaml's own nesting limit so that the message and
# position are always ours, whatever the libyaml version.
MAX_DEPTH = 64
TOO_DEEP_MESSAGE = f"values nested more than {MAX_DEPTH} levels deep"
TOO_DEEP_VALID = "a flatter structure; an osctl config is a few levels deep"
_DEEP_INDENT = re.compile(r"^[ \t?:-]{" + str(MAX_DEPTH) + ",}", re.MULTILINE)
_STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in
                  ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "set",
                   "omap", "pairs")}


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int


_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"
_PLAIN_SCALAR_TAGS = {_TAG + t for t in ("int", "float", "bool")}


class _Loader(_BaseLoader):
    """The safe loader without path resolvers, a PyYAML feature osctl does not use
    (libyaml would call back into Python for them at every node)."""

    def descend_resolver(self, current_node: yaml.Node | None, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


@dataclass
class SourceDoc:
    """One YAML file: its data, and where every value and key in it came from."""

    file: str
    data: object
    # mappings that used `<<:`; their keys are unknown, so "missing key" would be noise
    merged: set[tuple] = field(default_factory=set)
    # path -> text as written, for plain scalars read as int, float or bool (see raw())
    raw_numbers: dict[tuple, str] = field(default_factory=dict, repr=False)
    # path -> (line, col) of every value built / of every mapping key; the node tree they
    # come from is dropped: kept for a large config, its objects would keep the cyclic
    # garbage collector busy for most of the load time
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)
    key_positions: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    def where(self, path: tuple, *, key: bool = False) -> Location:
        """Location of the value at path (of its key when key=True), else of the closest parent."""
        path = tuple(path)
        if key and path in self.key_positions:
            return Location(self.file, *self.key_positions[path])
        while path and path not in self.positions:
            path = path[:-1]
        return Location(self.file, *self.positions.get(path, (1, 1)))

    def raw(self, path: tuple) -> str | None:
        """The text as written of a plain (unquoted) scalar YAML read as a number or boolean.

        Validation uses it to tell when `012` became 10, `5.10` became 5.1 or `yes` became true.
        """
        return self.raw_numbers.get(tuple(path))


_scalars = SafeConstructor()
# called directly: SafeConstructor.construct_object would remember every node it ever saw
_SCALAR_CONSTRUCTORS = {tag: _scalars.yaml_constructors[tag] for tag in
                        (_TAG + t for t in ("int", "float", "bool", "null", "timestamp", "binary"))}


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node tree into plain values, reporting what cannot be read."""

    def __init__(self, doc: SourceDoc, problems: list[Diagnostic], budget: int) -> None:
        self.doc = doc
        self.problems = problems
        self.budget = budget  # nodes left to build; aliases can multiply the tree
        self.active: set[int] = set()  # nodes being built: an alias back to one of them is a cycle
        self.stopped = False

    def build(self, node: yaml.Node, path: tuple) -> object:
        doc = self.doc
        mark = node.start_mark
        doc.positions[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "str":  # most values: the fast way
            self.budget -= 1
            return node.value
        if self.stopped:
            return None
        self.budget -= 1
        if self.budget < 0:
            self._stop(node, path, "the document expands to too many values (aliases used too often?)",
                       "write the values out instead of repeating *aliases")
            return None
        if len(path) > MAX_DEPTH:
            self._stop(node, path, TOO_DEEP_MESSAGE, TOO_DEEP_VALID)
            return None
        if id(node) in self.active:
            self.problems.append(_diag(doc.file, node, path, "an alias refers to a value that contains it",
                                       "aliases (*name) only to values defined before and outside them"))
            return None
        unknown_tag = node.tag not in _STANDARD_TAGS
        if unknown_tag:  # reported once; the value is read as if untagged so nothing else trips on it
            self.problems.append(_diag(doc.file, node, path, f"YAML tag '{node.tag}' is not supported",
                                       "plain YAML values without ! tags"))
        if isinstance(node, yaml.ScalarNode):
            return node.value if unknown_tag else self._scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        doc = self.doc
        result: dict = {}
        first_seen: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.problems.append(_diag(doc.file, key_node, path, "YAML merge keys (<<) are not supported",
                                           "write the keys out"))
                doc.merged.add(path)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(_diag(doc.file, key_node, path, "a mapping key must be a plain value",
                                           "a string key such as name:"))
                continue
            # the text as written: `on:`, `1:` or `2024-01-01:` stay strings instead of bool/int/date keys
            key = key_node.value
            if key in first_seen:
                self.problems.append(_diag(
                    doc.file, key_node, path + (key,),
                    f"duplicate key '{key}' (first defined at line {first_seen[key]})",
                    "each key once per mapping; remove or rename one of them",
                ))
                continue
            first_seen[key] = key_node.start_mark.line + 1
            doc.key_positions[path + (key,)] = (first_seen[key], key_node.start_mark.column + 1)
            result[key] = self.build(value_node, path + (key,))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: tuple) -> object:
        construct = _SCALAR_CONSTRUCTORS.get(node.tag)
        if construct is None:  # e.g. `!!map text`: a collection tag on a plain value
            self.problems.append(_diag(self.doc.file, node, path, f"YAML tag '{node.tag}' does not fit a plain "
                                       "value", "plain YAML values without ! tags"))
            return node.value
        try:
            value = construct(_scalars, node)
            if not node.style and node.tag in _PLAIN_SCALAR_TAGS:
                self.doc.raw_numbers[path] = node.value
            return value
        except (ConstructorError, ValueError, TypeError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            self.problems.append(_diag(self.doc.file, node, path, f"cannot read value {node.value[:40]!r}: {reason}",
                                       "quote it to keep it as text"))
            return None

    def _stop(self, node: yaml.Node, path: tuple, message: str, valid: str) -> None:
        self.stopped = True
        self.problems.append(_diag(self.doc.file, node, path, message, valid))


def _diag(file: str, node: yaml.Node, path: tuple, message: str, valid: str = "") -> Diagnostic:
    loc = _loc(file, node)
    return Diagnostic(file, loc.line, loc.col, format_path(path), message, valid)


_SYNTAX_HINTS = (  # (words in PyYAML's problem text, what would be valid)
    ("expected ',' or ']'", "close the list with ']' and separate its items with ','"),
    ("expected ',' or '}'", "close the mapping with '}' and separate its entries with ','"),
    ("mapping values are not allowed", "quote a value that contains ': ', or fix the indentation"),
    ("expected '-' indicator", "every list item starts with '- ' at the same indentation"),
    ("expected <block end>", "keys of one mapping at the same indentation"),
    ("cannot start any token", "quote values that start with @, ` or %"),
    ("undefined alias", "define an anchor (&name) before using *name"),
    ("unexpected end of stream", "close the quote or bracket that was opened"),
    ("unknown escape character", "a valid escape such as \\n or \\\\ in double quotes, or single quotes"),
    ("could not find expected ':'", "'key: value' with a space after the colon"),
)


def _syntax_diag(file: str, text: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "malformed YAML"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.context_mark and exc.problem:
        message += f" ({exc.context} started at line {exc.context_mark.line + 1})"
    valid = next((hint for words, hint in _SYNTAX_HINTS if words in problem), "well-formed YAML")
    lines = text.splitlines()
    if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        message = "YAML syntax error: a tab character where YAML expects spaces"
        valid = "indentation with spaces; YAML does not allow tabs"
    return Diagnostic(file, line, col, "", message, valid)


def _line_col(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def too_deep(text: str) -> tuple[int, int] | None:
    """Where the text nests deeper than libyaml can safely compose, or None.

    Over-estimates (brackets in strings count too), which only matters far
    beyond any real config.
    """
    indented = _DEEP_INDENT.search(text)
    if indented:
        return _line_col(text, indented.start())
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return None
    depth = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth += 1 if match.group() in "[{" else -1
        if depth >= MAX_DEPTH:
            return _line_col(text, match.start())
    return None


def parse_yaml(file: str, text: str) -> tuple[SourceDoc, list[Diagnostic]]:
    """Parse one file's text. Never raises for bad input: problems come back as Diagnostics.

    The node tree is composed (by libyaml) and the values are built from it,
    reporting every problem and noting every position.
    """
    doc = SourceDoc(file=file, data=None)
    deep = too_deep(text)
    if deep:
        return doc, [Diagnostic(file, deep[0], deep[1], "", TOO_DEEP_MESSAGE, TOO_DEEP_VALID)]
    problems: list[Diagnostic] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_diag(file, text, exc))
        return doc, problems
    except yaml.reader.ReaderError as exc:
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        # libyaml reports a byte offset; the first occurrence of the character is the one it stopped at
        found = text.find(char)
        line, col = _line_col(text, found if found >= 0 else 0)
        problems.append(Diagnostic(file, line, col, "", f"YAML cannot contain the control character "
                                   f"U+{ord(char[:1] or ' '):04X}", "printable text; write it as an escape "
                                   "such as \\t inside double quotes"))
        return doc, problems
    except (yaml.YAMLError, RecursionError, UnicodeError, ValueError) as exc:
        problems.append(Diagnostic(file, 1, 1, "", f"cannot read the file as YAML: {exc}", "well-formed YAML"))
        return doc, problems
    documents = [n for n in nodes if n is not None]
    if len(nodes) > 1:
        second = nodes[1] if nodes[1] is not None else None
        line, col = (_loc(file, second).line, _loc(file, second).col) if second else (1, 1)
        problems.append(Diagnostic(file, line, col, "", "more than one YAML document in one file",
                                   "one document per file: remove '---' or split it into several files"))
    if documents:
        builder = _Builder(doc, problems, budget=100_000 + 2 * len(text))
        doc.data = builder.build(documents[0], ())
    return doc, problems

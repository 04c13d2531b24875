"""Reading YAML while keeping where every value came from.

PyYAML (with libyaml when available) composes the node tree; we build plain
Python values from it ourselves so that every node's line and column is kept
and a key repeated inside one mapping is reported instead of silently
overwritten, as `yaml.safe_load` would do. Nothing a user can write makes
this module raise: every problem comes back as a Diagnostic.

A file without anything unusual (the fast reader at the end) is read straight
from libyaml's parser events instead, which is several times quicker; the
node tree is then composed only if a diagnostic needs a deep position.
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
    from yaml import SafeLoader as _BaseLoader

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
    """The safe loader with a memo of tag resolution.

    libyaml calls back into PyYAML's pure-Python resolver for every scalar; in a
    config the same few texts (field, relation, =, US ...) come back thousands
    of times, and the safe resolver's answer depends on nothing else.
    """

    _resolved: dict = {}

    # path resolvers are a PyYAML feature osctl does not use; libyaml calls these for every node
    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass

    def resolve(self, kind, value, implicit):
        memo = _Loader._resolved
        key = (kind, value, implicit)
        tag = memo.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(memo) > 50_000:
                memo.clear()
            memo[key] = tag
        return tag


@dataclass
class SourceDoc:
    """One YAML file: its data, and how to find where any value came from.

    Positions are looked up only when a diagnostic needs one, which keeps
    reading a large, valid config cheap: the fast reader keeps the positions of
    the first two levels (apps, each segment and export), enough for the model;
    anything deeper comes from the node tree, composed from the text on demand.
    """

    file: str
    data: object
    # mappings that used `<<:`; their keys are unknown, so "missing key" would be noise
    merged: set[tuple] = field(default_factory=set)
    # path -> text as written, for plain scalars read as int, float or bool (see raw())
    raw_numbers: dict[tuple, str] = field(default_factory=dict, repr=False)
    text: str | None = field(default=None, repr=False, compare=False)
    # path -> (line, col) of the value / of its key, for paths of at most SHALLOW parts
    positions: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)
    key_positions: dict[tuple, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)
    root: yaml.Node | None = field(default=None, repr=False, compare=False)
    composed: bool = field(default=False, repr=False, compare=False)  # root is set (or there is none)

    def where(self, path: tuple, *, key: bool = False) -> Location:
        """Location of the value at path (of its key when key=True), else of the closest parent."""
        path = tuple(path)
        if not self.composed:
            known = (self.key_positions if key else self.positions).get(path)
            if known is not None:
                return Location(self.file, *known)
            self._compose()
        node, key_node, complete = self._walk(path)
        if node is None:
            return Location(self.file, 1, 1)
        if key and complete and key_node is not None:
            return _loc(self.file, key_node)
        return _loc(self.file, node)

    def raw(self, path: tuple) -> str | None:
        """The text as written of a plain (unquoted) scalar YAML read as a number or boolean.

        Validation uses it to tell when `012` became 10, `5.10` became 5.1 or `yes` became true.
        """
        return self.raw_numbers.get(tuple(path))

    def __getstate__(self) -> dict:
        """Pickled (from a worker process) without the node tree: where() composes it again."""
        state = dict(self.__dict__)
        if state["root"] is not None:
            state["root"], state["composed"] = None, False
        return state

    def _compose(self) -> None:
        """The node tree of the first document, as parse_yaml's full reader builds it."""
        self.composed = True
        if self.text is None:
            return
        try:
            nodes = list(yaml.compose_all(self.text, Loader=_Loader))
        except (yaml.YAMLError, RecursionError, UnicodeError, ValueError):
            return
        self.root = next((n for n in nodes if n is not None), None)

    def _walk(self, path: tuple):
        """(deepest node reached, the key node that led to it, whether the whole path was found)."""
        node, key_node = self.root, None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                # the first occurrence, as in the data: later duplicates are dropped
                found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)
                              and k.tag != _MERGE_TAG and k.value == part), None)
                if found is None:
                    return node, key_node, False
                key_node, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                key_node, node = None, node.value[part]
            else:
                return node, key_node, False
        return node, key_node, True


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

    def build(self, node: yaml.Node, path: tuple):
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "str":  # most values: the fast way
            self.budget -= 1
            return node.value
        doc = self.doc
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
            result[key] = self.build(value_node, path + (key,))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: tuple):
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

    Most files are plain YAML that the fast reader takes in one pass; whatever
    it does not handle exactly (errors, tags, aliases, merge and duplicate keys)
    goes through the full reader below, which explains every problem.
    """
    deep = too_deep(text)
    if deep:
        return SourceDoc(file=file, data=None, composed=True), [Diagnostic(
            file, deep[0], deep[1], "", TOO_DEEP_MESSAGE, TOO_DEEP_VALID)]
    fast = _read_fast(file, text)
    if fast is not None:
        return fast, []
    return _read_full(file, text)


def _read_full(file: str, text: str) -> tuple[SourceDoc, list[Diagnostic]]:
    """Compose the node tree and build the values from it, reporting every problem."""
    doc = SourceDoc(file=file, data=None, text=text, composed=True)
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
        doc.root = documents[0]
        builder = _Builder(doc, problems, budget=100_000 + 2 * len(text))
        doc.data = builder.build(documents[0], ())
    return doc, problems


# --- the fast reader -----------------------------------------------------------
#
# Composing a node tree costs a Python object per node and a Mark per position,
# then a second walk to turn nodes into values. For the common file (no errors,
# no tags, anchors or merge keys) the values are built straight from libyaml's
# parser events, with scalars resolved exactly as the safe loader does, and only
# the positions of the first SHALLOW levels kept. Anything unusual gives up
# (_Unusual) and the full reader reads the file again and reports.

SHALLOW = 2  # ("segments", 3): positions of each app, segment and export; the model needs those
_STR_TAG = _TAG + "str"
# first characters for which the safe resolver may read a plain scalar as something other
# than a string (true, 12, ~, 2024-01-01, <<, =, ...); any other text is a string
_RESOLVABLE_FIRST = frozenset(k for k in _BaseLoader.yaml_implicit_resolvers if k)
_MAX_PLAIN_MEMO = 50_000


class _Unusual(Exception):
    """Something the fast reader leaves to the full reader."""


_plain_values: dict[str, tuple[str, object]] = {}  # plain text -> (tag, value); see _plain()


def _plain(loader: _Loader, text: str) -> tuple[str, object]:
    """(tag, value) of a plain scalar, as the full reader builds it; memoised since the
    answer depends on the text alone and the same few texts recur thousands of times."""
    found = _plain_values.get(text)
    if found is not None:
        return found
    tag = loader.resolve(yaml.ScalarNode, text, (True, False))
    if tag == _STR_TAG:
        value: object = text
    elif tag in _SCALAR_CONSTRUCTORS:
        try:  # e.g. 2024-13-45 reads as a timestamp and fails: the full reader reports it
            value = _SCALAR_CONSTRUCTORS[tag](_scalars, yaml.ScalarNode(tag, text))
        except Exception as exc:
            raise _Unusual from exc
    else:  # `<<`, `=` and the like: tags the full reader reports
        raise _Unusual
    if len(_plain_values) > _MAX_PLAIN_MEMO:
        _plain_values.clear()
    _plain_values[text] = found = (tag, value)
    return found


def _read_fast(file: str, text: str) -> SourceDoc | None:
    """The document of a plain YAML file, or None when the full reader must handle it."""
    try:
        loader = _Loader(text)
        try:
            reader = _EventReader(loader)
            data = reader.stream()
        finally:
            loader.dispose()
    except Exception:  # _Unusual, or any YAML error: the full reader reports it exactly
        return None
    if reader.nodes > 100_000 + 2 * len(text):  # the full reader's budget; it explains
        return None
    return SourceDoc(file, data, raw_numbers=reader.raw, text=text, positions=reader.positions,
                     key_positions=reader.key_positions)


_Scalar, _MappingEnd, _SequenceEnd = yaml.ScalarEvent, yaml.MappingEndEvent, yaml.SequenceEndEvent


def _mark(event: yaml.Event) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


class _EventReader:
    """Values from parser events, one function per kind of collection.

    Plain scalars are resolved as the full reader does (see _plain); what it
    would report or treat specially raises _Unusual instead.
    """

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.get = loader.get_event
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.key_positions: dict[tuple, tuple[int, int]] = {}
        self.raw: dict[tuple, str] = {}
        self.nodes = 1  # values built, as the full reader counts them against its budget

    def stream(self) -> object:
        """The data of a stream of at most one document (None for no document)."""
        get = self.get
        if type(get()) is not yaml.StreamStartEvent:
            raise _Unusual
        event = get()
        if type(event) is yaml.StreamEndEvent:  # empty, or only comments
            return None
        if type(event) is not yaml.DocumentStartEvent:
            raise _Unusual
        event = get()
        self.positions[()] = _mark(event)
        data = self.scalar(event, ()) if type(event) is _Scalar else self.collection(event, ())
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            raise _Unusual  # a second document: the full reader reports it
        return data

    def scalar(self, event: yaml.ScalarEvent, path: tuple) -> object:
        if event.anchor is not None or event.tag is not None:
            raise _Unusual
        text = event.value
        if not event.implicit[0] or (text and text[0] not in _RESOLVABLE_FIRST):
            return text  # quoted, or plain text no resolver would read as anything but a string
        tag, value = _plain(self.loader, text)
        if tag in _PLAIN_SCALAR_TAGS:
            self.raw[path] = text
        return value

    def collection(self, event: yaml.Event, path: tuple) -> object:
        if len(path) >= MAX_DEPTH or event.anchor is not None or event.tag is not None:
            raise _Unusual
        if type(event) is yaml.MappingStartEvent:
            return self.mapping(path)
        if type(event) is yaml.SequenceStartEvent:
            return self.sequence(path)
        raise _Unusual  # an alias

    def mapping(self, path: tuple) -> dict:
        get, shallow = self.get, len(path) < SHALLOW
        result: dict = {}
        while True:
            key = get()
            if type(key) is not _Scalar:
                if type(key) is _MappingEnd:
                    break
                raise _Unusual  # a list, mapping or alias as a key
            text = key.value
            if key.anchor is not None or key.tag is not None or text in result \
                    or (text == "<<" and key.implicit[0]):
                raise _Unusual  # a duplicate or merge key
            event = get()
            if shallow:
                self.key_positions[path + (text,)] = _mark(key)
                self.positions[path + (text,)] = _mark(event)
            if type(event) is _Scalar:
                value = event.value
                if event.anchor is not None or event.tag is not None or event.implicit[0] and (
                        not value or value[0] in _RESOLVABLE_FIRST):
                    value = self.scalar(event, path + (text,))  # what may not be a plain string
            else:
                value = self.collection(event, path + (text,))
            result[text] = value
        self.nodes += len(result)
        return result

    def sequence(self, path: tuple) -> list:
        get, shallow = self.get, len(path) < SHALLOW
        result: list = []
        while True:
            event = get()
            if type(event) is _Scalar:
                value = event.value
                if event.anchor is not None or event.tag is not None or event.implicit[0] and (
                        not value or value[0] in _RESOLVABLE_FIRST):
                    value = self.scalar(event, path + (len(result),))
            elif type(event) is _SequenceEnd:
                break
            else:
                value = self.collection(event, path + (len(result),))
            if shallow:
                self.positions[path + (len(result),)] = _mark(event)
            result.append(value)
        self.nodes += len(result)
        return result

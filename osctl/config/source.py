"""Reading YAML while keeping where every value came from.

PyYAML (with libyaml when available) composes the node tree; we build plain
Python values from it ourselves so that every node's line and column is kept
and a key repeated inside one mapping is reported instead of silently
overwritten, as `yaml.safe_load` would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from osctl.diagnostics import Diagnostic, format_path

try:  # libyaml is several times faster; fall back to the pure-Python composer
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int


@dataclass
class SourceDoc:
    """One YAML file: its data and the position of each value and key by path."""

    file: str
    data: object
    values: dict[tuple, Location] = field(default_factory=dict)
    keys: dict[tuple, Location] = field(default_factory=dict)

    def where(self, path: tuple, *, key: bool = False) -> Location:
        """Closest known location for path (a key's own position when key=True)."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Location(self.file, 1, 1))


_scalars = SafeConstructor()


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: tuple, doc: SourceDoc, problems: list[Diagnostic]):
    doc.values[path] = _loc(doc.file, node)
    if isinstance(node, yaml.MappingNode):
        result: dict = {}
        first_seen: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(_diag(doc.file, key_node, path, "YAML merge keys (<<) are not supported",
                                      "write the keys out"))
                continue
            key = _build_key(key_node, doc, path, problems)
            if key is None:
                continue
            if key in first_seen:
                earlier = first_seen[key]
                problems.append(_diag(
                    doc.file, key_node, path + (key,),
                    f"duplicate key '{key}' (first defined at line {earlier.line})",
                    "each key once per mapping",
                ))
                continue
            first_seen[key] = _loc(doc.file, key_node)
            doc.keys[path + (key,)] = first_seen[key]
            result[key] = _build(value_node, path + (key,), doc, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, problems) for i, item in enumerate(node.value)]
    try:
        return _scalars.construct_object(node)
    except (ConstructorError, ValueError) as exc:
        problems.append(_diag(doc.file, node, path, f"cannot read value: {exc}", "a plain YAML scalar"))
        return None


def _build_key(key_node: yaml.Node, doc: SourceDoc, path: tuple, problems: list[Diagnostic]):
    if not isinstance(key_node, yaml.ScalarNode):
        problems.append(_diag(doc.file, key_node, path, "a mapping key must be a plain value", "a string key"))
        return None
    key = _scalars.construct_object(key_node)
    if not isinstance(key, str):
        # `on: x` or `1: x` would otherwise become a bool/int key: keep the text the user wrote
        key = key_node.value
    return key


def _diag(file: str, node: yaml.Node, path: tuple, message: str, valid: str = "") -> Diagnostic:
    loc = _loc(file, node)
    return Diagnostic(file, loc.line, loc.col, format_path(path), message, valid)


def parse_yaml(file: str, text: str) -> tuple[SourceDoc, list[Diagnostic]]:
    """Parse one file's text. Never raises for bad input: problems come back as Diagnostics."""
    doc = SourceDoc(file=file, data=None)
    problems: list[Diagnostic] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        valid = "well-formed YAML"
        lines = text.splitlines()
        if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            message = "YAML syntax error: a tab character where YAML expects spaces"
            valid = "indentation with spaces; YAML does not allow tabs"
        problems.append(Diagnostic(file, line, col, "", message, valid))
        return doc, problems
    except yaml.YAMLError as exc:
        problems.append(Diagnostic(file, 1, 1, "", f"YAML error: {exc}", "well-formed YAML"))
        return doc, problems
    except UnicodeError as exc:
        problems.append(Diagnostic(file, 1, 1, "", f"cannot decode file: {exc}", "UTF-8 text"))
        return doc, problems
    if len(nodes) > 1:
        second = nodes[1]
        problems.append(_diag(file, second, (), "more than one YAML document in one file",
                              "one document per file; split it into several files"))
    if nodes and nodes[0] is not None:
        doc.data = _build(nodes[0], (), doc, problems)
    return doc, problems

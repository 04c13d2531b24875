"""Canonical formatting of one osctl YAML file, comments and blank lines kept.

Pure: `format_yaml(text)` returns the canonical text or raises FormatError.

The document is composed (every node with its line and column) and the rewrite
moves whole source lines rather than re-serialising values, which keeps every
scalar, quote, flow collection and comment exactly as written; the result is
composed again and must mean the same as the input.

Why not ruamel.yaml's round-trip dumper: it hangs each comment and blank line on
the node *before* it, so moving a key drags along the comment that describes
the next key. Only positions are needed, so the composer is PyYAML's libyaml one,
the loader's: the same YAML dialect as `validate`, and ~20x faster than ruamel's
pure-Python parser (whose comment scanning made fmt take over a minute on the
5,000-segment benchmark config).

Rules:
- An entry of a mapping moves together with the comment lines directly above it
  (at or left of its key's column). Blank lines between entries stay in place,
  so sections keep their spacing whatever the order.
- Keys in KEY_ORDER come first in that order; other keys keep their relative
  order after them.
- Mappings are indented by 2, sequences by 2 under their key with "- " after.
- A single-line flow mapping with a known key order is reordered in place.
- Files using aliases (*name) are left as they are: an alias must stay after
  its anchor, and its position cannot be recovered from the node tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

import yaml
from yaml import MappingNode, MarkedYAMLError, Node, ScalarNode, SequenceNode, YAMLError

from osctl.config.model import ExportKind
from osctl.config.source import TOO_DEEP_MESSAGE, TOO_DEEP_VALID, too_deep
from osctl.errors import FormatError

try:  # libyaml when available, as in config/source.py
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    # the same interface; the stubs declare the two as unrelated classes
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

KIND_BLOCKS = tuple(ExportKind)  # each kind has a settings block named after it

# Path pattern (mapping keys, "*" for any key or list index) -> canonical key order.
KEY_ORDER: dict[tuple, tuple[str, ...]] = {
    (): ("osctl", "apps", "storage", "state", "segments", "imports", "test_users", "exports"),
    ("apps", "*"): ("app_id", "api_key_env", "account", "segment_updates", "test_users"),
    ("apps", "*", "test_users"): ("external_id_prefix", "email_domains", "sms_numbers"),
    ("state",): ("backend", "path", "dsn_env", "workspace"),
    ("segments", "*"): ("name", "app", "description", "prevent_destroy", "update", "renamed_from", "filters"),
    ("segments", "*", "filters", "*"): (
        "operator", "field", "key", "relation", "value", "hours_ago", "radius", "lat", "long"),
    ("test_users", "*"): (
        "external_id", "app", "aliases", "tags", "language", "timezone_id", "subscriptions", "devices"),
    ("test_users", "*", "subscriptions", "*"): ("type", "token"),
    ("imports", "*"): ("segment", "app", "id"),
    ("exports", "*"): (
        "name", "app", "kind", "schedule", "timezone", "destination", "keep", "timeout", *KIND_BLOCKS),
}

INDENT = 2


@dataclass(frozen=True)
class Formatted:
    text: str
    skipped: str = ""  # why the file was left unchanged, when it was


class _Unsupported(Exception):
    """A layout this formatter does not rewrite; the node is copied, only re-indented."""


def format_yaml(text: str) -> Formatted:
    deep = too_deep(text)
    if deep:
        raise FormatError(deep[0], deep[1], TOO_DEEP_MESSAGE, TOO_DEEP_VALID)
    return _format(text)


def _format(text: str) -> Formatted:
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    newline = "\r\n" if "\r\n" in text else "\n"
    source = text[len(bom):].replace("\r\n", "\n")
    root = _compose(source)
    if root is None:
        return Formatted(text)
    if _has_alias(root):
        return Formatted(text, "uses YAML aliases (*name), which fmt leaves as written")
    if not source.endswith("\n") and _shape(_compose(source + "\n")) != _shape(root):
        # `a: |` + `  text` at the very end: the final newline fmt writes would become part of the value
        return Formatted(text, "it ends in a block scalar (| or >) without a final newline, which fmt "
                               "would add and so change that value; add the newline yourself")
    lines = source.split("\n")
    if lines[-1] == "":
        lines.pop()
    try:
        out = _Renderer(lines).document(root)
    except _Unsupported:
        return Formatted(text, "its top level is not a block mapping")
    result = "\n".join(out) + "\n"
    try:
        changed_meaning = _shape(_compose(result)) != _shape(root)
    except FormatError:
        changed_meaning = True
    if changed_meaning:
        # Never write a file whose meaning changed: this would be a bug in fmt.
        raise FormatError(0, 0, "fmt could not rewrite this file without changing its content; "
                                "it was left unchanged (please report this)")
    return Formatted(bom + result.replace("\n", newline))


def _compose(source: str) -> Node | None:
    try:
        documents = list(yaml.compose_all(source, Loader=_Loader))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or exc.context or "invalid YAML"
        lines = source.split("\n")
        if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            raise FormatError(line, col, "YAML syntax error: a tab character where YAML expects spaces",
                              "indentation with spaces") from None
        raise FormatError(line, col, f"YAML syntax error: {problem}", "well-formed YAML") from None
    except YAMLError as exc:
        raise FormatError(1, 1, f"YAML error: {exc}", "well-formed YAML") from None
    documents = [d for d in documents if d is not None]
    if len(documents) > 1:
        mark = documents[1].start_mark
        raise FormatError(mark.line + 1, mark.column + 1, "more than one YAML document in one file",
                          "one document per file")
    if documents:
        _check_duplicates(documents[0], set())
    return documents[0] if documents else None


def _check_duplicates(node: Node, active: set[int]) -> None:
    if id(node) in active:
        return
    active.add(id(node))
    if isinstance(node, MappingNode):
        seen: dict = {}
        for key, value in node.value:
            ident = (key.tag, key.value) if isinstance(key, ScalarNode) else id(key)
            if ident in seen:
                raise FormatError(key.start_mark.line + 1, key.start_mark.column + 1,
                                  f"duplicate key '{key.value}' (first defined at line {seen[ident]})",
                                  "each key once per mapping")
            seen[ident] = key.start_mark.line + 1
            _check_duplicates(value, active)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _check_duplicates(item, active)
    active.discard(id(node))


def _has_alias(root: Node) -> bool:
    """The composer returns an alias as the very node it points to: look for a node seen twice."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return False


# ("map" | "seq" | "scalar", tag, content): nested shapes, compared for equality only
Shape = tuple[str, str, object] | None


def _shape(node: Node | None) -> Shape:
    """What a document means, key order aside: used to prove the rewrite changed nothing."""
    if isinstance(node, MappingNode):
        return ("map", node.tag, frozenset((_shape(k), _shape(v)) for k, v in node.value))
    if isinstance(node, SequenceNode):
        return ("seq", node.tag, tuple(_shape(item) for item in node.value))
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value)
    return None


def _key_order(path: tuple) -> tuple[str, ...] | None:
    for pattern, order in KEY_ORDER.items():
        if len(pattern) == len(path) and all(p in ("*", q) for p, q in zip(pattern, path, strict=True)):
            return order
    return None


def _sorted_indexes(keys: list[str], order: tuple[str, ...] | None) -> list[int]:
    if not order:
        return list(range(len(keys)))
    rank = {name: i for i, name in enumerate(order)}
    return sorted(range(len(keys)), key=lambda i: (rank.get(keys[i], len(order)), i))


def _is_block(node: Node) -> TypeGuard[MappingNode | SequenceNode]:
    return isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style


class _Renderer:
    def __init__(self, lines: list[str]):
        self.lines = lines

    # --- line classification -------------------------------------------------

    def _blank(self, i: int) -> bool:
        return not self.lines[i].strip()

    def _comment(self, i: int) -> bool:
        return self.lines[i].lstrip(" ").startswith("#")

    def _indent(self, i: int) -> int:
        return len(self.lines[i]) - len(self.lines[i].lstrip(" "))

    def _at(self, i: int, col: int) -> str:
        """Line i re-indented to col (blank lines become empty)."""
        return " " * col + self.lines[i].lstrip(" ") if not self._blank(i) else ""

    def _shifted(self, i: int, delta: int) -> str:
        line = self.lines[i]
        if not line:
            return line
        if delta >= 0:
            return " " * delta + line
        return line[min(-delta, self._indent(i)):]

    def _content_end(self, node: Node) -> int:
        """Index of the line after the last line holding node's content."""
        if isinstance(node, MappingNode) and not node.flow_style and node.value:
            key, value = node.value[-1]
            return max(self._content_end(key), self._content_end(value))
        if isinstance(node, SequenceNode) and not node.flow_style and node.value:
            return self._content_end(node.value[-1])
        end = node.end_mark
        if isinstance(node, ScalarNode) and node.style in ("|", ">") and end.column == 0:
            last = max(end.line, node.start_mark.line + 1)
        else:
            last = end.line + 1
        return min(last, len(self.lines))  # an empty value at the end of the file is marked past it

    def _split_tail(self, start: int, end: int, content_end: int, col: int) -> int:
        """Where the body of [start, end) stops: trailing blank lines and comments at or left
        of col belong to what follows."""
        body_end = end
        while body_end > max(start + 1, content_end) and (
            self._blank(body_end - 1) or (self._comment(body_end - 1) and self._indent(body_end - 1) <= col)
        ):
            body_end -= 1
        return body_end

    def _between(self, start: int, end: int, col: int, out: list[str]) -> None:
        """Blank and comment lines that sit between structure: comments aligned to col."""
        for i in range(start, end):
            out.append(self._at(i, col))

    # --- structure -------------------------------------------------------------

    def document(self, root: Node) -> list[str]:
        if not (_is_block(root) and isinstance(root, MappingNode) and root.value):
            raise _Unsupported
        first = root.value[0][0].start_mark.line
        if self.lines[first][: root.value[0][0].start_mark.column].strip():
            raise _Unsupported  # e.g. `--- key: value`
        end = self._content_end(root)
        while end < len(self.lines) and (self._blank(end) or self._comment(end)):
            end += 1
        out = self.lines[:first]
        out.extend(self.mapping(root, (), first, end, 0, dash=False))
        out.extend(self.lines[end:])  # e.g. a `...` document end marker
        return out

    def mapping(self, node: MappingNode, path: tuple, start: int, end: int, target: int,
                *, dash: bool) -> list[str]:
        """Lines [start, end) hold this block mapping; its keys go to column target.
        dash: the first key shares its line with the "- " of a sequence item."""
        col = node.value[0][0].start_mark.column
        starts: list[int] = []
        for key, _ in node.value:
            line = key.start_mark.line
            if (not isinstance(key, ScalarNode) or key.start_mark.column != col
                    or key.end_mark.line != line or (starts and line <= starts[-1])):
                raise _Unsupported
            head = self.lines[line][:col].strip()
            if head != ("-" if dash and not starts else ""):
                raise _Unsupported
            starts.append(line)
        ends = starts[1:] + [end]
        bodies = [self._split_tail(s, e, self._content_end(v), col)
                  for s, e, (_, v) in zip(starts, ends, node.value, strict=True)]
        # leading[i]: the lines between entry i-1 and entry i, as (blank gap, comments)
        leading: list[tuple[list[int], list[int]]] = [([], [])]
        for body_end, next_start in zip(bodies, starts[1:], strict=False):
            gap = body_end
            while gap < next_start and self._blank(gap):
                gap += 1
            leading.append((list(range(body_end, gap)), list(range(gap, next_start))))

        keys = [str(k.value) for k, _ in node.value]
        order = _sorted_indexes(keys, _key_order(path))
        out: list[str] = []
        for position, index in enumerate(order):
            blank_lines, comments = leading[position][0], leading[index][1]
            out.extend("" for _ in blank_lines)
            if comments:
                comment_col = target - INDENT if dash and position == 0 else target
                self._between(comments[0], comments[-1] + 1, comment_col, out)
            entry = self.entry(node.value[index], path + (keys[index],), starts[index], bodies[index],
                               col, target)
            if dash and position == 0:
                entry[0] = " " * (target - INDENT) + "- " + entry[0][target:]
            out.extend(entry)
        self._between(bodies[-1], end, target, out)
        return out

    def entry(self, pair: tuple[Node, Node], path: tuple, start: int, end: int, col: int,
              target: int) -> list[str]:
        """One `key: value` whose key sits at (start, col), re-indented to target."""
        _, value = pair
        key_line = self._reordered_flow(value, path, start) or self.lines[start]
        out = [" " * target + key_line[col:]]
        if _is_block(value) and value.value:
            try:
                child_start, child_col = self._block_start(value)
                if child_start <= start:
                    raise _Unsupported
                child_target = target + INDENT
                rendered: list[str] = []
                self._between(start + 1, child_start, child_target, rendered)
                if isinstance(value, MappingNode):
                    rendered += self.mapping(value, path, child_start, end, child_target, dash=False)
                else:
                    rendered += self.sequence(value, path, child_start, end, child_target)
                return out + rendered
            except _Unsupported:
                pass
        out.extend(self._shifted(i, target - col) for i in range(start + 1, end))
        return out

    def sequence(self, node: SequenceNode, path: tuple, start: int, end: int, target: int) -> list[str]:
        """Lines [start, end) hold this block sequence; its dashes go to column target."""
        dashes = [self._dash(item) for item in node.value]
        col = dashes[0][1]
        lines = [line for line, _ in dashes]
        if any(c != col for _, c in dashes) or lines[0] != start or lines != sorted(set(lines)):
            raise _Unsupported
        ends = lines[1:] + [end]
        out: list[str] = []
        for index, (item, item_start, item_end) in enumerate(zip(node.value, lines, ends, strict=True)):
            body_end = self._split_tail(item_start, item_end, self._content_end(item), col)
            out.extend(self.item(item, path + (index,), item_start, body_end, col, target))
            self._between(body_end, item_end, target, out)
        return out

    def item(self, item: Node, path: tuple, start: int, end: int, col: int, target: int) -> list[str]:
        """One "- value" whose dash sits at (start, col), re-indented to target."""
        content_target = target + INDENT
        if _is_block(item) and item.value:
            try:
                item_start, item_col = self._block_start(item)
                if isinstance(item, MappingNode) and item_start == start:
                    return self.mapping(item, path, start, end, content_target, dash=True)
                if item_start > start:
                    comment = self.lines[start][col + 1:].strip()  # "-" alone, or "- # comment"
                    rendered = [" " * target + "-" + (" " + comment if comment else "")]
                    self._between(start + 1, item_start, content_target, rendered)
                    if isinstance(item, MappingNode):
                        return rendered + self.mapping(item, path, item_start, end, content_target, dash=False)
                    return rendered + self.sequence(item, path, item_start, end, content_target)
            except _Unsupported:
                pass
        line = self._reordered_flow(item, path, start) or self.lines[start]
        if self._content_end(item) == start + 1:
            out = [" " * target + "- " + line[col + 1:].lstrip(" ")]
        else:  # spacing after the dash kept: the continuation lines' indentation relies on it
            out = [" " * target + line[col:]]
        out.extend(self._shifted(i, target - col) for i in range(start + 1, end))
        return out

    def _block_start(self, node: Node) -> tuple[int, int]:
        """(line, column) where a block collection's first key or dash is."""
        if isinstance(node, MappingNode):
            mark = node.value[0][0].start_mark
            return mark.line, mark.column
        return self._dash(node.value[0])

    def _dash(self, item: Node) -> tuple[int, int]:
        """(line, column) of the "-" that introduces a sequence item."""
        line, col = item.start_mark.line, item.start_mark.column
        head = self.lines[line][:col].rstrip(" ")
        if head.endswith("-") and not head[:-1].strip():
            return line, len(head) - 1
        if head.strip():
            raise _Unsupported
        j = line - 1  # the item starts below its dash: "-" alone (or with a comment) above
        while j >= 0 and (self._blank(j) or self._comment(j)):
            j -= 1
        text = self.lines[j].lstrip(" ") if j >= 0 else ""
        after = text[1:].strip()
        if text.startswith("-") and (not after or after.startswith("#")):
            return j, self._indent(j)
        raise _Unsupported

    def _reordered_flow(self, node: Node, path: tuple, line: int) -> str | None:
        """Line `line` with node, a one-line flow collection, in canonical key order; None if unchanged."""
        if not (isinstance(node, (MappingNode, SequenceNode)) and node.flow_style):
            return None
        if node.start_mark.line != line or node.end_mark.line != line:
            return None
        text = self.lines[line]
        canonical = self._flow_text(node, path, text)
        if canonical is None:
            return None
        return text[: node.start_mark.column] + canonical + text[node.end_mark.column:]

    def _flow_text(self, node: Node, path: tuple, text: str) -> str | None:
        """Canonical text of a flow node on one line; None when it is already canonical."""
        if isinstance(node, SequenceNode) and node.flow_style:
            items = [self._flow_text(item, path + (i,), text) for i, item in enumerate(node.value)]
            if all(item is None for item in items):
                return None
            return "[" + ", ".join(new if new is not None else self._source(old, text)
                                   for new, old in zip(items, node.value, strict=True)) + "]"
        if not (isinstance(node, MappingNode) and node.flow_style):
            return None
        keys = [str(k.value) for k, _ in node.value]
        order = _sorted_indexes(keys, _key_order(path))
        values = [self._flow_text(v, path + (keys[i],), text) for i, (_, v) in enumerate(node.value)]
        if order == list(range(len(keys))) and all(v is None for v in values):
            return None
        parts = []
        for (key, value), new_value in zip(node.value, values, strict=True):
            if not isinstance(key, ScalarNode) or value.start_mark.index == value.end_mark.index:
                return None  # `{a}` or `{? a: b}`: left as written
            parts.append(f"{self._source(key, text)}: {new_value or self._source(value, text)}")
        return "{" + ", ".join(parts[i] for i in order) + "}"

    @staticmethod
    def _source(node: Node, text: str) -> str:
        return text[node.start_mark.column:node.end_mark.column]

"""JSON Schema check of one config file, with errors mapped back to file:line:col."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources

from osctl.config.source import SourceDoc
from osctl.diagnostics import Diagnostic, format_path

_TYPE_NAMES = {
    "string": "a string", "number": "a number", "integer": "an integer", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "nothing",
}


@cache
def load_schema(name: str = "osctl") -> dict:
    text = resources.files("osctl.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator():
    from jsonschema import Draft202012Validator  # imported late: keeps `osctl --help` fast

    schema = load_schema("osctl")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


def _show(value) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _describe(error) -> list[tuple[tuple, str, str, bool]]:
    """(path, message, valid, point_at_key) for one jsonschema error."""
    path = tuple(error.absolute_path)
    schema = error.schema
    v = error.validator
    if v == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        out = []
        for key in sorted(k for k in error.instance if k not in schema.get("properties", {})):
            message = f"unknown key '{key}'" + did_you_mean(key, allowed)
            out.append((path + (key,), message, ", ".join(allowed), True))
        return out
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [(path, f"missing required key '{missing}'", "", False)]
    if v == "type":
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
        return [(path, f"expected {names}, got {_kind(error.instance)} {_show(error.instance)}", "", False)]
    if v == "enum":
        valid = ", ".join(str(x) for x in schema["enum"])
        hint = did_you_mean(str(error.instance), [str(x) for x in schema["enum"]])
        return [(path, f"{_show(error.instance)} is not allowed here{hint}", valid, False)]
    if v == "const":
        return [(path, f"{_show(error.instance)} is not supported", json.dumps(schema["const"]), False)]
    if v == "pattern":
        desc = schema.get("description", f"text matching {schema['pattern']}")
        return [(path, f"{_show(error.instance)} has the wrong form", desc, False)]
    if v == "propertyNames":
        return [(path, f"{error.message}", "letters, digits, _ . - (starting with a letter, digit or _)", True)]
    if v in ("minLength", "maxLength"):
        limit = schema[v]
        word = "at least" if v == "minLength" else "at most"
        return [(path, f"too {'short' if v == 'minLength' else 'long'} ({len(error.instance)} characters)",
                 f"{word} {limit} characters", False)]
    if v in ("minItems", "maxItems"):
        limit = schema[v]
        word = "at least" if v == "minItems" else "at most"
        return [(path, f"has {len(error.instance)} entries", f"{word} {limit} entries", False)]
    if v == "uniqueItems":
        return [(path, "contains the same entry twice", "each entry once", False)]
    if v == "oneOf":
        options = [_TYPE_NAMES.get(s.get("type"), s.get("type")) for s in schema["oneOf"] if "type" in s]
        return [(path, f"got {_kind(error.instance)} {_show(error.instance)}", " or ".join(options), False)]
    return [(path, error.message, schema.get("description", ""), False)]


def check_schema(doc: SourceDoc) -> list[Diagnostic]:
    """Every schema violation in one file, sorted by position."""
    if doc.data is None:
        return []
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(doc.data):
        for path, message, valid, at_key in _describe(error):
            loc = doc.where(path, key=at_key)
            out.append(Diagnostic(doc.file, loc.line, loc.col, format_path(path), message, valid))
    return sorted(set(out))

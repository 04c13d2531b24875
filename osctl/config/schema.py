"""JSON Schema check of one config file, with errors mapped back to file:line:col.

jsonschema's own messages are written for schema authors; `_describe` turns
each error into what a user needs: the path, what is wrong, and what would be
valid. Values that may be secrets are never repeated in a message.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from osctl.config.source import SourceDoc
from osctl.diagnostics import Diagnostic, format_path

if TYPE_CHECKING:  # jsonschema is imported late at run time: it keeps `osctl --help` fast
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

_TYPE_NAMES = {
    "string": "a string", "number": "a number", "integer": "an integer", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "nothing",
}


def _type_name(json_type: str) -> str:
    return _TYPE_NAMES.get(json_type, json_type)

# keys that hold the *name* of an environment variable whose value is a secret
SECRET_NAME_KEYS = ("api_key_env", "dsn_env")
# keys people write when they try to put the API key itself into the config
_KEY_ITSELF = {"api_key", "apikey", "api-key", "rest_api_key", "rest_key", "app_key", "app_api_key", "key",
               "auth_key", "onesignal_api_key", "token", "secret", "password", "dsn"}
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")
HIDDEN = "(value not shown: it may be a secret)"
_SUGGESTION = re.compile(r"did you mean '([^']*)'\?")
_MISSING = re.compile(r"missing required key '([^']*)'")


@cache
def load_schema(name: str = "osctl") -> dict:
    text = resources.files("osctl.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _compiled(pattern: str) -> re.Pattern:
    # JSON Schema patterns are ECMA-262, where a final `$` means the end of the
    # text; Python's `$` also matches before a trailing newline ("abc\n").
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _search(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


@cache
def _validator_class() -> type[Validator]:
    from jsonschema import (  # late: keeps `osctl --help` fast
        Draft202012Validator,
        ValidationError,
        validators,
    )

    # a keyword's signature, as jsonschema's SchemaKeywordValidator declares it (instance: Any)
    def pattern(validator: Validator, regex: str, instance: Any, schema: object) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not _search(regex, instance):
            yield ValidationError(f"{instance!r} does not match {regex!r}")

    Draft202012Validator.check_schema(load_schema("osctl"))
    return validators.extend(Draft202012Validator, {"pattern": pattern})


@cache
def _validator() -> Validator:
    return _validator_class()(load_schema("osctl"))


@cache
def _compiled_check() -> Callable[[object], object]:
    """fastjsonschema's compiled check of the same schema, for the common case, a valid file:
    jsonschema takes seconds to walk a large config, this a few hundredths. It says only
    yes or no; a no runs jsonschema, which explains (tests check that its yes is jsonschema's)."""
    import fastjsonschema  # late: keeps `osctl --help` fast

    return fastjsonschema.compile(load_schema("osctl"))


def certainly_valid(data: object) -> bool:
    """Whether the compiled check accepts a whole file's data."""
    import fastjsonschema

    try:
        _compiled_check()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _errors(data: object) -> Iterator[ValidationError]:
    """Every jsonschema error of a file; a valid file costs only the compiled check."""
    if certainly_valid(data):
        return
    # YAML data may hold dates and bytes, outside the stub's JSON type; jsonschema reports them
    yield from _validator().iter_errors(data)  # type: ignore[arg-type]


def looks_like_secret(value: object) -> bool:
    """A long token-like string: an API key (legacy base64 or os_v2_...) or a connection string."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if text.startswith("os_v2_") or "://" in text or "password=" in text.lower():
        return True
    return bool(_SECRET_SHAPE.match(text)) and all(re.search(p, text) for p in ("[a-z]", "[A-Z]", "[0-9]"))


def _kind(value: object) -> str:
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


def _show(value: object, path: tuple = ()) -> str:
    if (path and path[-1] in SECRET_NAME_KEYS) or looks_like_secret(value):
        return HIDDEN
    if value is None:
        return ""
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    except (ValueError, TypeError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(word: str, choices: Collection[object]) -> str:
    names = [str(c) for c in choices]
    word = str(word)
    for choice in names:  # `or` for `OR`, `Subscriptions` for `subscriptions`
        if choice.lower() == word.lower():
            return f"; did you mean '{choice}'?"
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _what(schema: Mapping[str, Any]) -> str:
    """What a value of this schema looks like, for '(valid: ...)'."""
    if "description" in schema:
        text = schema["description"].rstrip(".")
        # descriptions are sentences for editors; after "(valid: " a lowercase start reads
        # better, but not for names such as OneSignal
        first_word = text.split(" ", 1)[0]
        return text[:1].lower() + text[1:] if first_word[1:].islower() or len(first_word) == 1 else text
    if "enum" in schema:
        return ", ".join(str(x) for x in schema["enum"])
    types = schema.get("type")
    if types:
        return " or ".join(_type_name(t) for t in (types if isinstance(types, list) else [types]))
    return "see 'osctl schema'"


def _describe(error: ValidationError) -> list[tuple[tuple, str, str, bool]]:
    """(path, message, valid, point_at_key) for one jsonschema error."""
    path = tuple(error.absolute_path)
    # jsonschema's types allow a bare true/false schema and unset fields (errors built by
    # hand); an error from validating a config against osctl's schema has them all
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    v = error.validator if isinstance(error.validator, str) else ""
    instance: Any = error.instance  # the offending value: whatever the YAML held
    if "propertyNames" in error.relative_schema_path:
        name = instance
        return [(path + (name,), f"'{name}' is not a valid name here",
                 "letters, digits, _ . - (starting with a letter, digit or _)", True)]
    if v == "additionalProperties":
        return [_unknown_key(path, key, schema) for key in sorted(
            (k for k in instance if k not in schema.get("properties", {})), key=str)]
    if v == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        wanted = schema.get("properties", {}).get(missing, {})
        return [(path, f"missing required key '{missing}'", f"{missing}: {_what(wanted)}", False)]
    if v == "type":
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        names = " or ".join(_type_name(t) for t in wanted)
        shown = _show(instance, path)
        message = f"expected {names}, got {_kind(instance)}" + (f" {shown}" if shown else "")
        valid = _what(schema)
        free_text = "pattern" not in schema and "enum" not in schema
        if free_text and ("string" in wanted and isinstance(instance, (bool, int, float))
                          or _kind(instance) in ("date", "datetime")):
            valid += "; in quotes, as YAML reads unquoted yes/no/on/off, numbers and dates as other types"
        return [(path, message, valid, False)]
    if v == "enum":
        valid = ", ".join(str(x) for x in schema["enum"])
        hint = did_you_mean(str(instance), schema["enum"])
        return [(path, f"{_show(instance, path)} is not allowed here{hint}", valid, False)]
    if v == "const":
        if path == ("osctl",):
            return [(path, f"config format version {_show(instance)} is not supported by this osctl",
                     f"osctl: {schema['const']}", False)]
        return [(path, f"{_show(instance, path)} is not supported", json.dumps(schema["const"]), False)]
    if v == "pattern":
        if path and path[-1] in SECRET_NAME_KEYS:
            return [(path, f"is not the name of an environment variable {HIDDEN}",
                     "the NAME of an env var, e.g. ONESIGNAL_PROD_KEY; the secret itself goes into that "
                     "variable, never into the config", False)]
        return [(path, f"{_show(instance, path)} has the wrong form", _what(schema), False)]
    if v in ("minLength", "maxLength"):
        word = "at least" if v == "minLength" else "at most"
        size = len(instance)
        problem = "empty" if size == 0 else f"too {'short' if v == 'minLength' else 'long'} ({_plural(size, 'character')})"
        return [(path, problem, f"{word} {_plural(schema[v], 'character')}", False)]
    if v in ("minItems", "maxItems"):
        word = "at least" if v == "minItems" else "at most"
        return [(path, f"has {_plural(len(instance), 'entry').replace('entrys', 'entries')}",
                 f"{word} {_plural(schema[v], 'entry').replace('entrys', 'entries')}", False)]
    if v == "minProperties":
        return [(path, "is empty", _what(schema), False)]
    if v == "uniqueItems":
        seen, twice = [], None
        for entry in instance:
            if entry in seen:
                twice = entry
                break
            seen.append(entry)
        return [(path, f"lists {_show(twice, path)} more than once", "each entry once", False)]
    if v in ("oneOf", "anyOf"):
        return _describe_alternatives(error, path, schema)
    return [(path, error.message, _what(schema), False)]


def _unknown_key(path: tuple, key: str, schema: Mapping[str, Any]) -> tuple[tuple, str, str, bool]:
    allowed = sorted(schema.get("properties", {}))
    if key.lower() in _KEY_ITSELF and "api_key_env" in allowed:
        return (path + (key,), f"unknown key '{key}': API keys never go into the config",
                "api_key_env: the NAME of the environment variable that holds the key", True)
    if key.lower() in _KEY_ITSELF and "dsn_env" in allowed:
        return (path + (key,), f"unknown key '{key}': connection strings never go into the config",
                "dsn_env: the NAME of the environment variable that holds the connection string", True)
    if path[:1] == ("storage",) and _CLOUD_SECRET.search(key):
        return (path + (key,), f"unknown key '{key}': cloud credentials never go into the config",
                "credentials come from the environment: AWS_*, GOOGLE_APPLICATION_CREDENTIALS or AZURE_*; "
                "here only " + ", ".join(allowed), True)
    return (path + (key,), f"unknown key '{key}'" + did_you_mean(key, allowed), ", ".join(allowed), True)


_CLOUD_SECRET = re.compile(r"key|secret|token|password|credential|sas|signature", re.IGNORECASE)


def _describe_alternatives(error: ValidationError, path: tuple, schema: Mapping[str, Any]) -> list[tuple[tuple, str, str, bool]]:
    """Explain a oneOf by the branch whose type fits the value (a mapping with a bad key, say)."""
    kind_of = {"string": str, "object": dict, "array": list, "boolean": bool}
    options = schema.get("oneOf") or schema.get("anyOf") or []
    for index, option in enumerate(options):
        py_type = kind_of.get(option.get("type"))
        if py_type and isinstance(error.instance, py_type):
            inner = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == index]
            described = [d for e in inner for d in _describe(e)]
            if described:
                return described
    names = [_TYPE_NAMES.get(o.get("type"), o.get("type")) for o in options if "type" in o]
    return [(path, f"got {_kind(error.instance)} {_show(error.instance, path)}".rstrip(),
             " or ".join(names) or _what(schema), False)]


def check_schema(doc: SourceDoc) -> list[Diagnostic]:
    """Every schema violation in one file, sorted by position."""
    if doc.data is None:
        return []
    described = [d for error in _errors(doc.data) for d in _describe(error)]
    # One mistake, one message: a value of the wrong type also fails its enum or
    # pattern, and `filter:` for `filters:` also leaves `filters` missing.
    wrong_type = {path for path, message, _, _ in described if message.startswith("expected ")}
    misspelt = {(path[:-1], m.group(1)) for path, message, _, _ in described
                if (m := _SUGGESTION.search(message)) and message.startswith("unknown key")}
    out: list[Diagnostic] = []
    for path, message, valid, at_key in described:
        if path in wrong_type and not message.startswith("expected ") and not at_key:
            continue
        if (m := _MISSING.match(message)) and ((path, m.group(1)) in misspelt or path in doc.merged):
            continue
        loc = doc.where(path, key=at_key)
        out.append(Diagnostic(doc.file, loc.line, loc.col, format_path(path), message, valid))
    return sorted(set(out))

"""The shape every OneSignal answer osctl reads must have, as small JSON Schemas. Pure.

A 200 answer of the wrong shape must never be read as an empty or default result: a segment
list read as empty would make a plan re-create every managed segment. The schemas hold
osctl to what it relies on (ids, names, filters, counts) and let everything else vary, so
every documented form still passes (total_count missing, 201 for the list, the view's
location numbers as strings, history's csv_file_url).

Valid answers, the common case, are checked by fastjsonschema's compiled validators (as
the config's schema is); only an invalid one pays for jsonschema, which says where it
went wrong. Problems name a place and a type, never a value: answers hold bearer links.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from osctl.diagnostics import format_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_ID = {"type": "string", "minLength": 1}
_TEXT = {"type": ["string", "null"]}
# counts and unix times; a string of digits is tolerated (parsed as a number)
_WHOLE = {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$", "description": "a whole number"}
_TIME = {"type": ["string", "integer", "null"]}  # ISO text in the list, unix seconds in the view
_FLAG = {"type": ["boolean", "null"]}
_NAMES = {"type": ["array", "null"], "items": {"type": "string"}}

_SEGMENT_ROW = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": _ID, "name": {"type": "string"}, "app_id": _TEXT, "created_at": _TIME, "updated_at": _TIME,
        "read_only": _FLAG, "is_active": _FLAG, "description": _TEXT,
    },
}

_FILTER_ENTRY = {"type": "object", "properties": {"field": {"type": "string"}, "operator": {"type": "string"}}}

_SEGMENT_PAYLOAD = {
    "type": "object",
    "properties": {
        "id": _ID, "name": _TEXT, "description": _TEXT, "created_at": _TIME, "source": _TEXT,
        "filters": {"type": "array", "items": _FILTER_ENTRY},
    },
}

_MESSAGE = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": _ID, "app_id": _TEXT, "name": _TEXT, "queued_at": _WHOLE, "send_after": _WHOLE,
        "completed_at": _WHOLE, "successful": _WHOLE, "failed": _WHOLE, "errored": _WHOLE,
        "converted": _WHOLE, "received": _WHOLE, "remaining": _WHOLE, "canceled": _FLAG,
        "platform_delivery_stats": {"type": ["object", "null"]},
        "included_segments": _NAMES, "excluded_segments": _NAMES, "template_id": _TEXT,
    },
}

_URL = {"type": ["string", "null"], "pattern": "^https?://", "description": "an http(s) URL"}

_USER_IDENTITY = {"type": "object", "additionalProperties": {"type": "string"}}
_USER_SUBSCRIPTION = {
    "type": "object",
    "required": ["type"],
    "properties": {"id": {"type": "string", "minLength": 1}, "type": {"type": "string"}, "token": _TEXT,
                   "enabled": {"type": ["boolean", "null"]}},
}

_USER_SCHEMAS: dict[str, dict] = {  # answers about users (test users)
    "user": {
        "type": "object",
        "required": ["identity"],
        "properties": {
            "identity": _USER_IDENTITY,
            "properties": {"type": ["object", "null"], "properties": {
                # tag values are strings; a number or boolean is read as its text
                "tags": {"type": ["object", "null"],
                         "additionalProperties": {"type": ["string", "number", "boolean"]}},
                "language": _TEXT, "timezone_id": _TEXT, "country": _TEXT,
            }},
            "subscriptions": {"type": ["array", "null"],
                              "items": {**_USER_SUBSCRIPTION, "required": ["id", "type"]}},
        },
    },
    # a 202 may answer before the user is complete, but always names it
    "user created": {"type": "object", "required": ["identity"], "properties": {
        "identity": _USER_IDENTITY, "subscriptions": {"type": "array", "items": _USER_SUBSCRIPTION}}},
    "identity": {"type": "object", "required": ["identity"], "properties": {"identity": _USER_IDENTITY}},
    # a 202 may answer before the subscription has its id
    "subscription added": {"type": "object", "required": ["subscription"], "properties": {
        "subscription": _USER_SUBSCRIPTION}},
}


SCHEMAS: dict[str, dict] = {
    "segment list": {
        "type": "object",
        "required": ["segments"],
        "properties": {"segments": {"type": "array", "items": _SEGMENT_ROW},
                       "total_count": _WHOLE, "offset": _WHOLE, "limit": _WHOLE},
    },
    "segment view": {
        "type": "object",
        "properties": {"subscriber_count": _WHOLE, "payload": {**_SEGMENT_PAYLOAD, "type": ["object", "null"]}},
    },
    # include-segment-detail=true: without the filters, drift could not be told from an edit
    "segment view with detail": {
        "type": "object",
        "required": ["payload"],
        "properties": {"subscriber_count": _WHOLE,
                       "payload": {**_SEGMENT_PAYLOAD, "required": ["filters"]}},
    },
    "segment created": {"type": "object", "required": ["id"], "properties": {"id": _ID}},
    "message": _MESSAGE,
    "message list": {
        "type": "object",
        "required": ["notifications"],
        "properties": {"notifications": {"type": "array", "items": _MESSAGE},
                       "total_count": _WHOLE, "offset": _WHOLE, "limit": _WHOLE},
    },
    "export requested": {
        "type": "object",
        "properties": {"csv_file_url": _URL, "destination_url": _URL},
    },
    "outcomes": {
        "type": "object",
        "required": ["outcomes"],
        "properties": {"outcomes": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "value", "aggregation"],
            "properties": {"id": _ID, "value": {"type": "number"},
                           "aggregation": {"type": "string", "enum": ["count", "sum"]}},
        }}},
    },
    **_USER_SCHEMAS,
}


class AnswerShapeError(ValueError):
    """An answer osctl cannot read; the text says where, e.g. "segments[3].id is null, expected a string"."""


def check(kind: str, data: object) -> None:
    """Raise AnswerShapeError unless `data` has the shape SCHEMAS[kind] describes."""
    import fastjsonschema

    try:
        _quick(kind)(data)
    except fastjsonschema.JsonSchemaException:
        problem = explain(kind, data)
        if problem is not None:
            raise AnswerShapeError(problem) from None


def explain(kind: str, data: object) -> str | None:
    """What is wrong with `data`, or None when it is valid."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(SCHEMAS[kind]).iter_errors(data))
    return None if error is None else _describe(error)


@cache
def _quick(kind: str) -> Callable[[object], Any]:
    """The compiled yes/no check of one answer kind, built once per process."""
    import fastjsonschema  # late: keeps `osctl --help` fast

    return fastjsonschema.compile(SCHEMAS[kind])


_JSON_KINDS = {"object": "an object", "array": "a list", "string": "a string", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "null"}


def _describe(error: ValidationError) -> str:
    where = format_path(tuple(error.absolute_path)) or "the answer"
    # set on every error a validator yields (the stubs also allow "unset", for hand-made errors)
    rule, value, instance = error.validator, cast(Any, error.validator_value), cast(Any, error.instance)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if rule == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        expected = schema.get("description") or " or ".join(_JSON_KINDS[t] for t in wanted if t != "null")
        return f"{where} is {_kind_of(error.instance)}, expected {expected}"
    if rule == "required":
        missing = next(name for name in value if name not in instance)
        return f"{where} has no '{missing}'"
    if rule == "minLength":
        return f"{where} is empty"
    if rule == "enum":
        return f"{where} is not one of {', '.join(map(str, value))}"
    if rule == "pattern":
        return f"{where} is not {schema.get('description', 'in the expected form')}"
    return f"{where} does not have the expected shape"


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"

"""OneSignal filter expressions: the grammar osctl accepts and the canonical form it sends.

The grammar is the union of what OneSignal's sources list per field (docs/onesignal-api.md#filter-relations). The
canonical form is what the API takes: `value` and `hours_ago` as strings,
`radius`/`lat`/`long` as numbers, explicit AND operators dropped (adjacent
filters are ANDed anyway), keys sorted. Two declarations that mean the same
filters have the same canonical form and so the same digest.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from decimal import Decimal

MAX_ENTRIES = 200  # every entry counts, AND and OR included (docs/onesignal-api.md#the-200-entry-limit)
MAX_IN_ARRAY_ITEMS = 20
OPERATORS = ("AND", "OR")
FILTER_KEYS = ("field", "relation", "key", "value", "hours_ago", "radius", "lat", "long")


@dataclass(frozen=True)
class FieldRule:
    relations: tuple[str, ...]
    needs_key: bool = False
    value: str = "value"  # which key carries the operand: value | hours_ago | location | none
    numeric: bool = False  # the operand must be a number (sent as a string)
    legacy: bool = False  # not in the current create/update field list: OneSignal may refuse it
    hint: str = ""


FIELDS: dict[str, FieldRule] = {
    "tag": FieldRule((">", "<", "=", "!=", "exists", "not_exists", "time_elapsed_gt", "time_elapsed_lt"),
                     needs_key=True),
    "last_session": FieldRule((">", "<"), value="hours_ago", numeric=True),
    "first_session": FieldRule((">", "<"), value="hours_ago", numeric=True),
    "session_count": FieldRule((">", "<", "=", "!="), numeric=True),
    "session_time": FieldRule((">", "<", "=", "!="), numeric=True, hint="seconds"),
    "language": FieldRule(("=", "!=", "in_array", "not_in_array"), hint="2-letter language code"),
    "app_version": FieldRule((">", "<", "=", "!=")),
    "location": FieldRule((), value="location"),
    "country": FieldRule(("=", "!=", "exists", "not_exists"), hint="ISO 3166 alpha-2, uppercase"),
    "email": FieldRule(("=",), legacy=True),
    "amount_spent": FieldRule((">", "<", "="), numeric=True, legacy=True),
    "bought_sku": FieldRule((">", "<", "="), needs_key=True, numeric=True, legacy=True),
}
NO_OPERAND = ("exists", "not_exists")
LOCATION_KEYS = ("radius", "lat", "long")


def is_operator(entry: dict) -> bool:
    return "operator" in entry


def keys_used(field: str, relation: str | None) -> set[str]:
    """The keys a filter on `field` with `relation` may (and must) carry besides field/relation."""
    rule = FIELDS[field]
    keys: set[str] = {"key"} if rule.needs_key else set()
    if rule.value == "location":
        keys |= set(LOCATION_KEYS)
    elif relation not in NO_OPERAND:
        keys.add(rule.value)
    return keys


def _as_api_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return str(int(value))
        # shortest text that reads back as the same float, never in exponent form (1e-07)
        return format(Decimal(repr(value)), "f")
    return str(value)


def _as_number(value: object) -> int | float:
    number: int | float
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    else:
        number = float(str(value).strip())
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return number


def canonical_entry(entry: dict) -> dict:
    if is_operator(entry):
        return {"operator": str(entry["operator"]).upper()}
    out: dict = {}
    for key in sorted(entry):
        value = entry[key]
        if key in ("value", "hours_ago"):
            out[key] = _as_api_string(value)
        elif key in LOCATION_KEYS:
            out[key] = _as_number(value)
        else:
            out[key] = value
    return out


def canonical_filters(entries: list[dict]) -> list[dict]:
    """Canonical form of a (valid) filter list; see the module docstring."""
    return [canonical_entry(e) for e in entries if not (is_operator(e) and str(e["operator"]).upper() == "AND")]


# what json.dumps(filters, sort_keys=True, separators=(",", ":"), ensure_ascii=False) uses, made
# once: building it took a third of the time of a segment's digest
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(filters: list[dict]) -> str:
    return _CANONICAL_ENCODER.encode(filters)


def filters_digest(filters: list[dict]) -> str:
    """sha256 of the canonical JSON of already-canonical filters."""
    return "sha256:" + hashlib.sha256(canonical_json(filters).encode("utf-8")).hexdigest()


def try_canonical(entries: list[dict]) -> list[dict] | None:
    """Canonical form, or None when the entries cannot be canonicalised (e.g. live filters we don't know)."""
    try:
        return canonical_filters(entries)
    except (TypeError, ValueError, KeyError):
        return None


def or_groups(filters: list[dict]) -> list[list[dict]]:
    """Split canonical filters into OR-ed groups of AND-ed filters (AND binds tighter)."""
    groups: list[list[dict]] = [[]]
    for entry in filters:
        if is_operator(entry):
            if entry["operator"] == "OR":
                groups.append([])
            continue
        groups[-1].append(entry)
    return groups

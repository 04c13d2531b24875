"""OneSignal filter expressions as the API takes them: validation and evaluation.

Deliberately independent of osctl's own filter code (osctl/filters.py): the
emulator is the referee for osctl's requests, so it keeps its own reading of
the API (docs/onesignal-api.md#filter-expressions, and #filter-relations where sources disagree):

- `filters` is a flat list of filter objects and {"operator": "AND"|"OR"};
  adjacent filters are ANDed and AND binds tighter than OR, so the list is an
  OR of AND-groups. No operator may lead, trail or follow another.
- 1-200 entries for a segment, operators included.
- Per field, the union of the relations the sources list; `location` takes
  radius, lat and long and no relation. `value` and `hours_ago` must be
  strings (the API wants "5", not 5); radius/lat/long may be numbers or
  numeric strings. Keys a filter does not use are rejected.

Evaluation semantics for the synthetic audience (the real server's are not
published; these are documented in docs/emulator.md):
- `!=` is the negation of `=`: a subscription without the tag or country matches.
- tag `>`/`<` compare numerically and never match a non-numeric value.
- `time_elapsed_gt/lt`: the tag holds unix seconds, `value` is seconds elapsed.
- last_session/first_session `<` H: less than H hours ago; `>` H: more than H hours ago.
- location: great-circle distance from (lat, long) at most `radius` metres.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from osctl.emulator.audience import Subscription

MAX_ENTRIES = 200
MAX_IN_ARRAY = 20

FIELD_RELATIONS: dict[str, tuple[str, ...]] = {
    "tag": (">", "<", "=", "!=", "exists", "not_exists", "time_elapsed_gt", "time_elapsed_lt"),
    "last_session": (">", "<"),
    "first_session": (">", "<"),
    "session_count": (">", "<", "=", "!="),
    "session_time": (">", "<", "=", "!="),
    "language": ("=", "!=", "in_array", "not_in_array"),
    "app_version": (">", "<", "=", "!="),
    "country": ("=", "!=", "exists", "not_exists"),
    "location": (),
    # legacy fields (older SDK models); kept so old clients are not rejected
    "email": ("=",),
    "amount_spent": (">", "<", "="),
    "bought_sku": (">", "<", "="),
}
NUMERIC_VALUE_FIELDS = {"session_count", "session_time", "amount_spent", "bought_sku"}
# ASCII digits only (\d would take any script's digits), matched whole
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_HOURS = re.compile(r"[0-9]+(\.[0-9]+)?")
_VERSION_PART = re.compile(r"[0-9]+")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Za-z]{2,4})?$")

Predicate = Callable[["Subscription", float], bool]


def required_keys(field: str, relation: str | None) -> tuple[str, ...]:
    if field == "location":
        return ("radius", "lat", "long")
    if field in ("last_session", "first_session"):
        return ("hours_ago",)
    keys = ("key",) if field in ("tag", "bought_sku") else ()
    if relation in ("exists", "not_exists"):
        return keys
    return keys + ("value",)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return float(value) if math.isfinite(value) else None
        except OverflowError:  # an int beyond float's range
            return None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _check_filter(i: int, entry: dict) -> list[str]:
    where = f"filters[{i}]"
    field = entry.get("field")
    if not isinstance(field, str) or field not in FIELD_RELATIONS:
        return [f"{where}: field {field!r} is not supported (valid: {', '.join(FIELD_RELATIONS)})"]
    relations = FIELD_RELATIONS[field]
    relation = entry.get("relation")
    errors = []
    if field == "location":
        if "relation" in entry:
            errors.append(f"{where}: location filters take no relation")
    elif relation not in relations:
        errors.append(f"{where}: relation {relation!r} is not valid for field '{field}' "
                      f"(valid: {', '.join(relations)})")
        return errors
    needed = required_keys(field, relation)
    for key in needed:
        if key not in entry:
            errors.append(f"{where}: field '{field}' with relation {relation!r} requires '{key}'")
    extra = set(entry) - {"field", "relation", *needed}
    for key in sorted(extra):
        errors.append(f"{where}: unexpected key '{key}' for field '{field}'")
    if errors:
        return errors
    for key in ("key", "value", "hours_ago"):
        if key in needed and not isinstance(entry[key], str):
            errors.append(f"{where}: '{key}' must be a string")
    if errors:
        return errors
    value = entry.get("value")
    if "key" in needed and not entry["key"]:
        errors.append(f"{where}: 'key' must not be empty")
    if "hours_ago" in needed and not _HOURS.fullmatch(entry["hours_ago"]):
        errors.append(f"{where}: 'hours_ago' must be a non-negative decimal number")
    if field == "location":
        numbers = {k: _number(entry[k]) for k in needed}
        for key, number in numbers.items():
            if number is None:
                errors.append(f"{where}: '{key}' must be a number")
        if numbers["radius"] is not None and numbers["radius"] <= 0:
            errors.append(f"{where}: 'radius' must be positive")
        if numbers["lat"] is not None and not -90 <= numbers["lat"] <= 90:
            errors.append(f"{where}: 'lat' must be between -90 and 90")
        if numbers["long"] is not None and not -180 <= numbers["long"] <= 180:
            errors.append(f"{where}: 'long' must be between -180 and 180")
    elif value is not None and relation is not None:  # a non-location relation: one of `relations`
        if (field in NUMERIC_VALUE_FIELDS or relation.startswith("time_elapsed")) and _number(value) is None:
            errors.append(f"{where}: 'value' must be a number written as a string")
        elif field == "country" and not _COUNTRY.match(value):
            errors.append(f"{where}: country must be an ISO 3166-1 alpha-2 code in upper case")
        elif field == "language":
            codes = value.split(",") if relation.endswith("in_array") else [value]
            if len(codes) > MAX_IN_ARRAY:
                errors.append(f"{where}: {relation} takes at most {MAX_IN_ARRAY} values")
            elif not all(_LANGUAGE.match(c.strip()) for c in codes):
                errors.append(f"{where}: language must be a 2-letter code")
        elif field == "email" and "@" not in value:
            errors.append(f"{where}: 'value' must be an email address")
    return errors


def validate(filters: Any) -> list[str]:
    """Every reason the API would reject this `filters` array; empty when valid."""
    if not isinstance(filters, list):
        return ["filters must be an array"]
    if not 1 <= len(filters) <= MAX_ENTRIES:
        return [f"filters must contain between 1 and {MAX_ENTRIES} entries (got {len(filters)})"]
    errors: list[str] = []
    previous_was_operator = True  # so a leading operator is reported
    for i, entry in enumerate(filters):
        if not isinstance(entry, dict):
            errors.append(f"filters[{i}]: must be an object")
            previous_was_operator = False
            continue
        if "operator" in entry:
            if set(entry) != {"operator"} or entry["operator"] not in ("AND", "OR"):
                errors.append(f"filters[{i}]: an operator entry is exactly {{\"operator\": \"AND\"|\"OR\"}}")
            elif previous_was_operator:
                errors.append(f"filters[{i}]: operator {entry['operator']} must follow a filter")
            previous_was_operator = True
            continue
        errors.extend(_check_filter(i, entry))
        previous_was_operator = False
    if filters and isinstance(filters[-1], dict) and "operator" in filters[-1]:
        errors.append(f"filters[{len(filters) - 1}]: the filters must not end with an operator")
    return errors


# --- evaluation ---------------------------------------------------------------


def _compare(relation: str, left: float, right: float) -> bool:
    if relation == ">":
        return left > right
    if relation == "<":
        return left < right
    if relation == "=":
        return left == right
    return left != right


def _version(text: str) -> tuple | None:
    """"2.10.1" as a key that orders numerically, without int() (any number of digits)."""
    parts = text.split(".")
    if not all(_VERSION_PART.fullmatch(p) for p in parts):
        return None
    return tuple((len(p.lstrip("0")), p.lstrip("0")) for p in parts)


def distance_m(lat1: float, long1: float, lat2: float, long2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def _tag_predicate(key: str, relation: str, value: str) -> Predicate:
    if relation == "exists":
        return lambda s, now: key in s.tags
    if relation == "not_exists":
        return lambda s, now: key not in s.tags
    if relation == "=":
        return lambda s, now: s.tags.get(key) == value
    if relation == "!=":
        return lambda s, now: s.tags.get(key) != value
    wanted = float(value)

    def numeric(s: Subscription, now: float) -> bool:
        held = _number(s.tags.get(key))
        if held is None:
            return False
        if relation == "time_elapsed_gt":
            return now - held > wanted
        if relation == "time_elapsed_lt":
            return now - held < wanted
        return _compare(relation, held, wanted)

    return numeric


def _predicate(entry: dict) -> Predicate:
    # validated: "" stands for a key the field and relation do not take
    field, relation, value = entry["field"], entry.get("relation", ""), entry.get("value", "")
    if field == "tag":
        return _tag_predicate(entry["key"], relation, value)
    if field in ("last_session", "first_session"):
        seconds = float(entry["hours_ago"]) * 3600
        # `<` H hours ago: more recent than now - H; `>`: older than that
        if relation == "<":
            return lambda s, now: now - getattr(s, field) < seconds
        return lambda s, now: now - getattr(s, field) > seconds
    if field in ("session_count", "session_time", "amount_spent"):
        wanted = float(value)
        return lambda s, now: _compare(relation, float(getattr(s, field)), wanted)
    if field == "bought_sku":
        sku, wanted = entry["key"], float(value)
        return lambda s, now: sku in s.purchases and _compare(relation, float(s.purchases[sku]), wanted)
    if field == "language":
        if relation in ("in_array", "not_in_array"):
            codes = {c.strip() for c in value.split(",")}
            inside = relation == "in_array"
            return lambda s, now: (s.language in codes) == inside
        return lambda s, now: (s.language == value) == (relation == "=")
    if field == "app_version":
        wanted_v = _version(value)

        def version(s: Subscription, now: float) -> bool:
            if relation in ("=", "!="):
                return (s.app_version == value) == (relation == "=")
            held = _version(s.app_version or "")
            if held is None or wanted_v is None:
                return False
            return held > wanted_v if relation == ">" else held < wanted_v

        return version
    if field == "country":
        if relation == "exists":
            return lambda s, now: s.country is not None
        if relation == "not_exists":
            return lambda s, now: s.country is None
        return lambda s, now: (s.country == value) == (relation == "=")
    if field == "location":
        lat, long, radius = float(entry["lat"]), float(entry["long"]), float(entry["radius"])
        return lambda s, now: (s.lat is not None and s.long is not None
                               and distance_m(lat, long, s.lat, s.long) <= radius)
    if field == "email":
        return lambda s, now: s.email is not None and s.email.lower() == value.lower()
    # fields the API cannot write (dashboard-only kinds) match nobody here
    return lambda s, now: False


def compile_filters(filters: list[dict]) -> Predicate:
    """A predicate (subscription, now) -> bool for a filter array that `validate` accepted."""
    groups: list[list[Predicate]] = [[]]
    for entry in filters:
        if entry.get("operator") == "OR":
            groups.append([])
        elif "operator" not in entry:
            groups[-1].append(_predicate(entry))
    groups = [g for g in groups if g]

    def matches(subscription: Subscription, now: float) -> bool:
        return any(all(p(subscription, now) for p in group) for group in groups)

    return matches

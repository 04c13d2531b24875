"""Checks the schema cannot express: references, the filter grammar, cron, zones, limits.

Works on the files of a config directory after each passed through the schema
check (it tolerates values of the wrong type, which the schema already
reported), and returns every problem, never just the first.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from osctl import filters as grammar
from osctl.config.schema import did_you_mean
from osctl.config.source import Location, SourceDoc
from osctl.diagnostics import Diagnostic, format_path
from osctl.durations import parse_duration
from osctl.schedule import cron_error, timezone_error

PLACEHOLDERS = ("app", "app_id", "export", "kind", "message_id", "date", "time", "tick")
PLACEHOLDER_LIST = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
KIND_BLOCKS = ("subscriptions", "audience_activity", "message_history", "outcomes")
BLOCK_REQUIRED = ("audience_activity", "message_history", "outcomes")
HISTORY_WINDOW_SECONDS = 7 * 86400
COUNT_ONLY_OUTCOMES = ("os__click", "os__confirmed_delivery")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass
class Item:
    """One entry of a list (segments/exports) or mapping (apps) and where it came from."""

    doc: SourceDoc
    path: tuple  # path inside its own file
    data: object

    def where(self, *sub, key: bool = False) -> Location:
        return self.doc.where(self.path + tuple(sub), key=key)


@dataclass
class Merged:
    """All files of a config directory, side by side."""

    directory: str
    versions: list[Item] = field(default_factory=list)
    apps: dict[str, Item] = field(default_factory=dict)
    states: list[Item] = field(default_factory=list)
    segments: list[Item] = field(default_factory=list)
    exports: list[Item] = field(default_factory=list)


class Report:
    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, item: Item, sub: tuple, message: str, valid: str = "", *, key: bool = False,
            severity: str = "error") -> None:
        loc = item.where(*sub, key=key)
        path = format_path(item.path + tuple(sub))
        self.items.append(Diagnostic(loc.file, loc.line, loc.col, path, message, valid, severity))

    def warn(self, item: Item, sub: tuple, message: str, valid: str = "") -> None:
        self.add(item, sub, message, valid, severity="warning")


def merge(directory: str, docs: list[SourceDoc], report: Report) -> Merged:
    merged = Merged(directory)
    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            continue
        if "osctl" in data:
            merged.versions.append(Item(doc, ("osctl",), data["osctl"]))
        apps = data.get("apps")
        if isinstance(apps, dict):
            for alias, app in apps.items():
                item = Item(doc, ("apps", alias), app)
                if alias in merged.apps:
                    first = merged.apps[alias].where(key=True)
                    report.add(item, (), f"app '{alias}' is already defined in {first.file}:{first.line}",
                               "each app alias once across all files", key=True)
                    continue
                merged.apps[alias] = item
        if "state" in data:
            merged.states.append(Item(doc, ("state",), data["state"]))
        for collection in ("segments", "exports"):
            entries = data.get(collection)
            if isinstance(entries, list):
                target = getattr(merged, collection)
                target.extend(Item(doc, (collection, i), e) for i, e in enumerate(entries))
    return merged


def check(merged: Merged, report: Report) -> None:
    _check_version_and_state(merged, report)
    default_app = next(iter(merged.apps)) if len(merged.apps) == 1 else None
    declared = _check_segments(merged, default_app, report)
    _check_exports(merged, default_app, declared, report)


def _check_version_and_state(merged: Merged, report: Report) -> None:
    if not merged.versions:
        report.items.append(Diagnostic(merged.directory, 0, 0, "osctl",
                                       "no file declares the config format version",
                                       "'osctl: 1' at the top of exactly one file"))
    for extra in merged.versions[1:]:
        first = merged.versions[0].where(key=True)
        report.add(extra, (), f"'osctl' is already declared in {first.file}:{first.line}",
                   "'osctl: 1' in exactly one file", key=True)
    if not merged.apps:
        report.items.append(Diagnostic(merged.directory, 0, 0, "apps", "no app is declared",
                                       "an 'apps:' mapping with at least one app (alias: {app_id: UUID})"))
    for extra in merged.states[1:]:
        first = merged.states[0].where(key=True)
        report.add(extra, (), f"'state' is already configured in {first.file}:{first.line}",
                   "one 'state:' block across all files", key=True)
    for item in merged.states[:1]:
        state = item.data if isinstance(item.data, dict) else {}
        backend = state.get("backend", "local")
        wrong = {"local": ("dsn_env", "workspace"), "postgres": ("path",)}.get(backend, ())
        for key in wrong:
            if key in state:
                report.add(item, (key,), f"'{key}' does not apply to the {backend} backend",
                           "path for local; dsn_env and workspace for postgres", key=True)


def _resolve_app(item: Item, merged: Merged, default_app: str | None, report: Report) -> str | None:
    data = item.data
    app = data.get("app")
    if app is None:
        if default_app is None and merged.apps:
            report.add(item, (), "'app' is required when several apps are declared",
                       ", ".join(merged.apps))
        return default_app
    if not isinstance(app, str):
        return None
    if app not in merged.apps:
        if merged.apps:
            report.add(item, ("app",), f"unknown app '{app}'" + did_you_mean(app, merged.apps),
                       ", ".join(merged.apps))
        return None
    return app


def _check_segments(merged: Merged, default_app: str | None, report: Report) -> dict[tuple, Item]:
    declared: dict[tuple, Item] = {}
    for item in merged.segments:
        if not isinstance(item.data, dict):
            continue
        app = _resolve_app(item, merged, default_app, report)
        name = item.data.get("name")
        if app and isinstance(name, str):
            if (app, name) in declared:
                first = declared[(app, name)].where("name")
                report.add(item, ("name",), f"segment '{name}' of app '{app}' is already declared in "
                           f"{first.file}:{first.line}", "each (app, name) once across all files")
            else:
                declared[(app, name)] = item
        entries = item.data.get("filters")
        if isinstance(entries, list):
            check_filters(item, entries, report)
    return declared


def check_filters(item: Item, entries: list, report: Report) -> None:
    previous_was_operator = True  # so a leading operator is reported
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        sub = ("filters", i)
        if "operator" in entry:
            extra = sorted(k for k in entry if k != "operator")
            if extra:
                report.add(item, sub, f"an operator entry cannot also carry {', '.join(extra)}",
                           "{operator: AND} or {operator: OR} alone, or a filter without 'operator'")
            if i == 0:
                report.add(item, sub + ("operator",), "filters cannot start with an operator",
                           "a filter first; AND/OR only between two filters")
            elif previous_was_operator:
                report.add(item, sub + ("operator",), "two operators in a row",
                           "exactly one AND/OR between two filters")
            if i == len(entries) - 1 and i > 0:
                report.add(item, sub + ("operator",), "filters cannot end with an operator",
                           "a filter after every AND/OR")
            previous_was_operator = True
            continue
        previous_was_operator = False
        _check_filter(item, sub, entry, report)


def _check_filter(item: Item, sub: tuple, entry: dict, report: Report) -> None:
    fld = entry.get("field")
    if fld is None:
        report.add(item, sub, "a filter needs 'field' (or is an operator: {operator: AND|OR})",
                   ", ".join(grammar.FIELDS))
        return
    if not isinstance(fld, str):
        return
    rule = grammar.FIELDS.get(fld)
    if rule is None:
        report.add(item, sub + ("field",), f"unknown filter field '{fld}'" + did_you_mean(fld, grammar.FIELDS),
                   ", ".join(grammar.FIELDS))
        return
    if rule.legacy:
        report.warn(item, sub + ("field",), f"field '{fld}' is a legacy filter, not in OneSignal's current "
                    "create-segment field list; the API may refuse it")
    relation = entry.get("relation")
    if rule.value == "location":
        if "relation" in entry:
            report.add(item, sub + ("relation",), "a location filter takes no relation",
                       "{field: location, radius: M, lat: LAT, long: LONG}")
    elif relation is None:
        report.add(item, sub, f"filter on '{fld}' needs 'relation'", ", ".join(rule.relations))
        return
    elif relation not in rule.relations:
        report.add(item, sub + ("relation",), f"relation '{relation}' does not apply to field '{fld}'",
                   ", ".join(rule.relations))
        return
    needed = grammar.keys_used(fld, relation)
    for key in sorted(needed):
        if key not in entry:
            report.add(item, sub, f"filter on '{fld}' with relation '{relation}' needs '{key}'",
                       _operand_hint(fld, key))
    for key in sorted(set(entry) - needed - {"field", "relation"}):
        report.add(item, sub + (key,), f"'{key}' is not used by a '{fld}' filter"
                   + (f" with relation '{relation}'" if relation else ""),
                   ", ".join(["field", "relation", *sorted(needed)]) if needed else "field, relation", key=True)
    _check_operands(item, sub, fld, relation, entry, rule, report)


def _operand_hint(fld: str, key: str) -> str:
    return {
        "hours_ago": "hours as a number, e.g. hours_ago: 72",
        "key": "the tag key, e.g. key: vip",
        "radius": "metres", "lat": "latitude -90..90", "long": "longitude -180..180",
    }.get(key, grammar.FIELDS[fld].hint or "a value")


def _check_operands(item, sub, fld, relation, entry, rule, report) -> None:
    def numeric(key: str) -> None:
        value = entry.get(key)
        if value is None or isinstance(value, bool):
            if isinstance(value, bool):
                report.add(item, sub + (key,), f"'{key}' must be a number, got {value}", "a number")
            return
        if not _NUMBER.match(str(value).strip()):
            report.add(item, sub + (key,), f"'{key}' must be a number, got {value!r}", "a number such as 5 or 1.5")

    if rule.value == "hours_ago":
        numeric("hours_ago")
    if rule.numeric and rule.value == "value" and relation not in grammar.NO_OPERAND:
        numeric("value")
    if relation in ("time_elapsed_gt", "time_elapsed_lt"):
        numeric("value")
    if rule.value == "location":
        for key, low, high in (("radius", 0, None), ("lat", -90, 90), ("long", -180, 180)):
            value = entry.get(key)
            if value is None or isinstance(value, bool):
                continue
            if not _NUMBER.match(str(value).strip()):
                report.add(item, sub + (key,), f"'{key}' must be a number, got {value!r}", _operand_hint(fld, key))
                continue
            number = float(value)
            if number < low or (high is not None and number > high) or (key == "radius" and number <= 0):
                report.add(item, sub + (key,), f"'{key}' is out of range ({value})", _operand_hint(fld, key))
    value = entry.get("value")
    if isinstance(value, bool):
        report.warn(item, sub + ("value",), f"YAML read this value as the boolean {str(value).lower()}; "
                    f"it is sent as \"{str(value).lower()}\"", "quote it, e.g. value: \"yes\"")
    if fld == "country" and isinstance(value, str) and not _COUNTRY.match(value):
        report.add(item, sub + ("value",), f"country {value!r} is not an ISO 3166 alpha-2 code",
                   "two uppercase letters, e.g. US")
    if relation in ("in_array", "not_in_array") and value is not None:
        count = len([v for v in str(value).split(",") if v.strip()])
        if count > grammar.MAX_IN_ARRAY_ITEMS:
            report.add(item, sub + ("value",), f"{relation} takes at most {grammar.MAX_IN_ARRAY_ITEMS} "
                       f"comma-separated items, got {count}", "a comma-separated list of up to 20 items")


def _check_exports(merged: Merged, default_app: str | None, declared: dict, report: Report) -> None:
    names: dict[str, Item] = {}
    for item in merged.exports:
        data = item.data
        if not isinstance(data, dict):
            continue
        app = _resolve_app(item, merged, default_app, report)
        name = data.get("name")
        if isinstance(name, str):
            if name in names:
                first = names[name].where("name")
                report.add(item, ("name",), f"export '{name}' is already declared in {first.file}:{first.line}",
                           "unique export names across all files")
            else:
                names[name] = item
        kind = data.get("kind")
        if kind not in KIND_BLOCKS:
            continue
        for block in KIND_BLOCKS:
            if block != kind and block in data:
                report.add(item, (block,), f"block '{block}' does not fit kind '{kind}'",
                           f"a '{kind}' block (named after the kind)", key=True)
        if kind in BLOCK_REQUIRED and kind not in data:
            report.add(item, (), f"kind '{kind}' needs a '{kind}' block", _block_hint(kind))
        _check_schedule(item, data, report)
        _check_destination(item, data, kind, report)
        block = data.get(kind) if isinstance(data.get(kind), dict) else {}
        if kind == "subscriptions":
            _check_subscriptions(item, block, app, declared, report)
        elif kind in ("audience_activity", "message_history"):
            _check_selector(item, (kind, "messages"), block.get("messages"), kind, report)
        elif kind == "outcomes":
            _check_outcomes(item, block, report)


def _block_hint(kind: str) -> str:
    return {
        "audience_activity": "audience_activity: {messages: {sent_within: 2d}}",
        "message_history": "message_history: {events: sent, messages: {sent_within: 2d}}",
        "outcomes": "outcomes: {names: [os__click.count], time_range: 1d}",
    }[kind]


def _duration(item: Item, sub: tuple, value, report: Report) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError:
        return None  # the schema pattern reported it
    if seconds == 0:
        report.add(item, sub, "a duration of zero", "a positive duration such as 30m")
    return seconds


def _check_schedule(item: Item, data: dict, report: Report) -> None:
    schedule = data.get("schedule")
    if isinstance(schedule, str):
        problem = cron_error(schedule)
        if problem:
            report.add(item, ("schedule",), problem,
                       "5 fields like \"0 3 * * *\", or @hourly, @daily, @weekly, @monthly")
    tz = data.get("timezone")
    if isinstance(tz, str):
        problem = timezone_error(tz)
        if problem:
            report.add(item, ("timezone",), problem, "an IANA name such as UTC or Europe/Berlin")
        if schedule is None:
            report.warn(item, ("timezone",), "timezone has no effect without a schedule")
    _duration(item, ("timeout",), data.get("timeout"), report)


def _check_destination(item: Item, data: dict, kind: str, report: Report) -> None:
    destination = data.get("destination")
    if not isinstance(destination, str):
        return
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(destination) if f is not None]
    except ValueError as exc:
        report.add(item, ("destination",), f"malformed placeholder: {exc}",
                   "placeholders in braces: " + PLACEHOLDER_LIST)
        return
    for name in fields:
        if name not in PLACEHOLDERS:
            report.add(item, ("destination",), f"unknown placeholder '{{{name}}}'" + did_you_mean(name, PLACEHOLDERS),
                       PLACEHOLDER_LIST)
    if "message_id" in fields and kind not in ("audience_activity", "message_history"):
        report.add(item, ("destination",), f"'{{message_id}}' is only known for per-message kinds, not '{kind}'",
                   "audience_activity or message_history")
    if kind in ("audience_activity", "message_history") and "message_id" not in fields:
        report.warn(item, ("destination",), "one file is written per message; without '{message_id}' the "
                    "files get -N suffixes instead of telling which message they hold")
    if destination.endswith("/"):
        report.add(item, ("destination",), "destination names a directory", "a file path such as exports/{date}.csv.gz")


def _check_subscriptions(item: Item, block: dict, app: str | None, declared: dict, report: Report) -> None:
    sub = ("subscriptions",)
    segment = block.get("segment")
    existing = False
    if isinstance(segment, dict):
        existing = segment.get("existing") is True
        segment = segment.get("name")
    if isinstance(segment, str) and app and (app, segment) not in declared and not existing:
        declared_names = [n for (a, n) in declared if a == app]
        report.warn(item, sub + ("segment",), f"segment '{segment}' is not declared for app '{app}'"
                    + did_you_mean(segment, declared_names),
                    "a declared segment, or {name: ..., existing: true} for one managed outside osctl")
    _duration(item, sub + ("last_active_within",), block.get("last_active_within"), report)
    if block.get("include_unsubscribed") and not segment:
        report.warn(item, sub + ("include_unsubscribed",), "include_unsubscribed only matters with a segment")


def _check_selector(item: Item, sub: tuple, selector, kind: str, report: Report) -> None:
    if not isinstance(selector, dict):
        return
    has_ids, has_window = "ids" in selector, "sent_within" in selector
    if has_ids == has_window:
        report.add(item, sub, "a messages selector needs either 'ids' or 'sent_within'" +
                   (", not both" if has_ids else ""), "ids: [UUID, ...] or sent_within: 7d")
    if has_ids:
        for key in ("kind", "settle"):
            if key in selector:
                report.add(item, sub + (key,), f"'{key}' only applies with 'sent_within'", "sent_within", key=True)
    window = _duration(item, sub + ("sent_within",), selector.get("sent_within"), report)
    _duration(item, sub + ("settle",), selector.get("settle"), report)
    if kind == "message_history" and window and window > HISTORY_WINDOW_SECONDS:
        report.warn(item, sub + ("sent_within",), "OneSignal serves message history only for 7 days after a "
                    "send; older messages will be skipped", "7d or less")


def _check_outcomes(item: Item, block: dict, report: Report) -> None:
    names = block.get("names")
    if isinstance(names, list):
        for i, name in enumerate(names):
            if isinstance(name, str) and name.endswith(".sum") and name[:-4] in COUNT_ONLY_OUTCOMES:
                report.add(item, ("outcomes", "names", i), f"'{name[:-4]}' supports only .count",
                           f"{name[:-4]}.count")

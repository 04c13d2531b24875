"""Checks the schema cannot express: references, the filter grammar, cron, zones, limits.

Works on the files of a config directory after each passed through the schema
check (it tolerates values of the wrong type, which the schema already
reported), and returns every problem, never just the first.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field

from osctl import filters as grammar
from osctl.config.model import EXPORT_KINDS, PER_MESSAGE_KINDS, PLACEHOLDER_APP_ID, ExportKind
from osctl.config.schema import did_you_mean, looks_like_secret
from osctl.config.source import Location, SourceDoc
from osctl.diagnostics import Diagnostic, format_path
from osctl.durations import parse_duration
from osctl.exports.remote import cloud_extra_installed, remote_problem, url_scheme
from osctl.schedule import cron_error, timezone_error

PLACEHOLDERS = ("app", "app_id", "export", "kind", "message_id", "date", "time", "tick")
PLACEHOLDER_LIST = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
KIND_BLOCKS = EXPORT_KINDS  # each kind has a settings block named after it
BLOCK_REQUIRED = (ExportKind.AUDIENCE_ACTIVITY, ExportKind.MESSAGE_HISTORY, ExportKind.OUTCOMES)
HISTORY_WINDOW_SECONDS = 7 * 86400
COUNT_ONLY_OUTCOMES = ("os__click", "os__confirmed_delivery")
MAX_DURATION_SECONDS = 3650 * 86400  # ten years; far beyond any export window
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_UUID_SHAPE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ALL_RELATIONS = {r for rule in grammar.FIELDS.values() for r in rule.relations}


@dataclass
class Item:
    """One entry of a list (segments/exports) or mapping (apps) and where it came from."""

    doc: SourceDoc
    path: tuple  # path inside its own file
    data: object

    def where(self, *sub: str | int, key: bool = False) -> Location:
        return self.doc.where(self.path + tuple(sub), key=key)


@dataclass
class Merged:
    """All files of a config directory, side by side."""

    directory: str
    versions: list[Item] = field(default_factory=list)
    apps: dict[str, Item] = field(default_factory=dict)
    states: list[Item] = field(default_factory=list)
    storages: list[Item] = field(default_factory=list)
    segments: list[Item] = field(default_factory=list)
    exports: list[Item] = field(default_factory=list)
    test_users: list[Item] = field(default_factory=list)
    imports: list[Item] = field(default_factory=list)
    files: list[SourceDoc] = field(default_factory=list)
    # some file could not be read: what seems missing may be in it, so
    # "missing" and "unknown reference" checks would only add noise
    incomplete: bool = False
    apps_written: bool = False  # some file has an `apps:` key (the schema reports its shape)


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


def merge(directory: str, docs: list[SourceDoc], report: Report, *, incomplete: bool = False) -> Merged:
    merged = Merged(directory, files=list(docs), incomplete=incomplete)
    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            continue
        if "osctl" in data:
            merged.versions.append(Item(doc, ("osctl",), data["osctl"]))
        merged.apps_written |= "apps" in data
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
        if isinstance(data.get("storage"), dict):
            merged.storages.append(Item(doc, ("storage",), data["storage"]))
        for collection in ("segments", "exports", "test_users", "imports"):
            entries = data.get(collection)
            if isinstance(entries, list):
                target = getattr(merged, collection)
                target.extend(Item(doc, (collection, i), e) for i, e in enumerate(entries))
    return merged


def check_file(doc: SourceDoc, report: Report) -> None:
    """The checks that need nothing from other files: each segment's filters.

    Run on every file before check(); a large config reads its files in
    parallel, and these checks go along with the reading.
    """
    entries = doc.data.get("segments") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        return
    for index, segment in enumerate(entries):
        filters = segment.get("filters") if isinstance(segment, dict) else None
        if isinstance(filters, list):
            check_filters(Item(doc, ("segments", index), segment), filters, report)


def check(merged: Merged, report: Report) -> None:
    """The checks across files (check_file has checked each file on its own)."""
    _check_version_and_state(merged, report)
    default_app = next(iter(merged.apps)) if len(merged.apps) == 1 else None
    declared = _check_segments(merged, default_app, report)
    _check_renames(declared, report)
    _check_exports(merged, default_app, declared, report)
    _check_imports(merged, default_app, declared, report)
    from osctl.config import test_users  # it builds on this module's Item and Report

    test_users.check(merged, default_app, report)


def _whole_config(merged: Merged) -> tuple[str, int, int]:
    """Where to report something missing from every file: the first file, else the directory."""
    if merged.files:
        return merged.files[0].file, 1, 1
    return merged.directory, 0, 0


def _check_version_and_state(merged: Merged, report: Report) -> None:
    if not merged.versions and not merged.incomplete:
        report.items.append(Diagnostic(*_whole_config(merged), "osctl",
                                       "no file declares the config format version",
                                       "'osctl: 1' at the top of exactly one file"))
    for extra in merged.versions[1:]:
        first = merged.versions[0].where(key=True)
        report.add(extra, (), f"'osctl' is already declared in {first.file}:{first.line}",
                   "'osctl: 1' in exactly one file", key=True)
    if not merged.apps and not merged.apps_written and not merged.incomplete:
        report.items.append(Diagnostic(*_whole_config(merged), "apps", "no app is declared",
                                       "an 'apps:' mapping with at least one app (alias: {app_id: UUID})"))
    by_app_id: dict[str, Item] = {}
    for alias, item in merged.apps.items():
        _check_app(item, report)
        app_id = item.data.get("app_id") if isinstance(item.data, dict) else None
        if isinstance(app_id, str):
            first_app = by_app_id.setdefault(app_id.lower(), item)
            if first_app is not item:  # a copied block: the second alias would manage segments in the first app
                where = first_app.where("app_id")
                report.add(item, ("app_id",), f"app '{alias}' has the same app_id as app '{first_app.path[-1]}' "
                           f"({where.file}:{where.line})", "each OneSignal app under one alias; fix the app_id")
    for extra in merged.states[1:]:
        first = merged.states[0].where(key=True)
        report.add(extra, (), f"'state' is already configured in {first.file}:{first.line}",
                   "one 'state:' block across all files", key=True)
    for extra in merged.storages[1:]:
        first = merged.storages[0].where(key=True)
        report.add(extra, (), f"'storage' is already configured in {first.file}:{first.line}",
                   "one 'storage:' block across all files", key=True)
    for item in merged.states[:1]:
        state = item.data if isinstance(item.data, dict) else {}
        backend = state.get("backend", "local")
        wrong = {"local": ("dsn_env", "workspace"), "postgres": ("path",)}.get(backend, ()) \
            if isinstance(backend, str) else ()
        for key in wrong:
            if key in state:
                report.add(item, (key,), f"'{key}' does not apply to the {backend} backend",
                           "path for local; dsn_env and workspace for postgres", key=True)
        _check_secret_name(item, ("dsn_env",), state.get("dsn_env"), report)


def _check_app(item: Item, report: Report) -> None:
    if not isinstance(item.data, dict):
        return
    _check_secret_name(item, ("api_key_env",), item.data.get("api_key_env"), report)
    if str(item.data.get("app_id", "")).lower() == PLACEHOLDER_APP_ID:
        # valid UUID, so not an error offline; OneSignal would refuse every call with 403
        report.warn(item, ("app_id",), "is the placeholder 'osctl init' writes, not a OneSignal app; "
                    "plan and apply will be refused (403)",
                    "your App ID from the OneSignal dashboard > Settings > Keys & IDs")


def _check_secret_name(item: Item, sub: tuple, value: object, report: Report) -> None:
    """api_key_env / dsn_env must name a variable; a key pasted there must not be echoed."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and looks_like_secret(value):
        report.add(item, sub, "looks like a secret itself, not the name of an environment variable "
                   "(value not shown); remove it from the file and rotate it if it was committed",
                   "the NAME of an env var, e.g. ONESIGNAL_PROD_KEY, that holds the secret")


def _resolve_app(item: Item, merged: Merged, default_app: str | None, report: Report) -> str | None:
    data = item.data if isinstance(item.data, dict) else {}  # callers pass mappings
    app = data.get("app")
    if app is None:
        if default_app is None and merged.apps:
            report.add(item, (), "'app' is required when several apps are declared",
                       "app: one of " + ", ".join(merged.apps))
        return default_app
    if not isinstance(app, str):
        return None
    if app not in merged.apps:
        if merged.apps and not merged.incomplete:
            report.add(item, ("app",), f"unknown app '{app}'" + did_you_mean(app, merged.apps),
                       ", ".join(merged.apps))
        return None
    return app


def _check_segments(merged: Merged, default_app: str | None, report: Report) -> dict[tuple, Item]:
    declared: dict[tuple, Item] = {}
    look_alikes: dict[tuple, Item] = {}
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
                _check_segment_name(item, app, name, look_alikes, report)
    return declared


def _check_segment_name(item: Item, app: str, name: str, seen: dict, report: Report) -> None:
    """Names the dashboard would show as something else, or as another declared segment."""
    from osctl.config.names import look_alike_key, name_problem, same_text

    problem = name_problem(name)
    if problem:
        report.add(item, ("name",), problem, "letters, digits, punctuation and single spaces; "
                   "a name without spaces at either end")
        return
    first = seen.setdefault((app, look_alike_key(name)), item)
    if first is not item:
        where = first.where("name")
        why = ("the same text in another Unicode form, such as é as one character or as e + combining accent"
               if same_text(name, first.data["name"]) else
               "names are compared ignoring letter case, Unicode form and repeated spaces")
        report.add(item, ("name",), f"segment '{name}' of app '{app}' looks the same as '{first.data['name']}' "
                   f"at {where.file}:{where.line} ({why})",
                   "names that differ in more than letter case, Unicode form or spacing")


def _check_renames(declared: dict[tuple, Item], report: Report) -> None:
    """renamed_from must name an earlier segment: not itself, not one still declared, not one
    another segment also claims (state under that name would belong to two segments)."""
    claimed: dict[tuple, Item] = {}
    for (app, name), item in declared.items():
        old = item.data.get("renamed_from") if isinstance(item.data, dict) else None
        old_names = [old] if isinstance(old, str) else old if isinstance(old, list) else []
        for index, old_name in enumerate(old_names):
            if not isinstance(old_name, str):
                continue
            sub = ("renamed_from",) if isinstance(old, str) else ("renamed_from", index)
            if old_name == name:
                report.add(item, sub, "a segment cannot be renamed from its own name",
                           "an earlier name of this segment, or remove renamed_from")
            elif (app, old_name) in declared:
                other = declared[(app, old_name)].where("name")
                report.add(item, sub, f"segment '{old_name}' is still declared ({other.file}:{other.line})",
                           "an earlier name no segment uses any more")
            elif (app, old_name) in claimed and claimed[(app, old_name)] is not item:
                first = claimed[(app, old_name)].where("name")
                report.add(item, sub, f"'{old_name}' is already in the renamed_from of another segment "
                           f"({first.file}:{first.line})", "each earlier name in one segment's renamed_from")
            else:
                claimed[(app, old_name)] = item


def _check_imports(merged: Merged, default_app: str | None, declared: dict, report: Report) -> None:
    """Each import block names a declared segment, and no segment or id is imported twice."""
    by_segment: dict[tuple, Item] = {}
    by_id: dict[str, Item] = {}
    for item in merged.imports:
        if not isinstance(item.data, dict):
            continue
        app = _resolve_app(item, merged, default_app, report)
        name, segment_id = item.data.get("segment"), item.data.get("id")
        if not app or not isinstance(name, str) or not isinstance(segment_id, str):
            continue
        if (app, name) not in declared and not merged.incomplete:
            report.add(item, ("segment",), f"segment '{name}' of app '{app}' is imported but not declared",
                       "a segments: entry with this name (osctl generate writes both)")
        if (app, name) in by_segment:
            first = by_segment[(app, name)].where("segment")
            report.add(item, ("segment",), f"segment '{name}' of app '{app}' is already imported in "
                       f"{first.file}:{first.line}", "one import block per segment")
        else:
            by_segment[(app, name)] = item
        if segment_id.lower() in by_id:
            first = by_id[segment_id.lower()].where("id")
            report.add(item, ("id",), f"segment id {segment_id} is already imported in {first.file}:{first.line}",
                       "each live segment imported once")
        else:
            by_id[segment_id.lower()] = item


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
    if "field" not in entry:
        if set(entry) <= set(grammar.FILTER_KEYS):  # else the schema's "unknown key" says it better
            report.add(item, sub, "a filter needs 'field' (or is an operator: {operator: AND|OR})",
                       "field: one of " + ", ".join(grammar.FIELDS))
        return
    fld = entry["field"]
    if not isinstance(fld, str):
        return  # the schema reported the type
    rule = grammar.FIELDS.get(fld)
    if rule is None:
        report.add(item, sub + ("field",), f"unknown filter field '{fld}'" + did_you_mean(fld, grammar.FIELDS),
                   ", ".join(grammar.FIELDS))
        return
    if rule.legacy:
        report.warn(item, sub + ("field",), f"field '{fld}' is a legacy filter, not in OneSignal's current "
                    "create-segment field list; the API may refuse it",
                    ", ".join(name for name, r in grammar.FIELDS.items() if not r.legacy))
    relation = entry.get("relation")
    if relation is not None and (not isinstance(relation, str) or relation not in ALL_RELATIONS):
        return  # the schema reported the type or the unknown relation (with a did-you-mean)
    if rule.value == "location":
        if "relation" in entry:
            report.add(item, sub + ("relation",), "a location filter takes no relation",
                       "{field: location, radius: M, lat: LAT, long: LONG}", key=True)
    elif relation is None:
        report.add(item, sub, f"filter on '{fld}' needs 'relation'", "relation: one of " + ", ".join(rule.relations))
        return
    elif relation not in rule.relations:
        report.add(item, sub + ("relation",), f"relation '{relation}' does not apply to field '{fld}'",
                   ", ".join(rule.relations))
        return
    needed = grammar.keys_used(fld, relation)
    missing = sorted(k for k in needed if k not in entry)
    # unknown keys: the schema reported them with a did-you-mean
    unused = sorted((set(entry) & set(grammar.FILTER_KEYS)) - needed - {"field", "relation"})
    with_relation = f" with relation '{relation}'" if relation else ""
    if len(missing) == 1 and len(unused) == 1:  # `value: 72` where `hours_ago: 72` was meant
        report.add(item, sub + (unused[0],), f"a '{fld}' filter{with_relation} takes '{missing[0]}', "
                   f"not '{unused[0]}'", f"{missing[0]}: {_operand_hint(fld, missing[0])}", key=True)
        missing = unused = []
    for key in missing:
        report.add(item, sub, f"filter on '{fld}'{with_relation} needs '{key}'", f"{key}: {_operand_hint(fld, key)}")
    for key in unused:
        report.add(item, sub + (key,), f"'{key}' is not used by a '{fld}' filter{with_relation}",
                   "remove it; this filter takes " + ", ".join(["field", "relation", *sorted(needed)]), key=True)
    _check_operands(item, sub, fld, relation, entry, rule, report)


def _operand_hint(fld: str, key: str) -> str:
    return {
        "hours_ago": "hours as a number, e.g. hours_ago: 72",
        "key": "the tag key, e.g. key: vip",
        "radius": "metres, a positive number", "lat": "latitude -90..90", "long": "longitude -180..180",
    }.get(key) or grammar.FIELDS[fld].hint or ("a number, e.g. value: 5" if grammar.FIELDS[fld].numeric
                                               else "the text to compare with")


def _finite(value: object) -> float | None:
    """The number in a YAML number or numeric string; None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and not _NUMBER.match(value.strip()):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _check_operands(item: Item, sub: tuple, fld: str, relation: str | None, entry: dict, rule: grammar.FieldRule,
                    report: Report) -> None:
    numeric_keys: set[str] = set()
    if rule.value == "hours_ago":
        numeric_keys.add("hours_ago")
    if (rule.numeric and rule.value == "value" and relation not in grammar.NO_OPERAND) or \
            relation in ("time_elapsed_gt", "time_elapsed_lt"):
        numeric_keys.add("value")
    for key in sorted(numeric_keys & set(entry)):
        value = entry[key]
        if isinstance(value, (list, dict)) or value is None:
            continue  # the schema reported the type
        number = _finite(value)
        if number is None:
            shown = str(value).lower() if isinstance(value, bool) else repr(value)
            report.add(item, sub + (key,), f"'{key}' must be a number, got {shown}",
                       "a number such as 5 or 1.5" if key == "value" else _operand_hint(fld, key))
        elif key == "hours_ago" and number < 0:
            report.add(item, sub + (key,), f"'hours_ago' cannot be negative ({value})", _operand_hint(fld, key))
        else:
            _check_yaml_reading(item, sub + (key,), value, report, numeric=True)
    if rule.value == "location":
        for key, low, high in (("radius", 0, None), ("lat", -90, 90), ("long", -180, 180)):
            value = entry.get(key)
            if value is None or isinstance(value, (list, dict)):
                continue
            number = _finite(value)
            if number is None:
                shown = str(value).lower() if isinstance(value, bool) else repr(value)
                report.add(item, sub + (key,), f"'{key}' must be a finite number, got {shown}",
                           _operand_hint(fld, key))
            elif number < low or (high is not None and number > high) or (key == "radius" and number <= 0):
                report.add(item, sub + (key,), f"'{key}' is out of range ({value})", _operand_hint(fld, key))
            else:
                _check_yaml_reading(item, sub + (key,), value, report, numeric=True)
    value = entry.get("value")
    if "value" in entry and "value" not in numeric_keys and isinstance(value, (bool, int, float)):
        _check_yaml_reading(item, sub + ("value",), value, report, numeric=False)
    if fld == "country" and isinstance(value, str) and not _COUNTRY.match(value):
        hint = f"; did you mean '{value.upper()}'?" if _COUNTRY.match(value.upper()) else ""
        report.add(item, sub + ("value",), f"country {value!r} is not an ISO 3166 alpha-2 code{hint}",
                   "two uppercase letters, e.g. US, DE, GB")
    if relation in ("in_array", "not_in_array") and value is not None:
        count = len([v for v in str(value).split(",") if v.strip()])
        if count > grammar.MAX_IN_ARRAY_ITEMS:
            report.add(item, sub + ("value",), f"{relation} takes at most {grammar.MAX_IN_ARRAY_ITEMS} "
                       f"comma-separated items, got {count}", "a comma-separated list of up to 20 items")


def _check_yaml_reading(item: Item, sub: tuple, value: str | int | float, report: Report, *,
                        numeric: bool) -> None:
    """An unquoted scalar YAML turned into something other than what was written.

    `012` is octal 10, `1:30` is 90, `5.10` is 5.1 and `yes` is true in YAML 1.1:
    sending those would silently change the filter. Numeric operands only care
    about the number; text operands (tag values, versions) about every character.
    """
    raw = item.doc.raw(item.path + sub)
    if raw is None:
        return
    sent = _as_sent(value)
    if numeric:
        try:
            same = not isinstance(value, bool) and float(raw.replace("_", "")) == float(value)
        except ValueError:
            same = False
    else:
        same = sent == raw
    if not same:
        kind = "boolean" if isinstance(value, bool) else "number"
        valid = ("a plain decimal number such as 12 or 1.5" if numeric
                 else f"quote it to send it as written: {sub[-1]}: \"{raw}\"")
        report.add(item, sub, f"YAML reads {raw} as the {kind} {sent}, so \"{sent}\" would be sent", valid)


def _as_sent(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return grammar.canonical_entry({"field": "", "value": value})["value"]


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
        _check_schedule(item, data, report)
        if kind not in KIND_BLOCKS:
            _check_destination(item, data, None, report)
            continue  # the schema reported the kind; its block cannot be judged
        for other in KIND_BLOCKS:
            if other != kind and other in data:
                report.add(item, (other,), f"block '{other}' does not fit kind '{kind}'",
                           f"a '{kind}' block (named after the kind)", key=True)
        if kind in BLOCK_REQUIRED and kind not in data:
            report.add(item, (), f"kind '{kind}' needs a '{kind}' block", _block_hint(kind))
        _check_destination(item, data, kind, report)
        written = data.get(kind)
        block = written if isinstance(written, dict) else {}
        if kind == ExportKind.SUBSCRIPTIONS:
            _check_subscriptions(item, block, app, declared, report)
        elif kind in PER_MESSAGE_KINDS:
            _check_selector(item, (kind, "messages"), block.get("messages"), kind, report)
        elif kind == ExportKind.OUTCOMES:
            _check_outcomes(item, block, report)


def _block_hint(kind: str) -> str:
    hints: dict[str, str] = {  # ExportKind members are strs: a kind as written finds its hint
        ExportKind.AUDIENCE_ACTIVITY: "audience_activity: {messages: {sent_within: 2d}}",
        ExportKind.MESSAGE_HISTORY: "message_history: {events: sent, messages: {sent_within: 2d}}",
        ExportKind.OUTCOMES: "outcomes: {names: [os__click.count], time_range: 1d}",
    }
    return hints[kind]


def _duration(item: Item, sub: tuple, value: object, report: Report) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError:
        return None  # the schema pattern reported it
    if seconds == 0:
        report.add(item, sub, "a duration of zero", "a positive duration such as 30m")
    elif seconds > MAX_DURATION_SECONDS:
        report.add(item, sub, f"a duration of {value} is longer than osctl supports", "at most 3650d")
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
            report.warn(item, ("timezone",), "timezone has no effect without a schedule",
                        "add a schedule, or remove timezone")
    _duration(item, ("timeout",), data.get("timeout"), report)


def _check_destination(item: Item, data: dict, kind: str | None, report: Report) -> None:
    destination = data.get("destination")
    if not isinstance(destination, str):
        return
    remote = url_scheme(destination) is not None
    if remote:
        _check_remote_destination(item, destination, report)
    try:
        parts = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(destination)
                 if name is not None]
    except ValueError as exc:
        report.add(item, ("destination",), f"malformed placeholder: {exc}",
                   "placeholders in braces: " + PLACEHOLDER_LIST + "; a literal brace is written {{ or }}")
        return
    fields = []
    for name, spec, conversion in parts:
        if name not in PLACEHOLDERS:
            report.add(item, ("destination",), f"unknown placeholder '{{{name}}}'" + did_you_mean(name, PLACEHOLDERS),
                       PLACEHOLDER_LIST)
        elif spec or conversion:
            report.add(item, ("destination",), f"placeholder '{{{name}}}' takes no format or conversion",
                       f"{{{name}}} alone; " + PLACEHOLDER_LIST)
        fields.append(name)
    if kind is None:
        return
    if "message_id" in fields and kind not in PER_MESSAGE_KINDS:
        report.add(item, ("destination",), f"'{{message_id}}' is only known for per-message kinds, not '{kind}'",
                   "remove it; {message_id} works with kind audience_activity or message_history")
    if kind in PER_MESSAGE_KINDS and "message_id" not in fields:
        report.warn(item, ("destination",), "one file is written per message; without '{message_id}' the "
                    "files get -N suffixes instead of telling which message they hold",
                    "add {message_id}, e.g. exports/{export}/{date}-{message_id}.csv.gz")
    if destination.endswith(("/", "\\")) or destination in (".", ".."):
        report.add(item, ("destination",), "destination names a directory", "a file path such as exports/{date}.csv.gz")
        return
    if not remote:
        _check_local_destination(item, destination, report)


def _check_local_destination(item: Item, destination: str, report: Report) -> None:
    """Inside the config directory, named .csv.gz."""
    from osctl.exports.naming import local_destination_problem

    problem = local_destination_problem(destination)
    if problem:
        report.add(item, ("destination",), *problem)


def _check_remote_destination(item: Item, destination: str, report: Report) -> None:
    """An object-store URL (s3://bucket/key): a separate branch from local paths."""
    problem = remote_problem(destination)
    if problem:
        report.add(item, ("destination",), problem[0], problem[1])
        return
    if not cloud_extra_installed():
        scheme = url_scheme(destination)
        report.add(item, ("destination",), f"{scheme}:// destinations need the cloud extra, which is not installed",
                   "pip install 'osctl[cloud]' (or a local path such as exports/{export}/{date}.csv.gz)")


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
    if block.get("include_unsubscribed") is True and not segment:
        report.warn(item, sub + ("include_unsubscribed",), "include_unsubscribed only matters with a segment",
                    "add segment: NAME, or remove include_unsubscribed")


def _check_selector(item: Item, sub: tuple, selector: object, kind: str, report: Report) -> None:
    if not isinstance(selector, dict):
        return
    has_ids, has_window = "ids" in selector, "sent_within" in selector
    if has_ids and has_window:
        report.add(item, sub, "a messages selector takes either 'ids' or 'sent_within', not both",
                   "ids: [UUID, ...] or sent_within: 7d")
    elif not has_ids and not has_window:
        report.add(item, sub, "a messages selector needs 'ids' or 'sent_within'",
                   "ids: [UUID, ...] or sent_within: 7d")
    if has_ids and not has_window:
        for key in ("kind", "settle"):
            if key in selector:
                report.add(item, sub + (key,), f"'{key}' only applies with 'sent_within', not with 'ids'",
                           f"remove {key}, or select messages with sent_within instead of ids", key=True)
    ids = selector.get("ids")
    if isinstance(ids, list):
        seen: dict[str, int] = {}
        for i, message_id in enumerate(ids):
            if isinstance(message_id, str) and _UUID_SHAPE.match(message_id):
                if message_id.lower() in seen:
                    report.add(item, sub + ("ids", i), f"message {message_id} is listed twice "
                               f"(also entry {seen[message_id.lower()]})", "each message id once")
                seen.setdefault(message_id.lower(), i)
    window = _duration(item, sub + ("sent_within",), selector.get("sent_within"), report)
    _duration(item, sub + ("settle",), selector.get("settle"), report)
    if kind == ExportKind.MESSAGE_HISTORY and window and window > HISTORY_WINDOW_SECONDS:
        report.warn(item, sub + ("sent_within",), "OneSignal serves message history only for 7 days after a "
                    "send; older messages will be skipped", "7d or less")


def _check_outcomes(item: Item, block: dict, report: Report) -> None:
    names = block.get("names")
    if isinstance(names, list):
        for i, name in enumerate(names):
            if isinstance(name, str) and name.endswith(".sum") and name[:-4] in COUNT_ONLY_OUTCOMES:
                report.add(item, ("outcomes", "names", i), f"'{name[:-4]}' supports only .count",
                           f"{name[:-4]}.count")

"""Offline checks of test users and their guard rails, and their model. Pure.

The guard rails (`apps.<alias>.test_users`) come first: a test user of an app
without them is an error, because they are what keeps osctl away from real
people (see osctl.users.guards). Then each user on its own (prefix, allowed
addresses, reserved keys, limits) and across the config (an external id once
per app; an address, an alias or a device once in the whole config, since
OneSignal gives each to one user only and would move it between two).
"""

from __future__ import annotations

from osctl.config.schema import did_you_mean
from osctl.config.semantic import Item, Merged, Report, _as_sent, _check_yaml_reading, _resolve_app
from osctl.schedule import timezone_error
from osctl.users.guards import E164, EMAIL, GuardRails
from osctl.users.model import (
    MAX_ALIASES,
    MAX_SUBSCRIPTIONS,
    RESERVED_ALIAS_LABELS,
    RESERVED_TAG_KEYS,
    DeclaredUser,
)

RAILS_EXAMPLE = '{external_id_prefix: "qa-", email_domains: [example.com], sms_numbers: ["+15555550100"]}'


def rails_of(app_data: object) -> GuardRails | None:
    """The guard rails declared in one app's block, or None (also when their shape is wrong)."""
    block = app_data.get("test_users") if isinstance(app_data, dict) else None
    if not isinstance(block, dict) or not isinstance(block.get("external_id_prefix"), str):
        return None
    lists = [block.get(name, []) for name in ("email_domains", "sms_numbers")]
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists):
        return None  # the schema reported it; half a list would refuse addresses the user allowed
    return GuardRails(external_id_prefix=block["external_id_prefix"], email_domains=tuple(lists[0]),
                      sms_numbers=tuple(lists[1]))


def declared_user(data: dict, app: str) -> DeclaredUser:
    """The model of a checked test_users entry; tag values as they are sent (strings)."""
    return DeclaredUser(
        app=app,
        external_id=data["external_id"],
        aliases=dict(data.get("aliases") or {}),
        tags={str(k): _as_sent(v) for k, v in (data.get("tags") or {}).items()},
        language=data.get("language"),
        timezone_id=data.get("timezone_id"),
        subscriptions=tuple((s["type"], s["token"]) for s in data.get("subscriptions") or ()),
        devices=tuple(d.lower() for d in data.get("devices") or ()),
    )


def check(merged: Merged, default_app: str | None, report: Report) -> None:
    external_ids: dict[tuple[str, str], Item] = {}
    claimed: dict[tuple, tuple[Item, tuple]] = {}  # an address, alias or device -> where it is declared
    for item in merged.test_users:
        data = item.data
        if not isinstance(data, dict):
            continue
        app = _resolve_app(item, merged, default_app, report)
        rails = None
        if app is not None:
            rails = rails_of(merged.apps[app].data)
            if rails is None and not _rails_written(merged.apps[app].data):
                report.add(item, ("app",) if "app" in data else (),
                           f"app '{app}' has no test_users guard rails",
                           f"apps.{app}.test_users: {RAILS_EXAMPLE}, declared before any test user of the app")
        external_id = data.get("external_id")
        if isinstance(external_id, str) and app is not None:
            if rails is not None and not rails.owns(external_id):
                report.add(item, ("external_id",), f"external_id '{external_id}' does not start with the "
                           f"prefix '{rails.external_id_prefix}' of app '{app}'",
                           f"an external_id starting with '{rails.external_id_prefix}' "
                           f"(apps.{app}.test_users.external_id_prefix)")
            first = external_ids.setdefault((app, external_id), item)
            if first is not item:
                where = first.where("external_id")
                report.add(item, ("external_id",), f"test user '{external_id}' of app '{app}' is already "
                           f"declared in {where.file}:{where.line}", "each external_id once per app")
        _check_aliases(item, data.get("aliases"), app, claimed, report)
        _check_tags(item, data.get("tags"), report)
        timezone = data.get("timezone_id")
        if isinstance(timezone, str):
            problem = timezone_error(timezone)
            if problem:
                report.add(item, ("timezone_id",), problem, "an IANA name such as UTC or Europe/Berlin")
        _check_subscriptions(item, data, app, rails, claimed, report)


def _rails_written(app_data: object) -> bool:
    """The app has a test_users block, though not a usable one: the schema reported its shape."""
    return isinstance(app_data, dict) and "test_users" in app_data


def _claim(item: Item, sub: tuple, key: tuple, what: str, claimed: dict, report: Report, *,
           at_key: bool = False) -> None:
    first = claimed.setdefault(key, (item, sub))
    if first[0] is not item or first[1] != sub:
        where = first[0].where(*first[1], key=at_key)
        report.add(item, sub, f"{what} is already declared in {where.file}:{where.line}",
                   "each address, alias and device for one test user only: OneSignal would move it "
                   "between them", key=at_key)


def _check_aliases(item: Item, aliases: object, app: str | None, claimed: dict, report: Report) -> None:
    if not isinstance(aliases, dict):
        return
    if len(aliases) > MAX_ALIASES:
        report.add(item, ("aliases",), f"has {len(aliases)} aliases", f"at most {MAX_ALIASES} aliases per user")
    for label, value in aliases.items():
        if label == "":
            report.add(item, ("aliases", label), "an alias label is empty", "a label such as crm_id", key=True)
        elif label in RESERVED_ALIAS_LABELS:
            valid = ("the external_id key of the test user" if label == "external_id"
                     else "nothing: OneSignal assigns onesignal_id")
            report.add(item, ("aliases", label), f"'{label}' is not a custom alias label", valid, key=True)
        elif isinstance(value, str) and app is not None:
            _claim(item, ("aliases", label), ("alias", app, label, value), f"alias {label} '{value}'",
                   claimed, report)


def _check_tags(item: Item, tags: object, report: Report) -> None:
    if not isinstance(tags, dict):
        return
    for key, value in tags.items():
        if key == "":
            report.add(item, ("tags", key), "a tag key is empty", "a key such as qa", key=True)
        elif isinstance(key, str) and key.lower() in RESERVED_TAG_KEYS:
            report.add(item, ("tags", key), f"tag key '{key}' is reserved by OneSignal",
                       "any other key; reserved: " + ", ".join(RESERVED_TAG_KEYS), key=True)
        if value == "":
            # OneSignal removes a tag sent as "" (docs/onesignal-api.md#users-and-subscriptions):
            # it could never be set, and every apply would wait for it, then fail
            report.add(item, ("tags", key), f"tag '{key}' is empty, and OneSignal removes a tag set to \"\"",
                       "a value of at least 1 character; to remove the tag, leave it out")
        if isinstance(value, (bool, int, float)):
            _check_yaml_reading(item, ("tags", key), value, report, numeric=False)


def _check_subscriptions(item: Item, data: dict, app: str | None, rails: GuardRails | None, claimed: dict,
                         report: Report) -> None:
    written_subscriptions, written_devices = data.get("subscriptions"), data.get("devices")
    subscriptions = written_subscriptions if isinstance(written_subscriptions, list) else []
    devices = written_devices if isinstance(written_devices, list) else []
    total = len(subscriptions) + len(devices)
    if total > MAX_SUBSCRIPTIONS:
        report.add(item, ("subscriptions",) if subscriptions else ("devices",),
                   f"{len(subscriptions)} subscriptions and {len(devices)} devices make {total}",
                   f"at most {MAX_SUBSCRIPTIONS} subscriptions per user, devices included")
    for index, entry in enumerate(subscriptions):
        if not isinstance(entry, dict):
            continue
        kind, token = entry.get("type"), entry.get("token")
        if kind not in ("Email", "SMS") or not isinstance(token, str):
            continue  # the schema reported it
        sub = ("subscriptions", index, "token")
        if _token_problem(item, sub, kind, token, app, rails, report):
            continue
        normal = token.lower() if kind == "Email" else token
        _claim(item, sub, ("token", kind, normal), f"{kind} {token}", claimed, report)
    for index, device in enumerate(devices):
        if isinstance(device, str):
            _claim(item, ("devices", index), ("device", device.lower()), f"device {device}", claimed, report)


def _token_problem(item: Item, sub: tuple, kind: str, token: str, app: str | None, rails: GuardRails | None,
                   report: Report) -> bool:
    if kind == "Email" and not EMAIL.match(token):
        report.add(item, sub, f"{token!r} is not an email address", "an address such as alice+qa@example.com")
        return True
    if kind == "SMS" and not E164.match(token):
        report.add(item, sub, f"{token!r} is not an E.164 phone number",
                   'a + then country code and number, digits only, in quotes: "+15555550100"')
        return True
    problem = rails.token_problem(kind, token) if rails is not None else None
    if rails is not None and problem:
        setting = "email_domains" if kind == "Email" else "sms_numbers"
        allowed = rails.email_domains if kind == "Email" else rails.sms_numbers
        hint = did_you_mean(token.rsplit("@", 1)[-1], allowed) if kind == "Email" else ""
        report.add(item, sub, problem + hint, f"one allowed by apps.{app}.test_users.{setting}, or add it there")
        return True
    return False

"""Users, aliases and subscriptions (docs/onesignal-api.md#users-and-subscriptions).

Writes are answered 202 (201 for a new user or subscription) and go through
`Users.later`, so a write delay set through the control API makes them visible
only later, as OneSignal's asynchronous processing does. Every request first
settles the writes whose time has come.
"""

from __future__ import annotations

from typing import Any

from osctl.emulator.core import Core, fail, json_body
from osctl.emulator.server import Request, Response, json_response
from osctl.emulator.users import (
    MAX_ALIASES,
    MAX_SUBSCRIPTIONS,
    PROPERTY_KEYS,
    READ_ONLY_LABELS,
    SUBSCRIPTION_TYPES,
    User,
    Users,
    UserSubscription,
)
from osctl.emulator.world import App

ErrorBody = dict[str, list[dict[str, Any]]]  # {"errors": [{"code", "title", "meta"}]}
USER_NOT_FOUND: ErrorBody = {"errors": [{"code": "user-2", "title": "User not found", "meta": {}}]}
SUBSCRIPTION_NOT_FOUND: ErrorBody = {"errors": [{"code": "subscription-0", "title": "Subscription not found", "meta": {}}]}


def _users(core: Core, app: App) -> Users:
    app.users.settle(core.clock.now())
    return app.users


def _body(request: Request) -> dict:
    body = json_body(request, required=True)
    if not isinstance(body, dict):
        raise fail(400, "the request body must be a JSON object")
    return body


def _identity(value: Any, *, allow_empty: bool = False) -> dict[str, str]:
    if value is None and allow_empty:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                                for k, v in value.items()):
        raise fail(400, "identity must be an object of alias labels to non-empty strings")
    if any(label in READ_ONLY_LABELS for label in value):
        raise fail(400, "onesignal_id cannot be set")
    if len([k for k in value if k != "external_id"]) > MAX_ALIASES:
        raise fail(400, f"a user may have at most {MAX_ALIASES} aliases")
    return dict(value)


def _properties(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(400, "properties must be an object")
    unknown = set(value) - set(PROPERTY_KEYS)
    if unknown:
        raise fail(400, f"unknown properties: {', '.join(sorted(unknown))}")
    tags = value.get("tags")
    if tags is not None and (not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values())):
        raise fail(400, "tags must be an object of string values")
    for key in ("language", "timezone_id", "country"):
        if key in value and not isinstance(value[key], str):
            raise fail(400, f"{key} must be a string")
    return dict(value)


def _subscription(value: Any) -> dict:
    if not isinstance(value, dict) or value.get("type") not in SUBSCRIPTION_TYPES:
        raise fail(400, "subscription.type must be one of " + ", ".join(SUBSCRIPTION_TYPES))
    token = value.get("token")
    if not isinstance(token, str) or not token:
        raise fail(400, "subscription.token is required")
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail(400, "subscription.enabled must be true or false")
    return {"type": value["type"], "token": token, "enabled": enabled}


def _merge_properties(user: User, properties: dict) -> None:
    tags = dict(user.properties.get("tags") or {})
    for key, value in (properties.get("tags") or {}).items():
        if value == "":
            tags.pop(key, None)  # an empty value removes the tag
        else:
            tags[key] = value
    user.properties.update({k: v for k, v in properties.items() if k != "tags"})
    user.properties["tags"] = tags


def _find(users: Users, label: str, alias_id: str) -> User:
    user = users.find(label, alias_id)
    if user is None:
        raise fail(404, USER_NOT_FOUND["errors"][0]) from None
    return user


def _written(core: Core, users: Users, status_when_visible: int, payload: dict) -> Response:
    return json_response(status_when_visible if users.write_delay <= 0 else 202, payload)


def create_user(core: Core, request: Request, app: App) -> Response:
    users = _users(core, app)
    body = _body(request)
    identity = _identity(body.get("identity"), allow_empty=True)
    properties = _properties(body.get("properties"))
    subscriptions = body.get("subscriptions") or []
    if not isinstance(subscriptions, list) or len(subscriptions) > MAX_SUBSCRIPTIONS:
        raise fail(400, f"subscriptions must be a list of at most {MAX_SUBSCRIPTIONS}")
    wanted = [_subscription(s) for s in subscriptions]
    with core.world.lock:
        owners = {label: users.find(label, value) for label, value in identity.items()}
        found = {u.onesignal_id: u for u in owners.values() if u is not None}
        if len(found) > 1:
            conflicting = {label: value for label, value in identity.items() if owners[label] is not None}
            raise fail(409, {"code": "user-2", "title": "Aliases belong to different users",
                             "meta": {"conflicting_aliases": conflicting}})
        user = next(iter(found.values()), None)
        created = user is None
        if user is None:
            onesignal_id = core.world.new_id()
            user = User(onesignal_id, {**identity, "onesignal_id": onesignal_id}, created_at=core.clock.now())
        new = user

        def change() -> None:
            target = new
            if created:
                # aliases find a user when the write is applied: a create of the same external id
                # accepted meanwhile (a repeat after a lost answer) made it already
                found = [u for u in (users.find(label, value) for label, value in identity.items()) if u]
                if found:
                    target = found[0]
                else:
                    users.add(target)
            target.identity.update(identity)
            _merge_properties(target, properties)
            for sub in wanted:
                users.attach(target, sub["type"], sub["token"], sub["enabled"])

        users.later(core.clock.now(), change)
        payload = user.to_json() if not created or users.write_delay <= 0 else {
            "identity": {**identity, "onesignal_id": user.onesignal_id}, "properties": {}, "subscriptions": []}
    return _written(core, users, 201 if created else 200, payload)


def view_user(core: Core, request: Request, app: App, label: str, alias_id: str) -> Response:
    users = _users(core, app)
    with core.world.lock:
        return json_response(200, _find(users, label, alias_id).to_json())


def update_user(core: Core, request: Request, app: App, label: str, alias_id: str) -> Response:
    users = _users(core, app)
    properties = _properties(_body(request).get("properties"))
    with core.world.lock:
        user = _find(users, label, alias_id)
        users.later(core.clock.now(), lambda: _merge_properties(user, properties))
    return json_response(202, {"properties": properties})


def delete_user(core: Core, request: Request, app: App, label: str, alias_id: str) -> Response:
    users = _users(core, app)
    with core.world.lock:
        user = _find(users, label, alias_id)
        users.later(core.clock.now(), lambda: users.remove(user))
    return json_response(200, {})


def view_identity(core: Core, request: Request, app: App, label: str, alias_id: str) -> Response:
    users = _users(core, app)
    with core.world.lock:
        return json_response(200, {"identity": dict(_find(users, label, alias_id).identity)})


def upsert_identity(core: Core, request: Request, app: App, label: str, alias_id: str) -> Response:
    users = _users(core, app)
    identity = _identity(_body(request).get("identity"))
    with core.world.lock:
        user = _find(users, label, alias_id)
        taken = {k: v for k, v in identity.items() if users.find(k, v) not in (None, user)}
        if taken:
            raise fail(409, {"code": "user-2", "title": "Alias claimed by another user",
                             "meta": {"conflicting_aliases": taken}})
        custom = {k for k in {**user.identity, **identity} if k not in ("external_id", "onesignal_id")}
        if len(custom) > MAX_ALIASES:
            raise fail(400, f"a user may have at most {MAX_ALIASES} aliases")
        users.later(core.clock.now(), lambda: user.identity.update(identity))
        return json_response(200, {"identity": {**user.identity, **identity}})


def delete_alias(core: Core, request: Request, app: App, label: str, alias_id: str, doomed: str) -> Response:
    users = _users(core, app)
    if doomed in READ_ONLY_LABELS:
        raise fail(400, "onesignal_id cannot be removed")
    with core.world.lock:
        user = _find(users, label, alias_id)
        users.later(core.clock.now(), lambda: user.identity.pop(doomed, None))
        return json_response(200, {"identity": {k: v for k, v in user.identity.items() if k != doomed}})


def add_subscription(core: Core, request: Request, app: App, label: str, alias_id: str) -> Response:
    users = _users(core, app)
    wanted = _subscription(_body(request).get("subscription"))
    with core.world.lock:
        user = _find(users, label, alias_id)
        if len(user.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise fail(400, f"a user may have at most {MAX_SUBSCRIPTIONS} subscriptions")
        made: list = []
        users.later(core.clock.now(),
                    lambda: made.append(users.attach(user, wanted["type"], wanted["token"], wanted["enabled"])))
        payload = {"subscription": made[0].to_json()} if made else {"subscription": wanted}
    return _written(core, users, 201, payload)


def _owned(users: Users, subscription_id: str) -> tuple[User, UserSubscription]:
    found = users.subscription(subscription_id)
    if found is None:
        raise fail(404, SUBSCRIPTION_NOT_FOUND["errors"][0])
    return found


def update_subscription(core: Core, request: Request, app: App, subscription_id: str) -> Response:
    users = _users(core, app)
    change = _body(request).get("subscription")
    if not isinstance(change, dict) or not isinstance(change.get("enabled", True), bool):
        raise fail(400, "subscription must be an object; enabled must be true or false")
    with core.world.lock:
        _, sub = _owned(users, subscription_id)

        def apply() -> None:
            if "enabled" in change:
                sub.enabled = change["enabled"]
            if isinstance(change.get("token"), str) and change["token"]:
                sub.token = change["token"]

        users.later(core.clock.now(), apply)
    return json_response(202, {})


def delete_subscription(core: Core, request: Request, app: App, subscription_id: str) -> Response:
    users = _users(core, app)
    with core.world.lock:
        user, sub = _owned(users, subscription_id)

        def remove() -> None:
            if sub in user.subscriptions:
                user.subscriptions.remove(sub)

        users.later(core.clock.now(), remove)
    return json_response(202, {})


def view_identity_by_subscription(core: Core, request: Request, app: App, subscription_id: str) -> Response:
    """The aliases of the user who owns a subscription (osctl asks before it moves a device)."""
    users = _users(core, app)
    with core.world.lock:
        owner, _ = _owned(users, subscription_id)
        return json_response(200, {"identity": dict(owner.identity)})


def transfer_subscription(core: Core, request: Request, app: App, subscription_id: str) -> Response:
    users = _users(core, app)
    identity = _body(request).get("identity")
    if not isinstance(identity, dict) or len(identity) != 1:
        raise fail(400, "identity must name exactly one alias of the new owner")
    (label, value), = identity.items()
    with core.world.lock:
        owner, sub = _owned(users, subscription_id)
        target = _find(users, label, str(value))
        if len(target.subscriptions) >= MAX_SUBSCRIPTIONS and target is not owner:
            raise fail(400, f"a user may have at most {MAX_SUBSCRIPTIONS} subscriptions")

        def move() -> None:
            if sub in owner.subscriptions and target is not owner:
                owner.subscriptions.remove(sub)
                target.subscriptions.append(sub)

        users.later(core.clock.now(), move)
        return json_response(200, {"identity": dict(target.identity)})

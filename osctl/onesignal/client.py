"""The OneSignal API as osctl uses it (docs/design.md#talking-to-onesignal, docs/onesignal-api.md): segments, messages,
export requests, outcomes and (test) users. Methods build a Call and read the answer; sending, retries,
backoff, pacing and error texts live in session.py. Safe to share between threads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar, overload
from urllib.parse import quote, urlsplit

import httpx

from osctl.errors import (
    AccountBusy,
    AuthenticationFailed,
    MalformedAnswer,
    OneSignalRequestFailed,
    OsctlError,
    OutcomeUnknown,
    SegmentInUse,
    SegmentNameConflict,
    UpdateNotSupported,
    UserIdentityConflict,
)
from osctl.onesignal.errorbody import flatten_error_body
from osctl.onesignal.retry import RetryPolicy
from osctl.onesignal.session import Call, Session
from osctl.onesignal.types import (
    AnswerShapeError,
    LiveSegment,
    Message,
    MessagePage,
    SegmentDetail,
    SegmentPage,
    created_segment_id,
    export_url,
    outcome_rows,
)
from osctl.onesignal.user_types import (
    CreatedUser,
    LiveUser,
    added_subscription,
    created_user,
    identity,
)
from osctl.users.model import LiveSubscription

T = TypeVar("T")

SEGMENT_PAGE_SIZE = 300  # the list's maximum (docs/onesignal-api.md#listing-segments)
MESSAGE_PAGE_SIZE = 50  # the list's maximum (docs/onesignal-api.md#messages)
_USER_VIEWS = "users of "  # user views have their own ~1/s limit, apart from message views: their own pacing key
VIEW_INTERVAL_SECONDS = 1.0  # view endpoints: ~1 request/s per app (docs/onesignal-api.md#rate-limits-and-retries)


class OneSignalClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        parallelism: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        on_retry: Callable[[str, str], None] | None = None,
        view_interval: float = VIEW_INTERVAL_SECONDS,
        wall_clock: Callable[[], float] = time.time,
        auth_hint: str | None = None,
    ):
        """on_retry(call, reason) hears of every retry (for -v); view_interval paces the
        message view endpoints per app; wall_clock only reads Retry-After HTTP dates;
        auth_hint ends the message of a refused key (which env var, which app id to check)."""
        self.base_url = base_url.rstrip("/")
        self.auth_hint = auth_hint
        self.parallelism = max(int(parallelism), 1)
        self.policy = policy or RetryPolicy()
        self._session = Session(
            self.base_url,
            api_key,
            timeout=timeout,
            policy=self.policy,
            pool_size=2 * self.parallelism,  # room for paging inside parallel operations
            sleep=sleep,
            clock=clock,
            rng=rng,
            on_retry=on_retry,
            view_interval=view_interval,
            wall_clock=wall_clock,
        )

    def __repr__(self) -> str:
        return f"OneSignalClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> OneSignalClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- segments -------------------------------------------------------------------

    def list_segments(self, app_id: str) -> list[LiveSegment]:
        """Every segment of the app, oldest first. The first page tells the total; the rest
        are fetched `parallelism` at a time. total_count may mean the app total or the page
        size (docs/onesignal-api.md#listing-segments), so paging also continues while pages come back full."""
        pages = {0: self._segment_page(app_id, 0)}
        first = pages[0]
        total = first.total_count or 0
        if len(first.segments) >= SEGMENT_PAGE_SIZE and total > SEGMENT_PAGE_SIZE:
            offsets = list(range(SEGMENT_PAGE_SIZE, total, SEGMENT_PAGE_SIZE))
            workers = min(self.parallelism, len(offsets))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="osctl-page") as pool:
                futures = {o: pool.submit(self._segment_page, app_id, o) for o in offsets}
                try:
                    for offset, future in futures.items():
                        pages[offset] = future.result()
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
        last = max(pages)
        while len(pages[last].segments) >= SEGMENT_PAGE_SIZE:
            last += SEGMENT_PAGE_SIZE
            pages[last] = self._segment_page(app_id, last)
        seen: set[str] = set()
        segments = []
        for offset in sorted(pages):
            for segment in pages[offset].segments:
                if segment.id not in seen:  # offsets shift if segments come and go meanwhile
                    seen.add(segment.id)
                    segments.append(segment)
        return segments

    def _segment_page(self, app_id: str, offset: int) -> SegmentPage:
        call = Call(
            f"list segments of app {_short(app_id)} (offset {offset})",
            "GET",
            f"/apps/{_q(app_id)}/segments",
            params={"offset": offset, "limit": SEGMENT_PAGE_SIZE},
        )
        response = self._send(call)
        if not response.is_success:  # 200 per DOC, 201 per PY/GO: both fine
            self._session.fail(call, response)
        return self._read(call, response, lambda data: SegmentPage.from_json(data, offset=offset,
                                                                              limit=SEGMENT_PAGE_SIZE))

    def get_segment(self, app_id: str, segment_id: str, *, detail: bool = True) -> SegmentDetail | None:
        """The segment with its filters (include-segment-detail=true); None when it is gone.

        A segment OneSignal refuses to show through the API (message-event or custom-event
        filters) comes back with unsupported=True rather than as an error."""
        call = Call(
            f"read segment {segment_id} of app {_short(app_id)}",
            "GET",
            f"/apps/{_q(app_id)}/segments/{_q(segment_id)}",
            params={"include-segment-detail": "true"} if detail else None,
        )
        response = self._send(call)
        if response.status_code == 404:
            return None
        if response.status_code == 400 and _mentions(response, "supported via the api"):
            return SegmentDetail.not_supported_by_api(segment_id)
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, lambda data: SegmentDetail.from_json(segment_id, data, detail=detail))

    def create_segment(
        self, app_id: str, name: str, filters: list[dict], description: str | None = None
    ) -> str:
        """The new segment's id. Never repeated automatically once it may have been sent:
        OutcomeUnknown then says the segment may exist, to be looked up by name."""
        body: dict[str, Any] = {"name": name, "filters": filters}
        if description is not None:
            body["description"] = description
        call = Call(
            f"create segment {name!r} in app {_short(app_id)}",
            "POST",
            f"/apps/{_q(app_id)}/segments",
            json=body,
            idempotent=False,
        )
        response = self._send(call)
        status = response.status_code
        if status == 409 or (status == 400 and _mentions(response, "already taken")):
            existing = self._find_segment_id(app_id, name)
            errors = flatten_error_body(response.content)
            where = f"the existing segment is {existing}" if existing else None
            raise SegmentNameConflict(
                self._session.message(call, response, errors, detail=where),
                name=name,
                existing_id=existing,
                **self._session.details(call, status, errors),
            )
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, created_segment_id)

    def _find_segment_id(self, app_id: str, name: str) -> str | None:
        try:
            segments = self.list_segments(app_id)
        except OsctlError:
            return None  # the conflict is still worth reporting without the id
        return next((s.id for s in segments if s.name == name), None)

    def update_segment(self, app_id: str, segment_id: str, name: str, filters: list[dict]) -> bool:
        """PATCH the segment's name and all its filters (docs/onesignal-api.md#updating-a-segment); the id stays. True when
        updated, False when OneSignal says the segment does not exist. Sending it twice
        has the effect of once, but a lost answer raises OutcomeUnknown: the caller views
        the segment to learn whether it took effect."""
        call = Call(
            f"update segment {segment_id} ({name!r}) of app {_short(app_id)}",
            "PATCH",
            f"/apps/{_q(app_id)}/segments/{_q(segment_id)}",
            json={"name": name, "filters": filters},  # name is always required
            idempotent=False,
        )
        # a 403 here may mean the app's plan has no update API, not a wrong key: see below
        response = self._send(call, plan_refusal="not available")
        status = response.status_code
        if response.is_success:
            return True
        errors = flatten_error_body(response.content)
        details = self._session.details(call, status, errors)
        if status == 404 and _mentions(response, "segment not found"):
            return False
        if status in (404, 405) or (status == 403 and _mentions(response, "not available")):
            raise UpdateNotSupported(self._session.message(
                call, response, errors, detail="segments cannot be updated in place here"), **details)
        if status == 400 and _mentions(response, "journey"):
            raise SegmentInUse(self._session.message(call, response, errors), **details)
        if status in (400, 409) and _mentions(response, "already taken"):
            existing = self._find_segment_id(app_id, name)
            where = f"the existing segment is {existing}" if existing else None
            raise SegmentNameConflict(self._session.message(call, response, errors, detail=where),
                                      name=name, existing_id=existing, **details)
        self._session.fail(call, response)

    def delete_segment(self, app_id: str, segment_id: str) -> bool:
        """True when deleted, False when it was already gone (404). Safe to retry."""
        call = Call(
            f"delete segment {segment_id} of app {_short(app_id)}",
            "DELETE",
            f"/apps/{_q(app_id)}/segments/{_q(segment_id)}",
        )
        response = self._send(call)
        if response.status_code == 404:
            return False
        if not response.is_success:
            self._session.fail(call, response)
        return True

    # ---- users (test users) ------------------------------------------------------------
    # Users are addressed by external_id. Writes are answered 202 when OneSignal applies them
    # later; the caller verifies by viewing. Creates and adds are safe to repeat: create looks
    # the user up by its external_id, and adding a token the user holds already changes nothing.

    def get_user(self, app_id: str, external_id: str) -> LiveUser | None:
        """The user with this external_id; None when there is none. Paced: ~1 view per second per app."""
        call = Call(
            f"read user {external_id!r} of app {_short(app_id)}",
            "GET",
            _user_path(app_id, external_id),
            paced_app=_USER_VIEWS + app_id,
        )
        response = self._session.send(call)
        if response.status_code == 404:
            return None
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, LiveUser.from_json)

    def get_users(
        self, app_id: str, external_ids: Iterable[str], *, on_each: Callable[[str], None] | None = None
    ) -> dict[str, LiveUser | None]:
        """get_user for each, one after another (the view limit is per app, so running them side by
        side gains nothing); on_each(external_id) hears of every one done, for progress."""
        found: dict[str, LiveUser | None] = {}
        for external_id in external_ids:
            found[external_id] = self.get_user(app_id, external_id)
            if on_each is not None:
                on_each(external_id)
        return found

    def create_user(self, app_id: str, body: dict) -> CreatedUser:
        """POST a user ({"identity", "properties", "subscriptions"}); 409 when its aliases belong to others."""
        external_id = (body.get("identity") or {}).get("external_id")
        call = Call(f"create user {external_id!r} in app {_short(app_id)}", "POST",
                    f"/apps/{_q(app_id)}/users", json=body)
        response = self._user_write(call)
        return self._read(call, response, lambda data: created_user(data, status=response.status_code))

    def update_user_properties(self, app_id: str, external_id: str, properties: dict) -> None:
        """PATCH tags (merged; "" removes a tag), language, timezone_id."""
        call = Call(f"update user {external_id!r} of app {_short(app_id)}", "PATCH",
                    _user_path(app_id, external_id), json={"properties": properties})
        self._user_write(call)

    def delete_user(self, app_id: str, external_id: str) -> bool:
        """True when deleted, False when there was no such user (404)."""
        call = Call(f"delete user {external_id!r} of app {_short(app_id)}", "DELETE",
                    _user_path(app_id, external_id))
        return self._user_write(call, absent_ok=True) is not None

    def upsert_aliases(self, app_id: str, external_id: str, aliases: dict[str, str]) -> dict[str, str]:
        """Add or change aliases; the user's identity as answered. 409 when another user holds one."""
        call = Call(f"set aliases {', '.join(sorted(aliases))} of user {external_id!r} in app {_short(app_id)}",
                    "PATCH", _user_path(app_id, external_id) + "/identity", json={"identity": aliases})
        response = self._user_write(call)
        return self._read(call, response, identity)

    def delete_alias(self, app_id: str, external_id: str, label: str) -> bool:
        call = Call(f"remove alias {label} of user {external_id!r} in app {_short(app_id)}", "DELETE",
                    f"{_user_path(app_id, external_id)}/identity/{_q(label)}")
        return self._user_write(call, absent_ok=True) is not None

    def add_subscription(self, app_id: str, external_id: str, kind: str, token: str) -> LiveSubscription | None:
        """The new subscription, or None when the 202 answer does not carry its id yet.

        OneSignal moves a token another user holds to this one without a word: callers check first."""
        call = Call(f"add {kind} subscription to user {external_id!r} in app {_short(app_id)}", "POST",
                    f"{_user_path(app_id, external_id)}/subscriptions",
                    json={"subscription": {"type": kind, "token": token}})
        response = self._user_write(call)
        return self._read(call, response, added_subscription)

    def delete_subscription(self, app_id: str, subscription_id: str) -> bool:
        call = Call(f"delete subscription {subscription_id} of app {_short(app_id)}", "DELETE",
                    f"/apps/{_q(app_id)}/subscriptions/{_q(subscription_id)}")
        return self._user_write(call, absent_ok=True) is not None

    def subscription_owner(self, app_id: str, subscription_id: str) -> dict[str, str] | None:
        """The identity (aliases) of the user who owns a subscription; None when there is no such
        subscription. Paced like user views."""
        call = Call(f"read the owner of subscription {subscription_id} in app {_short(app_id)}", "GET",
                    f"/apps/{_q(app_id)}/subscriptions/{_q(subscription_id)}/user/identity",
                    paced_app=_USER_VIEWS + app_id)
        response = self._session.send(call)
        if response.status_code == 404:
            return None
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, identity)

    def transfer_subscription(self, app_id: str, subscription_id: str, external_id: str) -> dict[str, str]:
        """Move a subscription (a push device) to the user with this external_id; its identity as answered."""
        call = Call(f"move subscription {subscription_id} to user {external_id!r} in app {_short(app_id)}",
                    "PATCH", f"/apps/{_q(app_id)}/subscriptions/{_q(subscription_id)}/owner",
                    json={"identity": {"external_id": external_id}})
        response = self._user_write(call)
        return self._read(call, response, identity)

    @overload
    def _user_write(self, call: Call, *, absent_ok: Literal[False] = False) -> httpx.Response: ...
    @overload
    def _user_write(self, call: Call, *, absent_ok: Literal[True]) -> httpx.Response | None: ...
    def _user_write(self, call: Call, *, absent_ok: bool = False) -> httpx.Response | None:
        """The answer to a user write; None for a 404 when `absent_ok` (the user or subscription is gone)."""
        response = self._session.send(call)
        status = response.status_code
        if status == 404 and absent_ok:
            return None
        if status == 409:
            errors = flatten_error_body(response.content)
            raise UserIdentityConflict(self._session.message(call, response, errors),
                                       conflicting_aliases=_conflicting_aliases(response),
                                       **self._session.details(call, status, errors))
        if not response.is_success:
            self._session.fail(call, response)
        return response

    # ---- messages -------------------------------------------------------------------

    def list_messages(
        self, app_id: str, *, kind: int | None = None, offset: int = 0, limit: int = MESSAGE_PAGE_SIZE
    ) -> MessagePage:
        params: dict[str, Any] = {"app_id": app_id, "limit": limit, "offset": offset}
        if kind is not None:
            params["kind"] = kind
        call = Call(
            f"list messages of app {_short(app_id)} (offset {offset})",
            "GET",
            "/notifications",
            params=params,
            paced_app=app_id,
        )
        response = self._send(call)
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, lambda data: MessagePage.from_json(data, offset=offset, limit=limit))

    def iter_messages(
        self, app_id: str, *, kind: int | None = None, newer_than: int | None = None
    ) -> Iterator[Message]:
        """Messages newest first (by queued_at), stopping at the first one queued before
        `newer_than` (unix seconds). Pages are paced like every view call."""
        offset = 0
        seen: set[str] = set()
        while True:
            page = self.list_messages(app_id, kind=kind, offset=offset, limit=MESSAGE_PAGE_SIZE)
            for message in page.messages:
                if newer_than is not None and message.queued_at < newer_than:
                    return
                if message.id not in seen:  # a new message shifts offsets by one
                    seen.add(message.id)
                    yield message
            if len(page.messages) < MESSAGE_PAGE_SIZE:
                return
            offset += MESSAGE_PAGE_SIZE

    def get_message(self, app_id: str, message_id: str) -> Message | None:
        call = Call(
            f"read message {message_id} of app {_short(app_id)}",
            "GET",
            f"/notifications/{_q(message_id)}",
            params={"app_id": app_id},
            paced_app=app_id,
        )
        response = self._send(call)
        if response.status_code == 404:
            return None
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, Message.from_json)

    # ---- exports --------------------------------------------------------------------

    def request_subscriptions_export(
        self,
        app_id: str,
        *,
        extra_fields: Iterable[str] = (),
        segment_name: str | None = None,
        last_active_since: int | None = None,
        include_unsubscribed: bool | None = None,
    ) -> str:
        """Starts the subscriptions CSV export; returns its csv_file_url (a bearer link)."""
        body: dict[str, Any] = {}
        if extra_fields:
            body["extra_fields"] = list(extra_fields)
        if segment_name is not None:
            body["segment_name"] = segment_name
        if last_active_since is not None:
            body["last_active_since"] = str(int(last_active_since))  # a string, per the API
        if include_unsubscribed is not None:
            body["include_unsubscribed"] = include_unsubscribed
        what = f" of segment {segment_name!r}" if segment_name else ""
        call = Call(
            f"request subscriptions export{what} for app {_short(app_id)}",
            "POST",
            "/players/csv_export",
            params={"app_id": app_id},
            json=body,
            idempotent=False,
        )
        return self._export_url(call, ("csv_file_url",))

    def request_audience_activity_export(self, app_id: str, message_id: str) -> str:
        call = Call(
            f"request audience activity export of message {message_id} in app {_short(app_id)}",
            "POST",
            f"/notifications/{_q(message_id)}/export_events",
            params={"app_id": app_id},
            idempotent=False,
        )
        return self._export_url(call, ("csv_file_url",))

    def request_message_history(
        self, app_id: str, message_id: str, *, events: str, email: str | None = None
    ) -> str:
        """Returns destination_url, or csv_file_url where the API answers with that
        (docs/onesignal-api.md#the-history-link)."""
        body: dict[str, Any] = {"app_id": app_id, "events": events}
        if email is not None:
            body["email"] = email
        call = Call(
            f"request {events} history of message {message_id} in app {_short(app_id)}",
            "POST",
            f"/notifications/{_q(message_id)}/history",
            json=body,
            idempotent=False,
        )
        return self._export_url(call, ("destination_url", "csv_file_url"))

    def _export_url(self, call: Call, keys: tuple[str, ...]) -> str:
        response = self._send(call)
        status = response.status_code
        errors = flatten_error_body(response.content) if not response.is_success else []
        if status == 409 or (status == 400 and _export_in_progress(errors)):
            raise AccountBusy(self._session.message(call, response, errors), **self._session.details(call, status, errors))
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, lambda data: export_url(data, keys))

    # ---- outcomes -------------------------------------------------------------------

    def outcomes(
        self,
        app_id: str,
        names: Iterable[str],
        *,
        time_range: str = "1h",
        platforms: Iterable[int] | None = None,
        attribution: str | None = None,
    ) -> list[dict]:
        """[{"id", "value", "aggregation"}, ...] for the requested `name.count|sum` outcomes."""
        names = list(names)
        params: list[tuple[str, str]] = []
        if any("," in name for name in names):  # a comma list cannot carry them (docs/onesignal-api.md#outcomes)
            params.extend(("outcome_names[]", name) for name in names)
        else:
            params.append(("outcome_names", ",".join(names)))
        params.append(("outcome_time_range", time_range))
        if platforms is not None:
            params.append(("outcome_platforms", ",".join(str(int(p)) for p in platforms)))
        if attribution is not None:
            params.append(("outcome_attribution", attribution))
        call = Call(
            f"read outcomes {', '.join(names)} of app {_short(app_id)}",
            "GET",
            f"/apps/{_q(app_id)}/outcomes",
            params=params,
        )
        response = self._send(call)
        if not response.is_success:
            self._session.fail(call, response)
        return self._read(call, response, outcome_rows)

    # ---- sending and reading answers ----------------------------------------------------

    def _send(self, call: Call, *, plan_refusal: str | None = None) -> httpx.Response:
        """The session's answer to `call`; a refused key, or no answer at all, raised with what
        the user must check: the key's env var and the app id, or the API base URL. A 403
        mentioning `plan_refusal` is the caller's to explain (a feature the app's plan lacks)."""
        try:
            response = self._session.send(call)
        except OneSignalRequestFailed as exc:
            if exc.status is None:  # never got an answer: name the server it tried
                where = "lost the connection to" if isinstance(exc, OutcomeUnknown) else "could not reach"
                raise exc.reworded(f"{where} {shown_url(self.base_url)}: {exc}") from None
            raise
        status = response.status_code
        if status == 403 and plan_refusal and _mentions(response, plan_refusal):
            return response
        if status in (401, 403) or (status == 400 and _mentions(response, "authorization")):
            errors = flatten_error_body(response.content)
            raise AuthenticationFailed(
                self._session.message(call, response, errors, detail=self.auth_hint),
                **self._session.details(call, status, errors),
            )
        return response


    def _read(self, call: Call, response: httpx.Response, parse: Callable[[Any], T]) -> T:
        """`parse` applied to a successful answer's JSON; an answer it cannot read is an error
        naming the call and what was wrong, never an empty result."""
        data = self._session.json(call, response)
        try:
            return parse(data)
        except AnswerShapeError as exc:
            raise MalformedAnswer(
                self._session.message(call, response, [], detail=f"unexpected shape: {exc}"),
                **self._session.details(call, response.status_code, []),
            ) from None


def _mentions(response: httpx.Response, *needles: str) -> bool:
    text = " ".join(flatten_error_body(response.content)).lower()
    return any(needle in text for needle in needles)


def _export_in_progress(errors: list[str]) -> bool:
    text = " ".join(errors).lower()
    return "export" in text and ("in progress" in text or "at a time" in text or "already" in text)


def shown_url(base_url: str) -> str:
    """The API base URL as messages show it: no user:password@, query or fragment."""
    parts = urlsplit(base_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else host + parts.path
    return shown.rstrip("/")


def _short(app_id: str) -> str:
    return app_id[:8] + "…" if len(app_id) > 9 else app_id


def _q(part: str) -> str:
    return quote(str(part), safe="")


def _user_path(app_id: str, external_id: str) -> str:
    return f"/apps/{_q(app_id)}/users/by/external_id/{_q(external_id)}"


def _conflicting_aliases(response: httpx.Response) -> dict[str, str]:
    """meta.conflicting_aliases of a 409 (CreateUserConflictResponse), when the answer has it."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return {}
    for error in errors if isinstance(errors, list) else ():
        meta = error.get("meta") if isinstance(error, dict) else None
        aliases = meta.get("conflicting_aliases") if isinstance(meta, dict) else None
        if isinstance(aliases, dict):
            return {str(k): str(v) for k, v in aliases.items()}
    return {}

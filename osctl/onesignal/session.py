"""The request loop under OneSignalClient: one httpx.Client, retries, backoff, pacing, errors.

Every API call is a `Call` sent through `Session.send`, which applies the retry policy,
the shared backoff gate and view-endpoint pacing, and turns httpx exceptions into
osctl errors. Error texts name the call, method, path, status and OneSignal's messages;
the key never appears in them (a server echoing it is redacted too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from osctl import __version__
from osctl.errors import (
    AuthenticationFailed,
    NotFound,
    OneSignalRequestFailed,
    OutcomeUnknown,
    RetriesExhausted,
    Unreachable,
)
from osctl.onesignal.errorbody import flatten_error_body
from osctl.onesignal.retry import (
    PUSHBACK_STATUSES,
    Backoff,
    Pacer,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
)


@dataclass(frozen=True)
class Call:
    """One logical API call: what the user is told it was, and how it may be retried."""

    description: str  # e.g. "create segment 'Active US' in app 5eb5a37e…"
    method: str
    path: str
    params: Any = None
    json: Any = None
    # Safe to send again after it may have reached the server (GET, DELETE).
    idempotent: bool = True
    paced_app: str | None = None  # view endpoints are paced per app


class _Secret:
    """Holds the key so that no repr, vars() dump or traceback local shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


class Session:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float,
        policy: RetryPolicy,
        pool_size: int,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        rng: Callable[[], float],
        on_retry: Callable[[str, str], None] | None,
        view_interval: float,
        wall_clock: Callable[[], float],
    ):
        self.policy = policy
        self._key = _Secret(api_key)
        self._sleep = sleep
        self._wall_clock = wall_clock  # only to read a Retry-After given as an HTTP date
        self._rng = rng
        self._rng_lock = threading.Lock()
        self._on_retry = on_retry
        self._backoff = Backoff(clock)
        self._pacer = Pacer(view_interval, clock)
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Key {api_key}",
                "User-Agent": f"osctl/{__version__}",
                "Accept": "application/json",
            },
            # A wait for a free pooled connection is not a network failure: no pool timeout.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=None),
            follow_redirects=False,
            # retries=0: our policy decides, and must know whether a POST was sent
            transport=httpx.HTTPTransport(retries=0, limits=limits),
        )
        # Requests get an absolute URL: httpx then parses it once, where a path relative to
        # base_url plus params is parsed and re-parsed three times (about a fifth of the
        # client's CPU per call, which `plan --refresh full` pays thousands of times).
        self._base_url = str(self._http.base_url).rstrip("/")

    def __repr__(self) -> str:
        return "Session(<redacted>)"

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call) -> httpx.Response:
        """The final answer to `call`: a success, or an error not worth retrying.

        Retries connection failures, 429 and 5xx with backoff; 429/503 push back every
        thread of this client. A call that is not idempotent is repeated only when it
        certainly did not take effect: a connection never made, or a 429/503 answer."""
        attempt = 0
        while True:
            attempt += 1
            self._backoff.wait(self._sleep)
            if call.paced_app is not None:
                wait = self._pacer.reserve(call.paced_app)
                if wait > 0:
                    self._sleep(wait)
            response, failure, sent = self._attempt(call)
            retry_after = None
            if response is not None:
                status = response.status_code
                if not is_retryable_status(status):
                    return response
                errors = flatten_error_body(response.content)
                if not call.idempotent and status not in PUSHBACK_STATUSES:
                    raise OutcomeUnknown(
                        self.message(call, response, errors, detail=_MAYBE_DONE),
                        **self.details(call, status, errors),
                    )
                if status in PUSHBACK_STATUSES:
                    retry_after = parse_retry_after(
                        response.headers.get("Retry-After"), now_epoch=self._wall_clock()
                    )
                reason = _status_text(response, errors)
                if retry_after is not None and retry_after > self.policy.max_retry_after_seconds:
                    raise RetriesExhausted(
                        self.message(
                            call, response, errors,
                            detail=f"asked to retry after {retry_after:.0f} s, longer than osctl waits",
                        ),
                        attempts=attempt,
                        **self.details(call, status, errors),
                    )
            else:
                assert failure is not None  # _attempt answers a response or a failure
                if failure.kind == "fatal":
                    raise Unreachable(self.plain(call, failure.text), **self.details(call, None, []))
                if sent and not call.idempotent:
                    raise OutcomeUnknown(
                        self.plain(call, _append(failure.text, _MAYBE_DONE)),
                        **self.details(call, None, []),
                    )
                reason = failure.text
            if self.policy.gives_up_after(attempt):
                last_status = response.status_code if response is not None else None
                errors = flatten_error_body(response.content) if response is not None else []
                raise RetriesExhausted(
                    self.plain(call, f"{reason} (gave up after {attempt} attempts)"),
                    attempts=attempt,
                    **self.details(call, last_status, errors),
                )
            with self._rng_lock:
                delay = self.policy.delay(attempt, retry_after, self._rng)
            if self._on_retry is not None:
                self._on_retry(
                    call.description,
                    self._redact(
                        f"{reason}; retrying in {delay:.1f} s "
                        f"(attempt {attempt + 1} of {self.policy.max_attempts})"
                    ),
                )
            if response is not None and response.status_code in PUSHBACK_STATUSES:
                self._backoff.push(delay)  # everyone waits, this thread included (top of loop)
            else:
                self._sleep(delay)

    def _attempt(self, call: Call) -> tuple[httpx.Response | None, _Failure | None, bool]:
        """(response, None, True) or (None, failure, may_have_been_sent). httpx exceptions are
        described and dropped here: they carry the request, headers and key included."""
        try:
            return self._exchange(call), None, True
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError) as exc:
            failure, sent = _Failure("retry", _describe(exc)), False
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
            failure, sent = _Failure("fatal", _describe(exc)), False
        except httpx.TransportError as exc:  # read/write errors and timeouts, server hang-ups
            failure, sent = _Failure("retry", _describe(exc)), True
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            failure, sent = _Failure("fatal", _describe(exc)), False
        return None, failure, sent

    def _exchange(self, call: Call) -> httpx.Response:
        """One request for `call`, its answer read to the end."""
        url = self._base_url + call.path
        if call.params:
            url += f"?{httpx.QueryParams(call.params)}"
        headers = _JSON_BODY if call.method != "GET" else None
        request = self._http.build_request(call.method, url, json=call.json, headers=headers)
        return self._http.send(request)

    def fail(self, call: Call, response: httpx.Response) -> NoReturn:
        """Raise the error that fits an unsuccessful answer."""
        status = response.status_code
        errors = flatten_error_body(response.content)
        message = self.message(call, response, errors)
        details = self.details(call, status, errors)
        if status in (401, 403) or (
            status == 400 and any("authorization" in e.lower() for e in errors)
        ):
            raise AuthenticationFailed(message, **details)
        if status == 404:
            raise NotFound(message, **details)
        raise OneSignalRequestFailed(message, **details)

    def json(self, call: Call, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise OneSignalRequestFailed(
                self.message(call, response, [], detail="answered with a body that is not JSON"),
                **self.details(call, response.status_code, []),
            ) from None

    def message(
        self, call: Call, response: httpx.Response, errors: list[str], *, detail: str | None = None
    ) -> str:
        text = _status_text(response, errors)
        if detail:
            text = _append(text, detail)
        return self.plain(call, text)

    def plain(self, call: Call, text: str) -> str:
        return self._redact(f"{call.description}: {call.method} {call.path} {text}")

    def details(self, call: Call, status: int | None, errors: list[str]) -> dict[str, Any]:
        return {
            "call": call.description,
            "method": call.method,
            "path": call.path,
            "status": status,
            "errors": [self._redact(e) for e in errors],
        }

    def _redact(self, text: str) -> str:
        """Belt and braces: nothing we build should contain the key, but a server might echo it."""
        key = self._key.reveal()
        return text.replace(key, "[redacted]") if len(key) >= 4 else text



@dataclass(frozen=True)
class _Failure:
    kind: str  # "retry" | "fatal"
    text: str


_MAYBE_DONE = "the request may have been carried out, but its answer was lost"
_JSON_BODY = {"Content-Type": "application/json"}  # also on a POST without a body


def _status_text(response: httpx.Response, errors: list[str]) -> str:
    phrase = response.reason_phrase or ""
    head = f"answered {response.status_code}{' ' + phrase if phrase else ''}"
    return f"{head}: {'; '.join(errors)}" if errors else head


def _append(text: str, detail: str) -> str:
    """'answered 409: Name taken.' + detail reads as two sentences, not as '.;'."""
    return f"{text} {detail[0].upper()}{detail[1:]}." if text.endswith((".", "!", "?")) else f"{text}; {detail}"


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"failed ({type(exc).__name__}: {text})" if text else f"failed ({type(exc).__name__})"



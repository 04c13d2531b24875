"""The retry policy, the shared backoff gate and view pacing: pure, with a fake clock."""

import threading

from hypothesis import given
from hypothesis import strategies as st

from osctl.onesignal.retry import (
    Backoff,
    Pacer,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
)


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retryable_statuses_are_429_and_5xx_only():
    assert is_retryable_status(429)
    assert all(is_retryable_status(s) for s in (500, 502, 503, 504, 599))
    assert not any(is_retryable_status(s) for s in (200, 201, 400, 401, 403, 404, 409, 422))


@given(attempt=st.integers(1, 40), r=st.floats(0, 1, exclude_max=True))
def test_backoff_is_full_jitter_under_the_growing_ceiling_and_the_cap(attempt, r):
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=60.0)
    delay = policy.delay(attempt, None, lambda: r)
    ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
    assert 0 <= delay <= ceiling
    assert delay == r * ceiling


def test_backoff_ceiling_doubles_per_attempt():
    policy = RetryPolicy(base_seconds=0.5, cap_seconds=60.0)
    highest = [policy.delay(a, None, lambda: 1.0) for a in range(1, 10)]
    assert highest == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]


@given(attempt=st.integers(1, 20), retry_after=st.floats(0, 500), r=st.floats(0, 1))
def test_retry_after_is_a_floor_never_shortened_by_jitter(attempt, retry_after, r):
    delay = RetryPolicy().delay(attempt, retry_after, lambda: r)
    assert delay >= retry_after
    assert delay == max(retry_after, RetryPolicy().backoff(attempt, lambda: r))


def test_policy_gives_up_at_max_attempts():
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up_after(a) for a in (1, 2, 3)] == [False, False, True]


def test_retry_after_forms():
    assert parse_retry_after("7", now_epoch=0) == 7.0
    assert parse_retry_after(" 2.5 ", now_epoch=0) == 2.5
    assert parse_retry_after("-3", now_epoch=0) == 0.0
    assert parse_retry_after(None, now_epoch=0) is None
    assert parse_retry_after("soon", now_epoch=0) is None
    # HTTP date form, relative to the wall clock given
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now_epoch=90) == 10.0


def test_backoff_gate_holds_every_caller_until_the_pushed_time():
    t = FakeTime()
    gate = Backoff(t.clock)
    assert gate.wait(t.sleep) == 0 and t.sleeps == []
    gate.push(5)
    gate.push(2)  # a shorter push never shortens the wait
    assert gate.remaining() == 5
    assert gate.wait(t.sleep) == 5
    assert t.sleeps == [5]
    assert gate.wait(t.sleep) == 0  # open again


def test_backoff_gate_wait_terminates_with_a_sleep_that_does_not_move_the_clock():
    frozen = 50.0
    gate = Backoff(lambda: frozen)
    recorded = []
    gate.push(3)
    gate.wait(recorded.append)
    assert recorded == [3]


def test_backoff_gate_is_shared_between_threads():
    t = FakeTime()
    gate = Backoff(t.clock)
    gate.push(4)
    assert _in_threads(gate.remaining, 5) == [4] * 5


def test_pacer_spaces_calls_per_key_and_keys_independently():
    t = FakeTime()
    pacer = Pacer(1.0, t.clock)
    assert pacer.reserve("app-a") == 0
    assert pacer.reserve("app-a") == 1.0  # booked right behind the first
    assert pacer.reserve("app-a") == 2.0
    assert pacer.reserve("app-b") == 0
    t.now += 10
    assert pacer.reserve("app-a") == 0  # idle long enough: no wait


def test_pacer_under_concurrency_never_hands_out_the_same_slot():
    t = FakeTime()
    pacer = Pacer(1.0, t.clock)
    waits = _in_threads(lambda: pacer.reserve("app"), 20)
    assert sorted(waits) == [float(i) for i in range(20)]


def _in_threads(call, count: int) -> list:
    """What `call()` returned in each of `count` threads started together."""
    results = []
    lock = threading.Lock()

    def worker():
        result = call()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results

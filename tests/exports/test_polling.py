"""The polling policy: first look at the estimate, then bounded exponential backoff."""

from __future__ import annotations

import random

import pytest

from osctl.exports.polling import PollPolicy, clip

POLICY = PollPolicy()


def schedule(policy: PollPolicy, records: int | None, ready_at: float, rng=lambda: 0.5,
             deadline: float = 10_000.0) -> list[float]:
    """Times of every look until the first at or after `ready_at` (simulated, no waiting)."""
    t = policy.first_delay(records)
    looks = [t]
    while t < ready_at and t < deadline:
        t += clip(policy.delay(len(looks), t, rng), t, deadline)
        looks.append(t)
    return looks


def test_first_look_is_the_estimated_generation_time():
    assert POLICY.first_delay(120_000) == pytest.approx(60.0)  # 2,000 records per second
    assert POLICY.first_delay(None) == POLICY.unknown_first_seconds
    assert POLICY.first_delay(0) == POLICY.min_seconds


@pytest.mark.parametrize("seconds", [5, 60, 600])
@pytest.mark.parametrize("lateness", [0.0, 0.05, 0.5, 1.0])  # file ready later than estimated
def test_ready_file_is_noticed_within_ten_percent_plus_two_seconds(seconds, lateness):
    records = int(seconds * POLICY.records_per_second)
    ready_at = seconds * (1 + lateness) + 0.3
    rng = random.Random(seconds).random
    looks = schedule(POLICY, records, ready_at, rng)
    assert looks[-1] - ready_at <= 0.1 * ready_at + 2.0
    if lateness <= 0.5:  # beyond that the 60 s cap alone needs more looks (600 s late = 10 of them)
        assert len(looks) <= 15


def test_waits_grow_and_are_capped_at_sixty_seconds():
    waits = [POLICY.delay(n, elapsed=10_000, rng=lambda: 0.0) for n in range(1, 10)]
    assert waits[:5] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert max(waits) == 60.0


def test_jitter_only_shortens_waits():
    for n in range(1, 8):
        full = POLICY.delay(n, 500, lambda: 0.0)
        jittered = POLICY.delay(n, 500, lambda: 0.999)
        assert full * (1 - POLICY.jitter) <= jittered + 1e-9 and jittered <= full


def test_retry_after_is_a_floor():
    assert POLICY.delay(1, 5, lambda: 0.0, retry_after=30) == 30


def test_waits_never_pass_the_deadline():
    assert clip(60.0, now=100.0, deadline=130.0) == 30.0
    assert clip(60.0, now=140.0, deadline=130.0) == 0.0


def test_fixed_ten_second_polling_misses_the_target_this_policy_meets():
    # the comparison the benchmark makes: a 5 s export polled every 10 s waits 5 s too long
    ready_at = 5.3
    fixed = 10.0 * -(-ready_at // 10)
    assert fixed - ready_at > 0.1 * ready_at + 2.0
    assert schedule(POLICY, 10_000, ready_at)[-1] - ready_at <= 0.1 * ready_at + 2.0


def test_busy_waits_back_off_up_to_the_cap():
    waits = [POLICY.busy_delay(n, lambda: 0.0) for n in range(1, 8)]
    assert waits[0] == 5.0 and waits[-1] == 60.0 and waits == sorted(waits)

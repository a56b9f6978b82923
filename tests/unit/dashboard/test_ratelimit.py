"""The sign-in rate limit with an injected clock: locks after repeated failures, backs off, forgets with time."""

from __future__ import annotations

import pytest

from gateway.dashboard.ratelimit import SignInLimiter, sign_in_keys
from gateway.dashboard.settings import SignInLimit

POLICY = SignInLimit(max_failures=3, window_s=60, lockout_s=10, max_lockout_s=35)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_keys_are_the_folded_user_name_and_the_address():
    assert sign_in_keys(" Ana ", "10.0.0.1") == ("user:ana", "addr:10.0.0.1")
    assert sign_in_keys("ana", None) == ("user:ana",)


def test_locks_after_max_failures_then_lets_in_again(clock):
    limiter = SignInLimiter(POLICY, clock)
    keys = sign_in_keys("ana", "10.0.0.1")
    assert [limiter.failed(keys) for _ in range(2)] == [0.0, 0.0]
    assert limiter.retry_after(keys) == 0.0
    assert limiter.failed(keys) == 10.0
    assert limiter.retry_after(keys) == 10.0
    clock.now += 4
    assert limiter.retry_after(keys) == 6.0
    clock.now += 6
    assert limiter.retry_after(keys) == 0.0


def test_each_failure_after_a_lock_doubles_it_up_to_the_maximum(clock):
    limiter = SignInLimiter(POLICY, clock)
    keys = sign_in_keys("ana", "10.0.0.1")
    locks = []
    for _ in range(6):
        locks.append(limiter.failed(keys))
        clock.now += limiter.retry_after(keys)  # wait out each lock, then fail again (within the window)
    assert locks == [0.0, 0.0, 10.0, 20.0, 35.0, 35.0]


def test_a_quiet_window_forgives(clock):
    limiter = SignInLimiter(POLICY, clock)
    keys = sign_in_keys("ana", "10.0.0.1")
    for _ in range(3):
        limiter.failed(keys)
    clock.now += 61
    assert limiter.retry_after(keys) == 0.0
    assert limiter.failed(keys) == 0.0  # one failure of a fresh window: no lock, and the backoff starts over
    assert [limiter.failed(keys) for _ in range(2)] == [0.0, 10.0]


def test_the_address_is_locked_across_user_names(clock):
    limiter = SignInLimiter(POLICY, clock)
    for name in ("ana", "ben", "carla"):  # a guesser trying one password per name
        limiter.failed(sign_in_keys(name, "10.0.0.9"))
    assert limiter.retry_after(sign_in_keys("dora", "10.0.0.9")) == 10.0
    assert limiter.retry_after(sign_in_keys("dora", "10.0.0.10")) == 0.0


def test_the_user_name_is_locked_across_addresses(clock):
    limiter = SignInLimiter(POLICY, clock)
    for addr in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # a botnet on one account
        limiter.failed(sign_in_keys("ana", addr))
    assert limiter.retry_after(sign_in_keys("ana", "10.0.0.4")) == 10.0


def test_a_good_sign_in_clears_the_user_name_but_not_the_address(clock):
    limiter = SignInLimiter(POLICY, clock)
    keys = sign_in_keys("ana", "10.0.0.1")
    limiter.failed(keys)
    limiter.failed(keys)
    limiter.succeeded(keys[0])
    assert limiter.failed(sign_in_keys("ana", "10.0.0.2")) == 0.0  # the name's count started over
    assert limiter.failed(sign_in_keys("ben", "10.0.0.1")) == 10.0  # the address's did not

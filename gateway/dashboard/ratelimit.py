"""Sign-in rate limit: after too many failed attempts for a user name or from a client address, refuse for a while.

After ``max_failures`` failures within ``window_s`` for one key (a user name, or a client address), that key is
locked for ``lockout_s``; every further failure while the count stays that high doubles the lock (up to
``max_lockout_s``): exponential backoff. While a key is locked, an attempt is refused without looking at the
password, so a locked account cannot be probed. The lock applies to unknown user names alike, so it tells nothing
about which names exist. One `SignInLimiter` is held by the app (no global state); its memory is bounded.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.dashboard.settings import SignInLimit

__all__ = ["SignInLimiter", "sign_in_keys"]

_MAX_KEYS = 10_000  # beyond this many tracked names and addresses, the quietest are forgotten first


def sign_in_keys(user: str, client: str | None) -> tuple[str, ...]:
    """The keys an attempt counts against: its user name (case-folded) and its client address."""
    keys = [f"user:{user.strip().casefold()[:64]}"]
    if client:
        keys.append(f"addr:{client}")
    return tuple(keys)


@dataclass(slots=True)
class _Key:
    failures: list[float] = field(default_factory=list)  # times of the failures within the window
    locks: int = 0  # locks in a row: the next one lasts twice as long
    locked_until: float = 0.0


@dataclass
class SignInLimiter:
    """Counts failed sign-ins per key and says how long a key must wait.

    Args:
        policy: Thresholds and durations (``[sign_in]`` of the dashboard settings).
        clock: Monotonic seconds; tests pass their own.
    """

    policy: SignInLimit
    clock: Callable[[], float]
    _keys: OrderedDict[str, _Key] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until an attempt on these keys is allowed again; 0 when it is allowed now."""
        now = self.clock()
        with self._lock:
            waits = [self._keys[k].locked_until - now for k in keys if k in self._keys]
        return max([0.0, *waits])

    def failed(self, keys: Iterable[str]) -> float:
        """Count a failed attempt; return the seconds the keys are now locked for (0 when not locked)."""
        now = self.clock()
        p = self.policy
        longest = 0.0
        with self._lock:
            for key in keys:
                state = self._keys.pop(key, None) or _Key()
                state.failures = [t for t in state.failures if now - t < p.window_s]
                if not state.failures and state.locked_until <= now:
                    state.locks = 0  # a quiet window forgives earlier locks
                state.failures.append(now)
                if len(state.failures) >= p.max_failures:
                    lock = min(p.lockout_s * 2.0**state.locks, p.max_lockout_s)
                    state.locks += 1
                    state.locked_until = now + lock
                    longest = max(longest, lock)
                self._keys[key] = state  # most recently failed last: the eviction order
            self._forget(now)
        return longest

    def succeeded(self, user_key: str) -> None:
        """Forget a user name's failures after a good sign-in (the address's are kept: it may be guessing others)."""
        with self._lock:
            self._keys.pop(user_key, None)

    def _forget(self, now: float) -> None:
        window = self.policy.window_s
        while self._keys:
            key, state = next(iter(self._keys.items()))
            expired = state.locked_until <= now and all(now - t >= window for t in state.failures)
            if not expired and len(self._keys) <= _MAX_KEYS:
                break
            del self._keys[key]

"""Growing delays between login attempts, per account name and address, per address and per name.

Every attempt is counted *before* its password is checked, in the same synchronous step that decides
whether it may go ahead (`admit`), so a burst of concurrent requests cannot slip past the count while
the bcrypt checks are running. There is no lockout: after a few free failures each further attempt
must wait a doubling delay, capped, and refused attempts are not counted, so that nobody can push a
delay further out by hammering.

Three key spaces, each with its own policy:

- name + address: the guesser's own delay; grows to minutes.
- address: all names tried from one address; looser, as a centre's operators may share one NAT
  address, and capped at a minute.
- name: all addresses trying one name, against guessing spread over many addresses. Anybody can
  make it grow, so it stays short (capped at 10 s). A browser the account has logged in from before
  (`trusted`: a signed device cookie, auth.py) is counted under a name of its own (the name's
  trusted devices together): a stranger failing against "alice" once every 10 s could otherwise keep
  the real alice waiting for good, and a cookie lifted from her PC still buys a guesser no more than
  the same short delays.

Failures are forgotten once they are older than their policy's window. A successful login clears its
name + address and its name, and forgives the attempt itself on the address.

The state lives in this process's memory. `admit`, `delay` and `succeeded` are the whole interface:
a store shared by several gateway processes (Redis, PostgreSQL) can implement the same three
methods, with `admit` as one atomic operation.
"""
from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Policy:
    free: int          # failures before any delay
    base_s: float      # the first delay; each further failure doubles it
    cap_s: float       # the longest delay
    window_s: float    # failures older than this are forgotten

    def delay_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.base_s * 2 ** min(failures - self.free, 30), self.cap_s)


PER_NAME_AND_ADDRESS = Policy(free=3, base_s=1.0, cap_s=300.0, window_s=3600.0)
PER_ADDRESS = Policy(free=10, base_s=1.0, cap_s=60.0, window_s=900.0)
PER_NAME = Policy(free=3, base_s=1.0, cap_s=10.0, window_s=900.0)


class _Failures:
    """Recent counted attempts per key under one policy; bounded in keys and in entries per key."""

    def __init__(self, policy: Policy, max_keys: int) -> None:
        self.policy = policy
        self.max_keys = max_keys
        # Least recently counted first, so that forgetting stale keys stops at the first fresh one.
        self._recent: OrderedDict[str, deque[float]] = OrderedDict()
        # Past this many failures the delay is at its cap anyway.
        self._keep = policy.free + 32

    def wait(self, key: str, now: float) -> float:
        recent = self._recent.get(key)
        if not recent:
            return 0.0
        self._expire(recent, now)
        if not recent:
            return 0.0
        return max(0.0, recent[-1] + self.policy.delay_after(len(recent)) - now)

    def count(self, key: str, now: float) -> None:
        recent = self._recent.pop(key, None) or deque(maxlen=self._keep)
        recent.append(now)
        self._recent[key] = recent
        self._forget_stale(now)

    def forgive_one(self, key: str) -> None:
        recent = self._recent.get(key)
        if recent:
            recent.pop()

    def clear(self, key: str) -> None:
        self._recent.pop(key, None)

    def _expire(self, recent: deque[float], now: float) -> None:
        while recent and now - recent[0] >= self.policy.window_s:
            recent.popleft()

    def _forget_stale(self, now: float) -> None:
        while self._recent:
            key, recent = next(iter(self._recent.items()))
            if len(self._recent) <= self.max_keys and recent and now - recent[-1] < self.policy.window_s:
                break
            del self._recent[key]


class LoginThrottle:
    """Login attempts per (name, address), per address and per name; see the module docstring.

    `name` is the account's key including its kind ("operator:alice"), so that kinds of accounts with
    the same name do not delay each other.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        per_name_and_address: Policy = PER_NAME_AND_ADDRESS,
        per_address: Policy = PER_ADDRESS,
        per_name: Policy = PER_NAME,
        max_keys: int = 50_000,
    ) -> None:
        self._clock = clock
        self._pair = _Failures(per_name_and_address, max_keys)
        self._address = _Failures(per_address, max_keys)
        self._name = _Failures(per_name, max_keys)

    def delay(self, name: str, address: str, trusted: bool = False) -> float:
        """Seconds before an attempt for `name` from `address` may go ahead (0: now); counts nothing.
        `trusted`: from a browser the account has logged in from, counted under `name_key`."""
        now = self._clock()
        return max(self._pair.wait(_pair(name, address), now), self._address.wait(address, now),
                   self._name.wait(name_key(name, trusted), now))

    def admit(self, name: str, address: str, trusted: bool = False) -> float:
        """0 if the attempt may go ahead, which is then counted as a failure until `succeeded`; else
        the seconds to wait, and nothing is counted."""
        wait = self.delay(name, address, trusted)
        if wait > 0:
            return wait
        now = self._clock()
        self._pair.count(_pair(name, address), now)
        self._address.count(address, now)
        self._name.count(name_key(name, trusted), now)
        return 0.0

    def succeeded(self, name: str, address: str) -> None:
        """The admitted attempt had the right password: it was no failure, and earlier ones are past."""
        self._pair.clear(_pair(name, address))
        self._name.clear(name)
        self._name.clear(name_key(name, True))
        self._address.forgive_one(address)


def _pair(name: str, address: str) -> str:
    return f"{address}\x00{name}"


def name_key(name: str, trusted: bool) -> str:
    """The key an attempt on `name` counts under: the name, or the name's trusted devices together."""
    return f"{name}\x00trusted" if trusted else name

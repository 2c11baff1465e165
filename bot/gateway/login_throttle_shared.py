"""The login throttle's state in the gateways' shared database, for several gateways behind one proxy.

Same policies and interface as `LoginThrottle` (see login_throttle.py); what changes is where the
counted attempts live. With the in-memory throttle, a guesser whose requests the proxy spreads over
N gateways would get N times the attempts. Here `admit` is one transaction under a lock every
gateway takes, so the count and the decision are atomic across processes. Logins are rare, so one
lock for all of them costs nothing that matters.
"""
from __future__ import annotations

import hashlib
import time
from typing import Callable

import sqlalchemy as sa

from bot.gateway.login_throttle import PER_ADDRESS, PER_NAME, PER_NAME_AND_ADDRESS, Policy, name_key
from bot.gateway_state import StateDatabase, login_attempts

_LOCK = "login-throttle"


class SharedLoginThrottle:
    """`LoginThrottle` whose attempts are rows of the `login_attempts` table."""

    def __init__(
        self,
        db: StateDatabase,
        clock: Callable[[], float] = time.time,  # wall clock: the rows are read by other processes
        per_name_and_address: Policy = PER_NAME_AND_ADDRESS,
        per_address: Policy = PER_ADDRESS,
        per_name: Policy = PER_NAME,
    ) -> None:
        self.db = db
        self._clock = clock
        self._policies = {"pair": per_name_and_address, "address": per_address, "name": per_name}
        self._longest_window = max(p.window_s for p in self._policies.values())

    def delay(self, name: str, address: str, trusted: bool = False) -> float:
        """Seconds before an attempt for `name` from `address` may go ahead (0: now); counts nothing."""
        now = self._clock()
        with self.db.read() as conn:
            return self._delay(conn, name, address, now, trusted)

    def admit(self, name: str, address: str, trusted: bool = False) -> float:
        """0 if the attempt may go ahead, which is then counted as a failure until `succeeded`; else
        the seconds to wait, and nothing is counted."""
        now = self._clock()
        with self.db.write() as conn:
            self.db.lock(conn, _LOCK)
            wait = self._delay(conn, name, address, now, trusted)
            if wait > 0:
                return wait
            conn.execute(login_attempts.delete().where(login_attempts.c.at < now - self._longest_window))
            conn.execute(login_attempts.insert(), [
                {"space": space, "key": key, "at": now} for space, key in self._keys(name, address, trusted)
            ])
        return 0.0

    def succeeded(self, name: str, address: str) -> None:
        """The admitted attempt had the right password: it was no failure, and earlier ones are past."""
        t = login_attempts.c
        keys = dict(self._keys(name, address))
        names = [keys["name"], _fit(name_key(name, True))]  # the name's, and its trusted devices'
        with self.db.write() as conn:
            self.db.lock(conn, _LOCK)
            conn.execute(login_attempts.delete().where(
                sa.or_(sa.and_(t.space == "pair", t.key == keys["pair"]),
                       sa.and_(t.space == "name", t.key.in_(names)))))
            newest = conn.execute(sa.select(t.id).where(t.space == "address", t.key == keys["address"])
                                  .order_by(t.at.desc(), t.id.desc()).limit(1)).scalar()
            if newest is not None:
                conn.execute(login_attempts.delete().where(t.id == newest))

    def _keys(self, name: str, address: str, trusted: bool = False) -> list[tuple[str, str]]:
        """The keys an attempt counts under: a trusted browser's name is its name's trusted devices
        (login_throttle.py)."""
        fitted, address = _fit(name), _fit(address)
        return [("pair", f"{address} {fitted}"), ("address", address), ("name", _fit(name_key(name, trusted)))]

    def _delay(self, conn: sa.engine.Connection, name: str, address: str, now: float,
               trusted: bool = False) -> float:
        t = login_attempts.c
        wait = 0.0
        for space, key in self._keys(name, address, trusted):
            policy = self._policies[space]
            recent = conn.execute(
                sa.select(sa.func.count(), sa.func.max(t.at))
                .where(t.space == space, t.key == key, t.at > now - policy.window_s)
            ).one()
            failures, last = recent[0], recent[1]
            if failures:
                wait = max(wait, last + policy.delay_after(failures) - now)
        return max(0.0, wait)


def _fit(key: str) -> str:
    """A made-up name of any length or with control characters (which PostgreSQL text refuses) is
    stored as its hash."""
    if len(key) <= 140 and key.isprintable():
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

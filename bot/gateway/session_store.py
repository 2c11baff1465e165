"""Login sessions, kept in the gateway's state database so that logout, idle time and a removed account
end them, and a gateway restart keeps them.

The browser's cookie carries only a random session id; the table keeps its SHA-256, so that someone
who reads the database (or a backup of it) cannot use what they read as a cookie. A session ends:

- at logout (its row is deleted),
- after `idle_s` without a request (`get` with `touch`; pushed WebSocket events do not count),
- `max_age_s` after login, however busy,
- when its account no longer exists (`end_other_accounts`, and `Auth` at each lookup),
- when its account's password changed while the gateway was down (`end_changed_credentials`): whoever
  held a session of a leaked password loses it once the password is changed.

Expired rows are deleted when they are looked up and whenever a session starts.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Union

import sqlalchemy as sa

from bot.gateway_state import StateDatabase, account_credentials, open_database, sessions


@dataclass(frozen=True)
class Session:
    kind: str
    account: str
    csrf: str
    created_at: float
    last_seen: float


class SessionStore:
    """Sessions in one table; safe to share between threads and between gateways."""

    def __init__(self, location: Union[StateDatabase, str, Path], idle_s: float, max_age_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.db, self._owns_db = open_database(location)
        self.idle_s, self.max_age_s = float(idle_s), float(max_age_s)
        self._clock = clock
        # last_seen is written at most this often per session: a busy console is not a write per request.
        self._touch_every_s = min(60.0, self.idle_s / 10)

    def start(self, kind: str, account: str) -> tuple[str, Session]:
        """A new session: the id for the cookie (never stored) and the session."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(kind, account, secrets.token_urlsafe(24), now, now)
        with self.db.write() as conn:
            self._delete_expired(conn, now)
            conn.execute(sessions.insert().values(id_hash=_hash(session_id), kind=kind, account=account,
                                                  csrf=session.csrf, created_at=now, last_seen=now))
        return session_id, session

    def get(self, session_id: str, touch: bool = True) -> Session | None:
        """The live session with this id, or None; with `touch`, the lookup counts as activity."""
        if not session_id:
            return None
        key, now = _hash(session_id), self._clock()
        t = sessions.c
        with self.db.read() as conn:
            row = conn.execute(sa.select(t.kind, t.account, t.csrf, t.created_at, t.last_seen)
                               .where(t.id_hash == key)).first()
        if row is None:
            return None
        session = Session(*row)
        if self._expired(session, now):
            with self.db.write() as conn:
                conn.execute(sessions.delete().where(t.id_hash == key))
            return None
        if touch and now - session.last_seen >= self._touch_every_s:
            with self.db.write() as conn:
                conn.execute(sessions.update().where(t.id_hash == key).values(last_seen=now))
            session = Session(session.kind, session.account, session.csrf, session.created_at, now)
        return session

    def end(self, session_id: str) -> bool:
        if not session_id:
            return False
        with self.db.write() as conn:
            return conn.execute(sessions.delete().where(sessions.c.id_hash == _hash(session_id))).rowcount > 0

    def end_other_accounts(self, kind: str, keep: Iterable[str]) -> int:
        """End the sessions of `kind` whose account is not in `keep` (removed from the settings)."""
        keep = list(keep)
        condition = sessions.c.kind == kind
        if keep:
            condition &= sessions.c.account.not_in(keep)
        with self.db.write() as conn:
            return conn.execute(sessions.delete().where(condition)).rowcount

    def end_changed_credentials(self, kind: str, password_hashes: Mapping[str, bytes]) -> int:
        """End the sessions of the accounts of `kind` whose password is not the one their sessions began
        with, and remember the passwords of now (as digests of their hashes). An account seen for the
        first time keeps its sessions: nothing says its password changed."""
        stamps = {name: hashlib.sha256(hashed).hexdigest() for name, hashed in password_hashes.items()}
        for attempt in range(3):
            try:
                return self._end_changed_credentials(kind, stamps)
            except sa.exc.IntegrityError:  # gateways sharing the database started at once: read again
                if attempt == 2:
                    raise
        return 0

    def _end_changed_credentials(self, kind: str, stamps: Mapping[str, str]) -> int:
        t = account_credentials.c
        ended = 0
        with self.db.write() as conn:
            known = dict(conn.execute(sa.select(t.account, t.stamp).where(t.kind == kind)).all())
            for name, stamp in stamps.items():
                if name not in known:
                    conn.execute(account_credentials.insert().values(kind=kind, account=name, stamp=stamp))
                elif known[name] != stamp:
                    ended += conn.execute(sessions.delete().where((sessions.c.kind == kind)
                                                                  & (sessions.c.account == name))).rowcount
                    conn.execute(account_credentials.update().where((t.kind == kind) & (t.account == name))
                                 .values(stamp=stamp))
            gone = [name for name in known if name not in stamps]
            if gone:
                conn.execute(account_credentials.delete().where((t.kind == kind) & t.account.in_(gone)))
        return ended

    def close(self) -> None:
        if self._owns_db:
            self.db.dispose()

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen >= self.idle_s or now - session.created_at >= self.max_age_s

    def _delete_expired(self, conn: sa.engine.Connection, now: float) -> None:
        t = sessions.c
        conn.execute(sessions.delete().where(sa.or_(t.last_seen <= now - self.idle_s,
                                                    t.created_at <= now - self.max_age_s)))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()

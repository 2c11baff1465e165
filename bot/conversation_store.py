"""Conversations, their handoff state and their transcripts, in the gateway's state database.

The gateway keeps no conversation only in memory: the queue an operator sees after a restart, and the
history a reconnecting browser receives, are read back from the database. Several gateways may share
one (PostgreSQL, `make run-scaled`): an operator's claim on one and the user's next message on another
then race, so every change of who answers a conversation is a conditional update (`transition`) that
only one of them can win, and ticket numbers are merged, never overwritten.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import sqlalchemy as sa

from bot.gateway_state import StateDatabase, conversations, messages, open_database

STATES = ("bot", "waiting", "operator", "closed")

_FIELDS = (
    "id", "channel", "phone", "state", "operator", "handoff_reason", "handoff_summary", "ticket_ids",
    "waiting_since", "rating", "rating_comment", "last_seq", "created_at", "updated_at",
)
# What `transition` may change: the counter moves only with `append`, the id and the channel never.
_CHANGEABLE = frozenset(_FIELDS) - {"id", "channel", "last_seq", "created_at", "updated_at", "ticket_ids"}


@dataclass
class Conversation:
    """One sender's conversation: who answers it now (state/operator) and what the handoff said."""

    id: str
    channel: str
    phone: str | None = None
    state: str = "bot"
    operator: str | None = None
    handoff_reason: str | None = None
    handoff_summary: str | None = None
    ticket_ids: list[str] = field(default_factory=list)
    waiting_since: float | None = None
    rating: int | None = None
    rating_comment: str | None = None
    last_seq: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0


class ConversationStore:
    """Conversations and messages; safe to share between threads and between gateway processes."""

    def __init__(self, location: Union[StateDatabase, str, Path]) -> None:
        self.db, self._owns_db = open_database(location)

    def close(self) -> None:
        if self._owns_db:
            self.db.dispose()

    # conversations ------------------------------------------------------------------------------

    def get(self, conversation_id: str) -> Conversation | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id)).first()
        return _conversation(row) if row else None

    def create(self, conversation_id: str, channel: str, phone: str | None = None) -> Conversation:
        """The conversation, created if it did not exist (a concurrent creator's row wins)."""
        now = time.time()
        with self.db.write() as conn:
            exists = conn.execute(sa.select(conversations.c.id).where(conversations.c.id == conversation_id)).first()
            if exists is None:
                try:
                    with conn.begin_nested():
                        conn.execute(conversations.insert().values(
                            id=conversation_id, channel=channel, phone=phone, state="bot", ticket_ids="[]",
                            last_seq=0, created_at=now, updated_at=now))
                except sa.exc.IntegrityError:
                    pass  # another gateway created it between our read and our insert
        conv = self.get(conversation_id)
        assert conv is not None
        return conv

    def save(self, conv: Conversation) -> None:
        """Write every field but the message counter, unconditionally (tools and tests; the router
        uses `transition` and `add_tickets`, which cannot undo another gateway's change)."""
        if conv.state not in STATES:
            raise ValueError(f"unknown state {conv.state!r}")
        conv.updated_at = time.time()
        values = {name: getattr(conv, name) for name in _CHANGEABLE}
        with self.db.write() as conn:
            conn.execute(conversations.update().where(conversations.c.id == conv.id).values(
                **values, ticket_ids=json.dumps(conv.ticket_ids), updated_at=conv.updated_at))

    def transition(
        self,
        conversation_id: str,
        expect_states: Optional[Iterable[str]] = None,
        expect_operator: Optional[str] = None,
        **changes: Any,
    ) -> Conversation | None:
        """Apply `changes` if the conversation is in one of `expect_states` (any, if None) and, when
        `expect_operator` is given, is not held by another operator. The changed conversation, or
        None if the conditions did not hold (someone else changed it first) or it does not exist."""
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")
        if changes.get("state", "bot") not in STATES:
            raise ValueError(f"unknown state {changes['state']!r}")
        c = conversations.c
        condition = c.id == conversation_id
        if expect_states is not None:
            condition &= c.state.in_(list(expect_states))
        if expect_operator is not None:
            condition &= sa.or_(c.state != "operator", c.operator == expect_operator)
        with self.db.write() as conn:
            done = conn.execute(conversations.update().where(condition).values(**changes, updated_at=time.time()))
            if done.rowcount != 1:
                return None
            row = conn.execute(sa.select(conversations).where(c.id == conversation_id)).first()
        return _conversation(row)

    def add_tickets(self, conversation_id: str, ticket_ids: Iterable[str]) -> Conversation | None:
        """Link tickets to the conversation, keeping the ones another gateway linked meanwhile."""
        wanted = [str(t) for t in ticket_ids]
        c = conversations.c
        with self.db.write() as conn:
            self.db.lock(conn, f"conversation:{conversation_id}")
            row = conn.execute(sa.select(c.ticket_ids).where(c.id == conversation_id)).first()
            if row is None:
                return None
            known = json.loads(row.ticket_ids or "[]")
            merged = known + [t for t in dict.fromkeys(wanted) if t not in known]
            if merged != known:
                conn.execute(conversations.update().where(c.id == conversation_id).values(
                    ticket_ids=json.dumps(merged), updated_at=time.time()))
            fresh = conn.execute(sa.select(conversations).where(c.id == conversation_id)).first()
        return _conversation(fresh)

    def in_states(self, states: Iterable[str]) -> list[Conversation]:
        c = conversations.c
        query = (sa.select(conversations).where(c.state.in_(list(states)))
                 .order_by(sa.func.coalesce(c.waiting_since, c.created_at)))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [_conversation(row) for row in rows]

    # messages -----------------------------------------------------------------------------------

    def append(self, conversation_id: str, role: str, text: str, extra: dict[str, Any] | None = None) -> dict:
        """Store one message under the next sequence number and return it as the API shows it."""
        now = time.time()
        extra = {k: v for k, v in (extra or {}).items() if v is not None}
        c = conversations.c
        with self.db.write() as conn:
            # The UPDATE takes the row's lock, so two gateways appending at once get distinct numbers.
            done = conn.execute(conversations.update().where(c.id == conversation_id)
                                .values(last_seq=c.last_seq + 1, updated_at=now))
            if done.rowcount != 1:
                raise KeyError(conversation_id)
            seq = conn.execute(sa.select(c.last_seq).where(c.id == conversation_id)).scalar_one()
            conn.execute(messages.insert().values(
                conversation_id=conversation_id, seq=seq, role=role, text=text,
                extra=json.dumps(extra, ensure_ascii=False), at=now))
        return {"seq": seq, "role": role, "text": text, "at": now, **extra}

    def messages(self, conversation_id: str, after: int = 0, limit: int | None = None) -> list[dict]:
        m = messages.c
        query = sa.select(m.seq, m.role, m.text, m.extra, m.at).where(
            m.conversation_id == conversation_id, m.seq > after)
        if limit is None:
            query = query.order_by(m.seq)
        else:
            query = query.order_by(m.seq.desc()).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        if limit is not None:
            rows.reverse()
        return [{"seq": r.seq, "role": r.role, "text": r.text, "at": r.at, **json.loads(r.extra)} for r in rows]

    def purge_older_than(self, seconds: float) -> int:
        """Forget conversations untouched for `seconds` (transcripts included); a conversation an
        operator still has open stays. Returns how many conversations went."""
        cutoff = time.time() - seconds
        c = conversations.c
        stale = sa.select(c.id).where(c.updated_at < cutoff, c.state.in_(["bot", "closed"]))
        with self.db.write() as conn:
            ids = [row.id for row in conn.execute(stale)]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                conn.execute(messages.delete().where(messages.c.conversation_id.in_(chunk)))
                conn.execute(conversations.delete().where(c.id.in_(chunk)))
        return len(ids)


def _conversation(row: Any) -> Conversation:
    data = {name: getattr(row, name) for name in _FIELDS}
    data["ticket_ids"] = json.loads(data["ticket_ids"] or "[]")
    return Conversation(**data)

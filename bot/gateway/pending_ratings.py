"""Ratings of resolved tickets that the issue API could not take yet (it was down or refused the
gateway's token), kept in the gateway's state database.

The rating is kept on disk, beside the conversations, so that a gateway restart before the issue API
is back does not lose it (ticket_ratings retries them).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import sqlalchemy as sa

from bot.gateway_state import StateDatabase, open_database, pending_ratings


@dataclass(frozen=True)
class PendingRating:
    ticket_id: str
    conversation_id: str
    score: int
    comment: str = ""
    created_at: float = 0.0


class PendingRatings:
    """One pending rating per ticket: a later rating of the same ticket replaces the earlier one."""

    def __init__(self, location: Union[StateDatabase, str, Path]) -> None:
        self.db, self._owns_db = open_database(location)

    def keep(self, conversation_id: str, ticket_id: str, score: int, comment: str = "") -> PendingRating:
        rating = PendingRating(ticket_id, conversation_id, int(score), comment or "", time.time())
        with self.db.write() as conn:
            self.db.lock(conn, f"pending_rating:{ticket_id}")
            conn.execute(pending_ratings.delete().where(pending_ratings.c.ticket_id == ticket_id))
            conn.execute(pending_ratings.insert().values(
                ticket_id=rating.ticket_id, conversation_id=rating.conversation_id, score=rating.score,
                comment=rating.comment, created_at=rating.created_at))
        return rating

    def all(self, conversation_id: Optional[str] = None) -> list[PendingRating]:
        """Oldest first, so that a long backlog is worked through in the order users rated. With
        `conversation_id`, only the ratings that conversation itself kept: what another chat rated of
        the same ticket must not change what this conversation is offered (its reporter's 回访 form)."""
        r = pending_ratings.c
        query = sa.select(r.ticket_id, r.conversation_id, r.score, r.comment, r.created_at).order_by(r.created_at)
        if conversation_id is not None:
            query = query.where(r.conversation_id == conversation_id)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [PendingRating(*row) for row in rows]

    def drop(self, rating: PendingRating) -> None:
        """Forget `rating`, unless the user rated the ticket again meanwhile (that one stays)."""
        r = pending_ratings.c
        with self.db.write() as conn:
            conn.execute(pending_ratings.delete().where(r.ticket_id == rating.ticket_id,
                                                        r.created_at == rating.created_at))

    def close(self) -> None:
        if self._owns_db:
            self.db.dispose()

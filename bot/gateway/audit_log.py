"""The console's and the workbench's audit log, in the gateway's state database: who logged in (or
failed to) and who opened, claimed, answered, handed back and closed which conversation, filed,
accepted, noted, resolved or reviewed which ticket, exported which tickets.

A row says who did what, when, to which conversation, with a short detail (an address, a length, a
ticket number); never a message's text. Details pass through the log masking, so that a phone
number cannot reach the table in clear even by mistake. Light on imports: `python -m bot audit`
reads it without loading the web stack.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Union

import sqlalchemy as sa

from bot.gateway_state import StateDatabase, audit_log, open_database
from contract.log_masking import mask_text

ACTIONS = ("login", "login_failed", "logout", "opened", "claimed", "replied", "handed_back", "closed",
           "ticket_filed",
           # the department workbench (kind "department"), on tickets: the detail names the ticket
           "ticket_accepted", "ticket_noted", "ticket_resolved", "extension_requested", "return_requested",
           # operators on tickets: review decisions, a rating taken by phone, exports
           "review_approved", "review_rejected", "ticket_rated", "tickets_exported")
MAX_DETAIL_CHARS = 200
MAX_LIMIT = 1000

_FIELDS = ("id", "at", "kind", "account", "action", "conversation_id", "detail")


class AuditLog:
    """Append-only rows (but for `purge_older_than`); safe to share between threads."""

    def __init__(self, location: Union[StateDatabase, str, Path]) -> None:
        self.db, self._owns_db = open_database(location)

    def record(self, action: str, account: str | None = None, conversation_id: str | None = None,
               detail: str = "", kind: str = "operator", at: float | None = None) -> dict[str, Any]:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        row = {"at": time.time() if at is None else at, "kind": kind, "account": account, "action": action,
               "conversation_id": conversation_id, "detail": mask_text(detail)[:MAX_DETAIL_CHARS]}
        with self.db.write() as conn:
            row["id"] = conn.execute(audit_log.insert().values(
                at=row["at"], kind=kind, account=account, action=action, conversation_id=conversation_id,
                detail=row["detail"])).inserted_primary_key[0]
        return row

    def entries(self, conversation_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` rows, newest first; only one conversation's with `conversation_id`."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        query = sa.select(*(audit_log.c[name] for name in _FIELDS)).order_by(audit_log.c.id.desc()).limit(limit)
        if conversation_id:
            query = query.where(audit_log.c.conversation_id == conversation_id)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [dict(zip(_FIELDS, row)) for row in rows]

    def purge_older_than(self, seconds: float) -> int:
        """Delete the rows older than `seconds`; how many went. (A retention command calls this.)"""
        with self.db.write() as conn:
            return conn.execute(audit_log.delete().where(audit_log.c.at < time.time() - seconds)).rowcount

    def close(self) -> None:
        if self._owns_db:
            self.db.dispose()

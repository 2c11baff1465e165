"""The operators' review queue: departments' extension and return requests, with the ticket they
concern. (The requests and decisions themselves are ticket actions, see TicketService.act.)"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Mapping

from sqlalchemy import select

from contract.vocabulary import OPEN_STATUSES, department_for

from .clock import iso_local, to_utc_naive
from .db import Database
from .models import reviews, tickets

MAX_REVIEW_LIMIT = 200

_ITEMS = select(
    reviews,
    tickets.c.category.label("t_category"),
    tickets.c.kind.label("t_kind"),
    tickets.c.description.label("t_description"),
    tickets.c.department.label("t_department"),
    tickets.c.deadline.label("t_deadline"),
    tickets.c.status.label("t_status"),
).select_from(reviews.join(tickets, reviews.c.ticket_id == tickets.c.id))


def list_reviews(db: Database, now: dt.datetime, status: str = "pending", limit: int = 50,
                 offset: int = 0) -> List[Dict[str, Any]]:
    """Oldest first: pending ones by when they were asked, decided ones by when they were decided
    (approved, rejected, or withdrawn because the ticket moved on)."""
    if status == "pending":
        query = _ITEMS.where(reviews.c.status == "pending").order_by(reviews.c.requested_at, reviews.c.id)
    else:
        query = _ITEMS.where(reviews.c.status != "pending").order_by(reviews.c.decided_at, reviews.c.id)
    with db.read() as conn:
        rows = conn.execute(query.limit(min(limit, MAX_REVIEW_LIMIT)).offset(offset)).mappings().all()
    stamp = to_utc_naive(now)
    return [present_review(row, stamp) for row in rows]


def present_review(row: Mapping[str, Any], stamp: dt.datetime) -> Dict[str, Any]:
    suggested = None
    if row["type"] == "return":
        usual = department_for(row["t_category"])
        suggested = usual if usual != row["department"] else None
    return {
        "id": row["id"],
        "ticket_id": row["ticket_id"],
        "type": row["type"],
        "reason": row["reason"],
        "new_deadline": row["new_deadline"],
        "requested_at": iso_local(row["requested_at"]),
        "requested_by": row["requested_by"],
        "department": row["department"],
        "status": row["status"],
        "decided_at": iso_local(row["decided_at"]),
        "decided_by": row["decided_by"],
        "decision_reason": row["decision_reason"],
        "decided_deadline": row["decided_deadline"],
        "decided_department": row["decided_department"],
        "suggested_department": suggested,
        "ticket": {
            "id": row["ticket_id"],
            "category": row["t_category"],
            "kind": row["t_kind"],
            "description": row["t_description"],
            "department": row["t_department"],
            "deadline": iso_local(row["t_deadline"]),
            "status": row["t_status"],
            "overdue": row["t_status"] in OPEN_STATUSES and stamp > row["t_deadline"],
        },
    }

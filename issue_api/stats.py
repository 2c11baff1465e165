"""Hotline figures for the console, computed by the database (GROUP BY and SUM), never by loading
every ticket into Python: the cost stays flat as the ticket table grows.

Definitions (contract): total = all tickets; resolved = tickets that reached 办结 (resolved or
closed); resolution_rate = resolved / (total - cancelled); on_time_rate = share of resolved tickets
whose last resolution was at or before their deadline; overdue = open tickets past their deadline;
avg_rating = mean of each ticket's latest score. Rates are 0.0 when there is nothing to divide by;
avg_rating is null when nobody has rated yet.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from sqlalchemy import and_, case, func, select

from .clock import SHANGHAI, Clock, to_utc_naive
from .db import Database
from .models import tickets
from .vocabulary import CATEGORIES, KIND_LABELS, OPEN_STATUSES, RESOLVED_STATUSES, STATUS_LABELS

WEEKS_SHOWN = 8


def _counts(conn, column) -> Dict[str, int]:  # type: ignore[no-untyped-def]
    rows = conn.execute(select(column, func.count()).group_by(column)).all()
    return {key: int(count) for key, count in rows}


def compute_stats(db: Database, clock: Clock) -> Dict[str, Any]:
    now = clock.now()
    today = now.astimezone(SHANGHAI).date()
    first_monday = today - dt.timedelta(days=today.weekday(), weeks=WEEKS_SHOWN - 1)
    is_resolved = tickets.c.status.in_(RESOLVED_STATUSES)
    summary_query = select(
        func.sum(case((and_(is_resolved, tickets.c.resolved_at <= tickets.c.deadline), 1), else_=0)),
        func.sum(case((and_(tickets.c.status.in_(OPEN_STATUSES), tickets.c.deadline < to_utc_naive(now)), 1), else_=0)),
        func.avg(tickets.c.rating_score),
        func.count(tickets.c.rating_score),
    )
    with db.read() as conn:
        by_status = _counts(conn, tickets.c.status)
        by_category = _counts(conn, tickets.c.category)
        by_kind = _counts(conn, tickets.c.kind)
        on_time, overdue, avg_rating, rated = conn.execute(summary_query).one()
        daily = conn.execute(
            select(tickets.c.created_day, func.count())
            .where(tickets.c.created_day >= first_monday.isoformat())
            .group_by(tickets.c.created_day)
        ).all()

    total = sum(by_status.values())
    resolved = sum(by_status.get(status, 0) for status in RESOLVED_STATUSES)
    cancelled = by_status.get("cancelled", 0)
    active = total - cancelled
    return {
        "total": total,
        "resolved": resolved,
        "cancelled": cancelled,
        "resolution_rate": round(resolved / active, 4) if active else 0.0,
        "on_time_rate": round(int(on_time or 0) / resolved, 4) if resolved else 0.0,
        "overdue": int(overdue or 0),
        "avg_rating": round(float(avg_rating), 2) if avg_rating is not None else None,
        "rated": int(rated or 0),
        "by_category": {name: by_category.get(name, 0) for name in CATEGORIES},
        "by_status": {name: by_status.get(name, 0) for name in STATUS_LABELS},
        "by_kind": {name: by_kind.get(name, 0) for name in KIND_LABELS},
        "by_week": _weeks(first_monday, {day: int(count) for day, count in daily}),
    }


def _weeks(first_monday: dt.date, per_day: Dict[str, int]) -> List[Dict[str, Any]]:
    weeks = []
    for index in range(WEEKS_SHOWN):
        monday = first_monday + dt.timedelta(weeks=index)
        days = (monday + dt.timedelta(days=offset) for offset in range(7))
        year, week, _ = monday.isocalendar()
        weeks.append({
            "week": f"{year}-W{week:02d}",
            "start": monday.isoformat(),
            "count": sum(per_day.get(day.isoformat(), 0) for day in days),
        })
    return weeks

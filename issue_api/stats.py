"""Hotline figures for the console, computed by the database, never by loading every ticket.

One grouped scan (GROUP BY status, category, kind) reduces the whole table to at most
6 x 12 x 6 rows that carry the counts and sums; the breakdowns and totals are added up from those.
A second query counts the last weeks' filings through the created_at index.

Definitions (contract): total = all tickets; resolved = tickets that reached 办结 (resolved or
closed); resolution_rate = resolved / (total - cancelled); on_time_rate = share of resolved tickets
whose last resolution was at or before their deadline; overdue = open tickets past their deadline;
avg_rating = mean of each ticket's latest score. Rates are 0.0 when there is nothing to divide by;
avg_rating is null when nobody has rated yet.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Dict, List

from sqlalchemy import and_, case, func, select

from .clock import SHANGHAI, Clock, to_utc_naive
from .db import Database
from .models import tickets
from contract.vocabulary import CATEGORIES, KIND_LABELS, OPEN_STATUSES, RESOLVED_STATUSES, STATUS_LABELS

WEEKS_SHOWN = 8


def compute_stats(db: Database, clock: Clock) -> Dict[str, Any]:
    now = clock.now()
    today = now.astimezone(SHANGHAI).date()
    first_monday = today - dt.timedelta(days=today.weekday(), weeks=WEEKS_SHOWN - 1)
    since = to_utc_naive(dt.datetime.combine(first_monday, dt.time(0, 0), tzinfo=SHANGHAI))
    is_resolved = tickets.c.status.in_(RESOLVED_STATUSES)
    grouped = select(
        tickets.c.status,
        tickets.c.category,
        tickets.c.kind,
        func.count(),
        func.sum(case((and_(is_resolved, tickets.c.resolved_at <= tickets.c.deadline), 1), else_=0)),
        func.sum(case((and_(tickets.c.status.in_(OPEN_STATUSES), tickets.c.deadline < to_utc_naive(now)), 1), else_=0)),
        func.sum(tickets.c.rating_score),
        func.count(tickets.c.rating_score),
    ).group_by(tickets.c.status, tickets.c.category, tickets.c.kind)
    weekly = (select(tickets.c.created_day, func.count())
              .where(tickets.c.created_at >= since)
              .group_by(tickets.c.created_day))
    with db.read() as conn:
        groups = conn.execute(grouped).all()
        daily = conn.execute(weekly).all()

    by_status: Counter = Counter()
    by_category: Counter = Counter()
    by_kind: Counter = Counter()
    on_time = overdue = rating_sum = rated = 0
    for status, category, kind, count, group_on_time, group_overdue, group_rating_sum, group_rated in groups:
        by_status[status] += count
        by_category[category] += count
        by_kind[kind] += count
        on_time += int(group_on_time or 0)
        overdue += int(group_overdue or 0)
        rating_sum += int(group_rating_sum or 0)
        rated += int(group_rated or 0)

    total = sum(by_status.values())
    resolved = sum(by_status[status] for status in RESOLVED_STATUSES)
    cancelled = by_status["cancelled"]
    active = total - cancelled
    return {
        "total": total,
        "resolved": resolved,
        "cancelled": cancelled,
        "resolution_rate": round(resolved / active, 4) if active else 0.0,
        "on_time_rate": round(on_time / resolved, 4) if resolved else 0.0,
        "overdue": overdue,
        "avg_rating": round(rating_sum / rated, 2) if rated else None,
        "rated": rated,
        "by_category": {name: by_category[name] for name in CATEGORIES},
        "by_status": {name: by_status[name] for name in STATUS_LABELS},
        "by_kind": {name: by_kind[name] for name in KIND_LABELS},
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

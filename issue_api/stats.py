"""Hotline figures for the console, computed by the database, never by loading every ticket.

One grouped scan (GROUP BY status, category, kind) reduces the whole table to at most
6 x 12 x 6 rows that carry the counts and sums; the breakdowns and totals are added up from those.
A second query counts the last weeks' filings through the created_at index.

Definitions (contract): total = all tickets; resolved = tickets that reached 办结 (resolved or
closed); resolution_rate = resolved / (total - cancelled); on_time_rate = share of resolved tickets
whose last resolution was at or before their deadline; overdue = open tickets past their deadline;
avg_rating = mean of each ticket's latest score. Rates are 0.0 when there is nothing to divide by;
avg_rating is null when nobody has rated yet.

The department loop adds: extensions/returns requested (every request ever made) and approved;
reworked = tickets sent back at least once; callbacks_pending = callbacks still owed (pending or
being called); callbacks_failed = callbacks given up after the last attempt.

Per department (department_stats): the tickets each department holds now (a returned ticket
counts for the department it was reassigned to), its overdue tickets by id, satisfaction = share
of ratings of 3 (基本满意) or more (null without ratings), rework_count = reworks of its tickets, and
the extension and return requests it made itself. A department appears when it holds tickets or
made requests.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Dict, List

from sqlalchemy import and_, case, func, select

from .clock import SHANGHAI, Clock, to_utc_naive
from .db import Database
from .models import callbacks, reviews, tickets
from .tickets import DISPATCHED
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
        func.sum(case((tickets.c.rework_count > 0, 1), else_=0)),
    ).group_by(tickets.c.status, tickets.c.category, tickets.c.kind)
    weekly = (select(tickets.c.created_day, func.count())
              .where(tickets.c.created_at >= since)
              .group_by(tickets.c.created_day))
    with db.read() as conn:
        groups = conn.execute(grouped).all()
        daily = conn.execute(weekly).all()
        review_counts = {(kind, status): int(count) for kind, status, count in conn.execute(_REVIEW_COUNTS)}
        callback_counts = {status: int(count) for status, count in conn.execute(_CALLBACK_COUNTS)}

    by_status: Counter = Counter()
    by_category: Counter = Counter()
    by_kind: Counter = Counter()
    on_time = overdue = rating_sum = rated = reworked = 0
    for (status, category, kind, count, group_on_time, group_overdue, group_rating_sum, group_rated,
         group_reworked) in groups:
        by_status[status] += count
        by_category[category] += count
        by_kind[kind] += count
        on_time += int(group_on_time or 0)
        overdue += int(group_overdue or 0)
        rating_sum += int(group_rating_sum or 0)
        rated += int(group_rated or 0)
        reworked += int(group_reworked or 0)

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
        "extensions_requested": sum(n for (kind, _), n in review_counts.items() if kind == "extension"),
        "extensions_approved": review_counts.get(("extension", "approved"), 0),
        "returns_requested": sum(n for (kind, _), n in review_counts.items() if kind == "return"),
        "returns_approved": review_counts.get(("return", "approved"), 0),
        "reworked": reworked,
        "callbacks_pending": callback_counts.get("pending", 0) + callback_counts.get("calling", 0),
        "callbacks_failed": callback_counts.get("failed", 0),
    }


_REVIEW_COUNTS = select(reviews.c.type, reviews.c.status, func.count()).group_by(reviews.c.type, reviews.c.status)
_CALLBACK_COUNTS = select(callbacks.c.status, func.count()).group_by(callbacks.c.status)
_REQUESTS_BY_DEPARTMENT = (select(reviews.c.department, reviews.c.type, func.count())
                           .group_by(reviews.c.department, reviews.c.type))


def department_stats(db: Database, clock: Clock) -> List[Dict[str, Any]]:
    """One row per department, ordered by name (module docstring): three grouped queries."""
    stamp = to_utc_naive(clock.now())
    is_open = tickets.c.status.in_(OPEN_STATUSES)
    is_resolved = tickets.c.status.in_(RESOLVED_STATUSES)
    late = and_(is_open, tickets.c.deadline < stamp)
    grouped = select(
        tickets.c.department,
        func.count(),
        func.sum(case((is_open, 1), else_=0)),
        func.sum(case((is_resolved, 1), else_=0)),
        func.sum(case((and_(is_resolved, tickets.c.resolved_at <= tickets.c.deadline), 1), else_=0)),
        func.sum(tickets.c.rating_score),
        func.count(tickets.c.rating_score),
        func.sum(case((tickets.c.rating_score >= 3, 1), else_=0)),
        func.sum(tickets.c.rework_count),
    ).where(DISPATCHED).group_by(tickets.c.department)  # a department's figures start at its dispatch
    overdue_ids = (select(tickets.c.department, tickets.c.id).where(late, DISPATCHED)
                   .order_by(tickets.c.deadline, tickets.c.id))
    with db.read() as conn:
        groups = conn.execute(grouped).all()
        overdue: Dict[str, List[str]] = {}
        for department, ticket_id in conn.execute(overdue_ids):
            overdue.setdefault(department, []).append(ticket_id)
        requests = {(department, kind): int(count) for department, kind, count in conn.execute(_REQUESTS_BY_DEPARTMENT)}

    rows: Dict[str, Dict[str, Any]] = {}
    for (department, total, open_count, resolved, on_time, rating_sum, rated, satisfied, reworks) in groups:
        resolved, rated = int(resolved or 0), int(rated or 0)
        rows[department] = {
            "department": department,
            "total": int(total),
            "open": int(open_count or 0),
            "resolved": resolved,
            "on_time_rate": round(int(on_time or 0) / resolved, 4) if resolved else 0.0,
            "overdue": len(overdue.get(department, [])),
            "overdue_tickets": overdue.get(department, []),
            "avg_rating": round(int(rating_sum or 0) / rated, 2) if rated else None,
            "satisfaction_rate": round(int(satisfied or 0) / rated, 4) if rated else None,
            "rework_count": int(reworks or 0),
        }
    for department, _ in requests:
        rows.setdefault(department, {
            "department": department, "total": 0, "open": 0, "resolved": 0, "on_time_rate": 0.0, "overdue": 0,
            "overdue_tickets": [], "avg_rating": None, "satisfaction_rate": None, "rework_count": 0,
        })
    for department, row in rows.items():
        row["extensions"] = requests.get((department, "extension"), 0)
        row["returns"] = requests.get((department, "return"), 0)
    # Sorted here, not by ORDER BY: SQLite and PostgreSQL collate Chinese differently.
    return [rows[name] for name in sorted(rows)]


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

"""回访 (satisfaction callbacks): a durable schedule in the issue API's database.

Every resolution creates the ticket's row in `callbacks`, or resets it (again after rework): pending,
no attempts, due at once. A dialer (the phone callbacks, or an operator by hand) lists what is due,
claims one row, calls, and reports the outcome; the rating itself arrives through the ordinary
POST /tickets/{id}/rating, which marks the callback done whatever path it took.

    pending --claim--> calling --attempt--> pending (retry later) | failed (too many) | done (declined)
    pending/calling/failed --rating--> done          open ticket cancelled --> cancelled

A claim is one conditional UPDATE (due, or calling with an expired lease): on SQLite writers are
serialised, on PostgreSQL the second of two racing UPDATEs re-checks the condition on the row the
first one committed, so exactly one claimer wins either way. The lease bounds how long a dialer
that died mid-call keeps the row.

Calls are only due inside the callback hours of a working day (Beijing time, the deadlines'
calendar): outside them nothing is due and nothing can be claimed.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from contract.vocabulary import CALLBACK_OUTCOME_LABELS, CALLBACK_STATUS_LABELS, is_ticket_id

from .accounts import Account
from .calendar import WorkingCalendar
from .clock import Clock, iso_local, to_utc_naive
from .db import Database
from .errors import ApiError
from .models import callbacks, ticket_events, tickets

log = logging.getLogger("issue_api.callbacks")

MAX_CALLBACK_LIMIT = 200
ACTIVE = ("pending", "calling")

_ITEM = (
    select(
        callbacks,
        tickets.c.phone.label("t_phone"),
        tickets.c.contact_name.label("t_contact_name"),
        tickets.c.company.label("t_company"),
        tickets.c.description.label("t_description"),
        tickets.c.result.label("t_result"),
        tickets.c.department.label("t_department"),
        tickets.c.resolved_at.label("t_resolved_at"),
        tickets.c.conversation_id.label("t_conversation_id"),
    )
    .select_from(callbacks.join(tickets, callbacks.c.ticket_id == tickets.c.id))
)
_ITEM_BY_ID = _ITEM.where(callbacks.c.ticket_id == bindparam("ticket_id"))
_TICKET_LOCK = select(tickets.c.id).where(tickets.c.id == bindparam("ticket_id")).with_for_update()
_STATUS_OF = select(callbacks.c.status, callbacks.c.attempts, callbacks.c.next_attempt_at,
                    callbacks.c.lease_until).where(callbacks.c.ticket_id == bindparam("ticket_id"))


# ---- inside a ticket's transaction (tickets.py holds the ticket's row lock) ----------------------

def schedule(conn: Connection, ticket_id: str, channel: str, stamp: dt.datetime) -> None:
    """On every resolution: pending, no attempts, due now (an old row is reset, its history kept)."""
    values = {"channel": channel, "status": "pending", "attempts": 0, "next_attempt_at": stamp,
              "lease_until": None, "last_outcome": None, "updated_at": stamp}
    found = conn.execute(select(callbacks.c.ticket_id).where(callbacks.c.ticket_id == ticket_id)).first()
    if found:
        conn.execute(update(callbacks).where(callbacks.c.ticket_id == ticket_id).values(**values))
    else:
        conn.execute(callbacks.insert().values(ticket_id=ticket_id, created_at=stamp, **values))


def finish_on_rating(conn: Connection, ticket_id: str, stamp: dt.datetime) -> Optional[str]:
    """A rating arrived (any path): the callback is done. Returns the status it had when the call
    was still owed (pending or calling), so that the history can say the 回访 is complete."""
    found = conn.execute(_STATUS_OF, {"ticket_id": ticket_id}).first()
    if found is None or found.status == "done":
        return None
    conn.execute(update(callbacks).where(callbacks.c.ticket_id == ticket_id)
                 .values(status="done", lease_until=None, updated_at=stamp))
    return found.status if found.status in ACTIVE else None


def cancel(conn: Connection, ticket_id: str, stamp: dt.datetime) -> None:
    """The ticket was cancelled: nobody is to be called about it any more."""
    conn.execute(update(callbacks).where(callbacks.c.ticket_id == ticket_id, callbacks.c.status != "done")
                 .values(status="cancelled", lease_until=None, updated_at=stamp))


# ---- the routes -------------------------------------------------------------------------------

def _due(stamp: dt.datetime) -> ColumnElement:
    """Pending and due, or claimed by a dialer whose lease ran out."""
    return or_(and_(callbacks.c.status == "pending", callbacks.c.next_attempt_at <= stamp),
               and_(callbacks.c.status == "calling", callbacks.c.lease_until < stamp))


def not_found() -> ApiError:
    return ApiError(404, "callback_not_found", "该工单没有回访任务")


@dataclass(frozen=True)
class CallbackPolicy:
    hours: Sequence[Tuple[dt.time, dt.time]]
    lease_seconds: int = 600
    retry_minutes: int = 60
    max_attempts: int = 3

    def hours_text(self) -> str:
        return "、".join(f"{start.strftime('%H:%M')}-{end.strftime('%H:%M')}" for start, end in self.hours)


class CallbackService:
    def __init__(self, db: Database, calendar: WorkingCalendar, clock: Clock, policy: CallbackPolicy) -> None:
        self.db = db
        self.calendar = calendar
        self.clock = clock
        self.policy = policy

    def in_hours(self, now: dt.datetime) -> bool:
        return self.calendar.within_hours(now, self.policy.hours)

    def search(self, *, status: Optional[str] = None, channel: Optional[str] = None, due: bool = False,
               limit: int = 50) -> List[Dict[str, Any]]:
        """Soonest due first. `due`: only what may be called right now (nothing outside the hours)."""
        now = self.clock.now()
        query = _ITEM
        if due:
            if not self.in_hours(now):
                return []
            query = query.where(_due(to_utc_naive(now)))
        if status:
            query = query.where(callbacks.c.status == status)
        if channel:
            query = query.where(callbacks.c.channel == channel)
        query = query.order_by(callbacks.c.next_attempt_at, callbacks.c.ticket_id).limit(min(limit, MAX_CALLBACK_LIMIT))
        with self.db.read() as conn:
            return [present_callback(row) for row in conn.execute(query).mappings()]

    def claim(self, ticket_id: str, account: Account) -> Dict[str, Any]:
        """Take a due callback for one dialer: "calling" until the lease ends; 409 otherwise."""
        if not is_ticket_id(ticket_id):
            raise not_found()
        now = self.clock.now()
        stamp = to_utc_naive(now)
        lease_until = stamp + dt.timedelta(seconds=self.policy.lease_seconds)
        with self.db.write() as conn:
            claimed = False
            if self.in_hours(now):
                result = conn.execute(
                    update(callbacks).where(callbacks.c.ticket_id == ticket_id, _due(stamp))
                    .values(status="calling", lease_until=lease_until, updated_at=stamp))
                claimed = result.rowcount == 1
            if not claimed:
                raise self._why_not_due(conn, ticket_id, now)
            item = present_callback(conn.execute(_ITEM_BY_ID, {"ticket_id": ticket_id}).mappings().one())
        log.info("callback %s claimed by %s until %s", ticket_id, account.actor, item["lease_until"])
        return item

    def _why_not_due(self, conn: Connection, ticket_id: str, now: dt.datetime) -> ApiError:
        found = conn.execute(_STATUS_OF, {"ticket_id": ticket_id}).first()
        if found is None:
            return not_found()
        if found.status not in ACTIVE:
            message = f"该回访任务{CALLBACK_STATUS_LABELS[found.status]}，无需拨打"
        elif not self.in_hours(now):
            message = f"现在不是回访时段(工作日 {self.policy.hours_text()})，请在回访时段内拨打"
        elif found.status == "calling":
            message = "该回访任务正由其他坐席拨打"
        else:
            message = f"该回访任务还未到拨打时间(下次拨打：{_hhmm(found.next_attempt_at)})"
        return ApiError(409, "callback_not_due", message)

    def record_attempt(self, ticket_id: str, outcome: str, account: Account) -> Dict[str, Any]:
        """The outcome of one call without a rating: try again later, give up after the last
        attempt (event for the operators), or end at once when the reporter declines to rate."""
        if not is_ticket_id(ticket_id):
            raise not_found()
        now = self.clock.now()
        stamp = to_utc_naive(now)
        with self.db.write() as conn:
            # The ticket's row first, then the callback's: the order of a rating (tickets.py), so that
            # a rating and an attempt at the same moment queue instead of deadlocking on PostgreSQL.
            conn.execute(_TICKET_LOCK, {"ticket_id": ticket_id})
            found = conn.execute(_STATUS_OF, {"ticket_id": ticket_id}).first()
            if found is None:
                raise not_found()
            if found.status != "calling":
                if found.status in ACTIVE:
                    raise ApiError(409, "callback_not_calling", "该回访任务尚未领取，请先领取再登记拨打结果")
                raise ApiError(409, "callback_not_calling",
                               f"该回访任务{CALLBACK_STATUS_LABELS[found.status]}，不能再登记拨打结果")
            attempts = found.attempts + 1
            label = CALLBACK_OUTCOME_LABELS[outcome]
            values: Dict[str, Any] = {"attempts": attempts, "last_outcome": outcome, "lease_until": None,
                                      "updated_at": stamp}
            event: Optional[Tuple[str, str]] = None
            if outcome == "declined":
                values["status"] = "done"
                event = ("callback_done", f"回访结束：{label}(第 {attempts} 次拨打)")
            elif attempts >= self.policy.max_attempts:
                values["status"] = "failed"
                event = ("callback_failed", f"回访失败：{label} 共 {attempts} 次")
            else:
                values["status"] = "pending"
                values["next_attempt_at"] = stamp + dt.timedelta(minutes=self.policy.retry_minutes)
            conn.execute(update(callbacks).where(callbacks.c.ticket_id == ticket_id).values(**values))
            if event is not None:
                conn.execute(ticket_events.insert().values(ticket_id=ticket_id, at=stamp, action=event[0],
                                                           role=account.role, actor=account.actor, note=event[1]))
                conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(updated_at=stamp))
            item = present_callback(conn.execute(_ITEM_BY_ID, {"ticket_id": ticket_id}).mappings().one())
        log.info("callback %s: attempt %d by %s, %s, now %s", ticket_id, attempts, account.actor, outcome,
                 item["status"])
        return item


def _hhmm(value: Optional[dt.datetime]) -> str:
    local = iso_local(value) or ""
    return f"{local[5:10]} {local[11:16]}" if local else "未知"


def present_callback(row: Mapping[str, Any]) -> Dict[str, Any]:
    """A callback with what the dialer needs to call and talk (full phone: operators and admins only)."""
    return {
        "ticket_id": row["ticket_id"],
        "channel": row["channel"],
        "status": row["status"],
        "status_label": CALLBACK_STATUS_LABELS[row["status"]],
        "attempts": row["attempts"],
        "next_attempt_at": iso_local(row["next_attempt_at"]),
        "lease_until": iso_local(row["lease_until"]) if row["status"] == "calling" else None,
        "last_outcome": row["last_outcome"],
        "created_at": iso_local(row["created_at"]),
        "updated_at": iso_local(row["updated_at"]),
        "ticket": {
            "id": row["ticket_id"],
            "phone": row["t_phone"],
            "contact_name": row["t_contact_name"],
            "company": row["t_company"],
            "description": row["t_description"],
            "result": row["t_result"],
            "department": row["t_department"],
            "resolved_at": iso_local(row["t_resolved_at"]),
            "conversation_id": row["t_conversation_id"],
        },
    }

"""Filing, reading and acting on tickets: the service's use cases, one transaction each.

Every change is a single write transaction that also appends to the ticket's history, so the
history can never disagree with the ticket. Idempotency keys are rows with a primary key: a repeat
(or a request racing the first one) either finds the row or hits the unique constraint, and in both
cases gets the first outcome back instead of a second ticket or a second urge.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from contract.phones import mask_phone
from contract.vocabulary import (
    department_for,
    ACTION_LABELS,
    DEFAULT_CHANNEL,
    DEFAULT_KIND,
    KIND_LABELS,
    OPEN_STATUSES,
    RATING_LABELS,
    STATUS_LABELS,
)

from . import workflow
from .calendar import WorkingCalendar
from .clock import SHANGHAI, Clock, iso_local, to_utc_naive
from .db import Database
from .errors import ApiError, not_found
from .ids import allocate_ticket_id, looks_like_ticket_id, next_ticket_id
from .models import idempotency_keys, ticket_events, tickets

MAX_LIST_LIMIT = 200
log = logging.getLogger("issue_api.tickets")

# Statements built once: constructing and cache-keying a SELECT costs more than running it on SQLite.
_TICKET_BY_ID = select(tickets).where(tickets.c.id == bindparam("ticket_id"))
_STATUS_FOR_UPDATE = select(tickets.c.status).where(tickets.c.id == bindparam("ticket_id")).with_for_update()
_EVENT_COLUMNS = (ticket_events.c.ticket_id, ticket_events.c.at, ticket_events.c.action, ticket_events.c.role,
                  ticket_events.c.note)
_EVENTS_OF_TICKET = (select(*_EVENT_COLUMNS).where(ticket_events.c.ticket_id == bindparam("ticket_id"))
                     .order_by(ticket_events.c.id))
_EVENTS_OF_TICKETS = (select(*_EVENT_COLUMNS).where(ticket_events.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)))
                      .order_by(ticket_events.c.id))
_KEY_LOOKUP = select(idempotency_keys).where(idempotency_keys.c.key == bindparam("key"))
_INSERT_TICKET = tickets.insert()
_INSERT_EVENT = ticket_events.insert()
_INSERT_KEY = idempotency_keys.insert()


@dataclass
class Outcome:
    ticket: Dict[str, Any]
    replayed: bool = False  # True when an Idempotency-Key repeat returned the earlier result


def fingerprint(action: str, ticket_id: Optional[str], payload: Mapping[str, Any]) -> str:
    canonical = json.dumps([action, ticket_id, payload], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class TicketService:
    def __init__(self, db: Database, calendar: WorkingCalendar, clock: Clock) -> None:
        self.db = db
        self.calendar = calendar
        self.clock = clock

    # ---- filing -------------------------------------------------------------------------------

    def file(self, data: Mapping[str, Any], role: str, idempotency_key: Optional[str]) -> Outcome:
        now = self.clock.now()
        kind = data.get("kind") or DEFAULT_KIND
        digest = fingerprint("file", None, data)
        local_day = now.astimezone(SHANGHAI).date()
        ticket_id: Optional[str] = None
        if not self.db.is_sqlite:  # see ids.py: the number comes from a short transaction of its own
            if idempotency_key:
                with self.db.read() as conn:  # a plain repeat must not use up a number
                    earlier = self._replay(conn, idempotency_key, "file", None, digest, role)
                if earlier is not None:
                    return earlier
            ticket_id = allocate_ticket_id(self.db.engine, local_day)
        try:
            with self.db.write() as conn:
                if idempotency_key:
                    earlier = self._replay(conn, idempotency_key, "file", None, digest, role)
                    if earlier is not None:
                        return earlier
                if ticket_id is None:
                    ticket_id = next_ticket_id(conn, local_day)
                stamp = to_utc_naive(now)
                row = self._new_row(data, ticket_id, kind, now)
                event = {"ticket_id": ticket_id, "at": stamp, "action": "filed", "role": role,
                         "note": f"{KIND_LABELS[kind]} · {data['category']} · 拟派 {row['department']}"}
                conn.execute(_INSERT_TICKET, row)
                conn.execute(_INSERT_EVENT, event)
                if idempotency_key:
                    self._remember(conn, idempotency_key, "file", ticket_id, digest, stamp)
            log.info("ticket %s filed by %s: %s, %s, via %s", ticket_id, role, kind, row["category"], row["channel"])
            return Outcome(present(row, [event], role, now))
        except IntegrityError:
            if not idempotency_key:
                raise
            return self._replay_after_race(idempotency_key, "file", None, digest, role)

    def _new_row(self, data: Mapping[str, Any], ticket_id: str, kind: str, now: dt.datetime) -> Dict[str, Any]:
        stamp = to_utc_naive(now)
        return {
            "id": ticket_id,
            "status": "received",
            "kind": kind,
            "category": data["category"],
            "company": data["company"],
            "contact_name": data["contact_name"],
            "phone": data["phone"],
            "description": data["description"],
            "location": data.get("location"),
            "channel": data.get("channel") or DEFAULT_CHANNEL,
            "conversation_id": data.get("conversation_id"),
            "department": department_for(data["category"]),
            "created_at": stamp,
            "created_day": now.astimezone(SHANGHAI).date().isoformat(),
            "updated_at": stamp,
            "deadline": to_utc_naive(self.calendar.deadline(now, kind)),
            "resolved_at": None,
            "result": None,
            "cancel_reason": None,
            "urge_count": 0,
            "rework_count": 0,
            "rating_score": None,
            "rating_comment": None,
            "rated_at": None,
        }

    # ---- reading ------------------------------------------------------------------------------

    def get(self, ticket_id: str, role: str) -> Dict[str, Any]:
        if not looks_like_ticket_id(ticket_id):
            raise not_found()
        with self.db.read() as conn:
            return self._load(conn, ticket_id, role)

    def search(self, role: str, phone: Optional[str], status: Optional[str], limit: int) -> List[Dict[str, Any]]:
        """Newest first; at most `limit` tickets."""
        query = select(tickets)
        if phone:
            query = query.where(tickets.c.phone == phone)
        if status:
            query = query.where(tickets.c.status == status)
        query = query.order_by(tickets.c.created_at.desc(), tickets.c.id.desc()).limit(min(limit, MAX_LIST_LIMIT))
        now = self.clock.now()
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
            events = self._events(conn, [row["id"] for row in rows])
        return [present(row, events.get(row["id"], []), role, now) for row in rows]

    # ---- actions ------------------------------------------------------------------------------

    def act(self, ticket_id: str, action: str, role: str, payload: Mapping[str, Any],
            idempotency_key: Optional[str]) -> Outcome:
        """Apply one workflow action (assign, start, resolve, cancel, urge, supplement, rate)."""
        if not looks_like_ticket_id(ticket_id):
            raise not_found()
        digest = fingerprint(action, ticket_id, payload)
        try:
            with self.db.write() as conn:
                if idempotency_key:
                    earlier = self._replay(conn, idempotency_key, action, ticket_id, digest, role)
                    if earlier is not None:
                        return earlier
                row = conn.execute(_STATUS_FOR_UPDATE, {"ticket_id": ticket_id}).first()
                if row is None:
                    raise not_found()
                now = self.clock.now()
                stamp = to_utc_naive(now)
                values, events = self._effects(action, row.status, payload, stamp)
                values["updated_at"] = stamp
                conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))
                conn.execute(_INSERT_EVENT, [
                    {"ticket_id": ticket_id, "at": stamp, "action": name, "role": role, "note": note}
                    for name, note in events
                ])
                if idempotency_key:
                    self._remember(conn, idempotency_key, action, ticket_id, digest, stamp)
                outcome = Outcome(self._load(conn, ticket_id, role))
            log.info("ticket %s: %s by %s, now %s", ticket_id, action, role, outcome.ticket["status"])
            return outcome
        except IntegrityError:
            if not idempotency_key:
                raise
            return self._replay_after_race(idempotency_key, action, ticket_id, digest, role)

    def _effects(self, action: str, status: str, payload: Mapping[str, Any],
                 stamp: dt.datetime) -> Tuple[Dict[str, Any], List[Tuple[str, Optional[str]]]]:
        """Column changes and history events (action, note) for one action; 409 if not allowed."""
        new_status = workflow.next_status(status, action)
        note = payload.get("note")
        if action == "assign":
            department = payload["department"]
            text = f"派至 {department}" + (f":{note}" if note else "")
            return {"status": new_status, "department": department}, [("assigned", text)]
        if action == "start":
            return {"status": new_status}, [("started", note)]
        if action == "resolve":
            return ({"status": new_status, "result": payload["result"], "resolved_at": stamp},
                    [("resolved", payload["result"])])
        if action == "cancel":
            return {"status": new_status, "cancel_reason": payload["reason"]}, [("cancelled", payload["reason"])]
        if action == "urge":
            return {"urge_count": tickets.c.urge_count + 1}, [("urged", note)]
        if action == "supplement":
            return {}, [("supplemented", payload["text"])]
        if action == "rate":
            score = int(payload["score"])
            comment = payload.get("comment")
            rated_note = f"{score} 分 {RATING_LABELS[score]}" + (f":{comment}" if comment else "")
            values: Dict[str, Any] = {"rating_score": score, "rating_comment": comment, "rated_at": stamp,
                                      "status": workflow.status_after_rating(score)}
            if values["status"] == "in_progress":
                values.update(rework_count=tickets.c.rework_count + 1, resolved_at=None)
                return values, [("rated", rated_note), ("reworked", "评价不满意,退回承办部门重新办理")]
            return values, [("rated", rated_note), ("closed", None)]
        raise ValueError(action)

    # ---- idempotency --------------------------------------------------------------------------

    def _replay(self, conn: Connection, key: str, action: str, ticket_id: Optional[str], digest: str,
                role: str) -> Optional[Outcome]:
        earlier = conn.execute(_KEY_LOOKUP, {"key": key}).first()
        if earlier is None:
            return None
        if earlier.action != action or earlier.fingerprint != digest or (ticket_id and earlier.ticket_id != ticket_id):
            raise ApiError(409, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求,请更换后重试")
        return Outcome(self._load(conn, earlier.ticket_id, role), replayed=True)

    def _replay_after_race(self, key: str, action: str, ticket_id: Optional[str], digest: str, role: str) -> Outcome:
        with self.db.read() as conn:
            earlier = self._replay(conn, key, action, ticket_id, digest, role)
        if earlier is None:  # the constraint that failed was not the key's: a real error
            raise RuntimeError("integrity error without an earlier idempotency key")
        return earlier

    @staticmethod
    def _remember(conn: Connection, key: str, action: str, ticket_id: str, digest: str, stamp: dt.datetime) -> None:
        conn.execute(_INSERT_KEY, {"key": key, "action": action, "ticket_id": ticket_id,
                                                 "fingerprint": digest, "created_at": stamp})

    # ---- loading ------------------------------------------------------------------------------

    def _load(self, conn: Connection, ticket_id: str, role: str) -> Dict[str, Any]:
        row = conn.execute(_TICKET_BY_ID, {"ticket_id": ticket_id}).mappings().first()
        if row is None:
            raise not_found()
        events = conn.execute(_EVENTS_OF_TICKET, {"ticket_id": ticket_id}).mappings().all()
        return present(row, events, role, self.clock.now())

    @staticmethod
    def _events(conn: Connection, ticket_ids: Sequence[str]) -> Dict[str, List[Mapping[str, Any]]]:
        if not ticket_ids:
            return {}
        rows = conn.execute(_EVENTS_OF_TICKETS, {"ticket_ids": list(ticket_ids)}).mappings().all()
        grouped: Dict[str, List[Mapping[str, Any]]] = {}
        for event in rows:
            grouped.setdefault(event["ticket_id"], []).append(event)
        return grouped


def present(row: Mapping[str, Any], events: Iterable[Mapping[str, Any]], role: str, now: dt.datetime) -> Dict[str, Any]:
    """The ticket as clients see it; the bot role only ever sees a masked phone number."""
    events = list(events)
    deadline = row["deadline"]
    overdue = row["status"] in OPEN_STATUSES and to_utc_naive(now) > deadline
    score = row["rating_score"]
    return {
        "id": row["id"],
        "status": row["status"],
        "status_label": STATUS_LABELS[row["status"]],
        "category": row["category"],
        "kind": row["kind"],
        "kind_label": KIND_LABELS[row["kind"]],
        "company": row["company"],
        "contact_name": row["contact_name"],
        "phone": mask_phone(row["phone"]) if role == "bot" else row["phone"],
        "description": row["description"],
        "location": row["location"],
        "channel": row["channel"],
        "conversation_id": row["conversation_id"],
        "department": row["department"],
        "created_at": iso_local(row["created_at"]),
        "updated_at": iso_local(row["updated_at"]),
        "deadline": iso_local(deadline),
        "overdue": overdue,
        "urge_count": row["urge_count"],
        "rework_count": row["rework_count"],
        "supplements": [
            {"at": iso_local(e["at"]), "text": e["note"], "role": e["role"]}
            for e in events if e["action"] == "supplemented"
        ],
        "rating": None if score is None else {
            "score": score, "label": RATING_LABELS[score], "comment": row["rating_comment"],
            "at": iso_local(row["rated_at"]),
        },
        "result": row["result"],
        "resolved_at": iso_local(row["resolved_at"]),
        "cancel_reason": row["cancel_reason"],
        "history": [
            {"at": iso_local(e["at"]), "action": e["action"], "action_label": ACTION_LABELS.get(e["action"], e["action"]),
             "note": e["note"], "role": e["role"]}
            for e in events
        ],
    }

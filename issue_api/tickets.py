"""Filing, reading and acting on tickets: the service's use cases, one transaction each.

Every change is a single write transaction that also appends to the ticket's history, so the
history can never disagree with the ticket. Idempotency keys are rows with a primary key: a repeat
(or a request racing the first one) either finds the row or hits the unique constraint, and in both
cases gets the first outcome back instead of a second ticket or a second urge.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from sqlalchemy import and_, bindparam, delete, not_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from contract.phones import mask_phone, mask_phones_in_text, mask_staff_text, same_phone
from contract.vocabulary import (
    department_for,
    is_ticket_id,
    ACTION_LABELS,
    REVIEW_TYPE_LABELS,
    DEFAULT_CHANNEL,
    DEFAULT_KIND,
    KIND_LABELS,
    OPEN_STATUSES,
    RATING_CHANNEL_LABELS,
    RATING_LABELS,
    REPORTER_ACTOR,
    STATUS_LABELS,
)

from . import callbacks as callback_schedule
from . import workflow
from .calendar import WorkingCalendar, end_of_day
from .clock import SHANGHAI, Clock, from_utc_naive, iso_local, to_utc_naive
from .db import Database
from .errors import ApiError, invalid_field, not_found
from .accounts import Account
from .ids import allocate_ticket_id, next_ticket_id
from .models import (client_day_attempts, client_proof_attempts, idempotency_keys, proof_attempts, reviews,
                     ticket_events, tickets)
from .proof import (ALL_CLIENTS, ALL_CLIENTS_KEY, CLIENT_DAY, ONE_CLIENT, Attempts, Policy, Proof,
                    client_key, code_matches, hash_code, new_code)

MAX_LIST_LIMIT = 200
MAX_EXTENSION_DAYS = 366  # a new deadline at most this long after the current one
log = logging.getLogger("issue_api.tickets")

# Statements built once: constructing and cache-keying a SELECT costs more than running it on SQLite.
_TICKET_BY_ID = select(tickets).where(tickets.c.id == bindparam("ticket_id"))
_ROW_FOR_UPDATE = (select(tickets.c.status, tickets.c.department, tickets.c.deadline, tickets.c.channel,
                          tickets.c.kind)
                   .where(tickets.c.id == bindparam("ticket_id")).with_for_update())
_EVENT_COLUMNS = (ticket_events.c.ticket_id, ticket_events.c.at, ticket_events.c.action, ticket_events.c.role,
                  ticket_events.c.note, ticket_events.c.actor)
_EVENTS_OF_TICKET = (select(*_EVENT_COLUMNS).where(ticket_events.c.ticket_id == bindparam("ticket_id"))
                     .order_by(ticket_events.c.id))
_EVENTS_OF_TICKETS = (select(*_EVENT_COLUMNS).where(ticket_events.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)))
                      .order_by(ticket_events.c.id))
_KEY_LOOKUP = select(idempotency_keys).where(idempotency_keys.c.key == bindparam("key"))
_INSERT_TICKET = tickets.insert()
_INSERT_EVENT = ticket_events.insert()
_INSERT_KEY = idempotency_keys.insert()
_ATTEMPTS = select(proof_attempts).where(proof_attempts.c.ticket_id == bindparam("ticket_id"))
_CLIENT_ATTEMPTS = select(client_proof_attempts).where(client_proof_attempts.c.ticket_id == bindparam("ticket_id"),
                                                       client_proof_attempts.c.client == bindparam("client"))
_CLIENT_DAY_FOR_UPDATE = select(client_day_attempts).where(
    client_day_attempts.c.client == bindparam("client")).with_for_update()
_TICKET_FOR_UPDATE = select(tickets.c.id).where(tickets.c.id == bindparam("ticket_id")).with_for_update()
_PENDING_REVIEW = select(reviews).where(reviews.c.ticket_id == bindparam("ticket_id"), reviews.c.status == "pending")
_PENDING_REVIEWS_OF_TICKETS = select(reviews).where(
    reviews.c.ticket_id.in_(bindparam("ticket_ids", expanding=True)), reviews.c.status == "pending")
_INSERT_REVIEW = reviews.insert()
# A department account sees a ticket from its dispatch (派单) on: not while it is only proposed to it
# (received), nor once withdrawn or answered by the hotline itself (直接办结) before anyone dispatched it.
_DISPATCHED_EVENT = (select(ticket_events.c.id)
                     .where(ticket_events.c.ticket_id == tickets.c.id, ticket_events.c.action == "assigned")
                     .exists())
DISPATCHED = and_(tickets.c.status != "received", _DISPATCHED_EVENT)
_WAS_DISPATCHED = select(ticket_events.c.id).where(ticket_events.c.ticket_id == bindparam("ticket_id"),
                                                   ticket_events.c.action == "assigned").limit(1)
_IS_DISPATCHED = select(tickets.c.id).where(tickets.c.id == bindparam("ticket_id"), DISPATCHED)


@dataclass
class Outcome:
    ticket: Dict[str, Any]
    replayed: bool = False  # True when an Idempotency-Key repeat returned the earlier result


NO_PROOF = Proof()
PROOF_REQUIRED = ("proof_required", "请提供登记时获得的查询码，或用登记时的电话拨打热线")


LEGACY_KEY_RETRY = dt.timedelta(days=1)  # how long a key stored before accounts counted answers its retries


class Fingerprint(NamedTuple):
    """What an Idempotency-Key stands for: the request, and who made it. Another account repeating a
    key is refused like another request (409), never answered with the first one's ticket, which it
    may have no right to read (the filing answer skips the proof). `before_accounts`: the same request
    as keys stored before accounts counted, so that a retry in flight across the upgrade is still
    answered (and never files twice), for a day (LEGACY_KEY_RETRY)."""
    current: str
    before_accounts: str


def fingerprint(action: str, ticket_id: Optional[str], payload: Mapping[str, Any], account: Account) -> Fingerprint:
    def digest(*parts: Any) -> str:
        canonical = json.dumps(list(parts), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    return Fingerprint(digest(action, ticket_id, payload, account.actor), digest(action, ticket_id, payload))


class TicketService:
    def __init__(self, db: Database, calendar: WorkingCalendar, clock: Clock, secret: str = "") -> None:
        self.db = db
        self.calendar = calendar
        self.clock = clock
        self.secret = secret  # keys the query codes' hashes (proof.py)

    # ---- filing -------------------------------------------------------------------------------

    def file(self, data: Mapping[str, Any], account: Account, idempotency_key: Optional[str]) -> Outcome:
        """A new ticket; its query code (given, or made here) is in the answer once, stored hashed."""
        data = dict(data)
        given_code = data.pop("query_code", None)
        now = self.clock.now()
        kind = data.get("kind") or DEFAULT_KIND
        digest = fingerprint("file", None, {**data, "query_code": given_code}, account)
        local_day = now.astimezone(SHANGHAI).date()
        ticket_id: Optional[str] = None
        if not self.db.is_sqlite:  # see ids.py: the number comes from a short transaction of its own
            if idempotency_key:
                with self.db.read() as conn:  # a plain repeat must not use up a number
                    earlier = self._replay(conn, idempotency_key, "file", None, digest, account)
                if earlier is not None:
                    return earlier
            ticket_id = allocate_ticket_id(self.db.engine, local_day)
        code = given_code or new_code()
        try:
            with self.db.write() as conn:
                if idempotency_key:
                    earlier = self._replay(conn, idempotency_key, "file", None, digest, account)
                    if earlier is not None:
                        return earlier
                if ticket_id is None:
                    ticket_id = next_ticket_id(conn, local_day)
                stamp = to_utc_naive(now)
                row = self._new_row(data, ticket_id, kind, now)
                row["query_code_hash"] = hash_code(ticket_id, code, self.secret)
                event = {"ticket_id": ticket_id, "at": stamp, "action": "filed", "role": account.role,
                         "actor": account.actor,
                         "note": f"{KIND_LABELS[kind]} · {data['category']} · 拟派 {row['department']}"}
                conn.execute(_INSERT_TICKET, row)
                conn.execute(_INSERT_EVENT, event)
                if idempotency_key:
                    self._remember(conn, idempotency_key, "file", ticket_id, digest, stamp)
            log.info("ticket %s filed by %s: %s, %s, via %s", ticket_id, account.actor, kind, row["category"],
                     row["channel"])
            return Outcome({**present(row, [event], account, now), "query_code": code})
        except IntegrityError:
            if not idempotency_key:
                raise
            return self._replay_after_race(idempotency_key, "file", None, digest, account)

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

    def get(self, ticket_id: str, account: Account, proof: Proof = NO_PROOF) -> Dict[str, Any]:
        if not is_ticket_id(ticket_id):
            raise not_found()
        self.require_proof(ticket_id, account, proof)
        with self.db.read() as conn:
            return self._load(conn, ticket_id, account)

    def search(self, account: Account, *, phone: Optional[str] = None, status: Optional[str] = None,
               conversation_id: Optional[str] = None, department: Optional[str] = None,
               overdue: Optional[bool] = None, limit: int = 50, offset: int = 0,
               proof: Proof = NO_PROOF) -> List[Dict[str, Any]]:
        """Newest first; at most `limit` tickets after the first `offset`. The bot lists only what it has proof for: the
        caller id's tickets, or the ones its conversation filed; a department only its own."""
        if account.role == "bot":
            by_caller = phone is not None and same_phone(phone, proof.caller_phone)
            by_conversation = conversation_id is not None and conversation_id == proof.conversation_id
            if not (by_caller or by_conversation):
                raise ApiError(403, *PROOF_REQUIRED)
        query = select(tickets)
        if account.role == "department":
            if account.department is None:
                return []
            department = account.department
            query = query.where(DISPATCHED)
        if phone:
            query = query.where(tickets.c.phone == phone)
        if status:
            query = query.where(tickets.c.status == status)
        if conversation_id:
            query = query.where(tickets.c.conversation_id == conversation_id)
        if department:
            query = query.where(tickets.c.department == department)
        now = self.clock.now()
        if overdue is not None:
            late = and_(tickets.c.status.in_(OPEN_STATUSES), tickets.c.deadline < to_utc_naive(now))
            query = query.where(late if overdue else not_(late))
        query = (query.order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
                 .limit(min(limit, MAX_LIST_LIMIT)).offset(offset))
        with self.db.read() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [row["id"] for row in rows]
            events = self._events(conn, ids)
            pending = self._pending_reviews(conn, ids) if account.role != "bot" else {}
        return [present(row, events.get(row["id"], []), account, now, pending.get(row["id"])) for row in rows]

    # ---- proof (bot role) ---------------------------------------------------------------------

    def require_proof(self, ticket_id: str, account: Account, proof: Proof) -> None:
        """For the bot role: 404 for an unknown ticket; 403 without proof that the conversation is
        the reporter's (nothing of the ticket is revealed); 429 while wrong codes are slowed down."""
        if account.role != "bot":
            return
        with self.db.read() as conn:
            row = conn.execute(select(tickets.c.phone, tickets.c.conversation_id, tickets.c.query_code_hash)
                               .where(tickets.c.id == ticket_id)).first()
        if row is None:
            raise not_found()
        if proof.caller_phone and same_phone(proof.caller_phone, row.phone):
            return
        if proof.conversation_id and row.conversation_id and hmac.compare_digest(
                proof.conversation_id.encode(), row.conversation_id.encode()):
            return
        if not proof.query_code:
            raise ApiError(403, *PROOF_REQUIRED)
        self._check_code(ticket_id, row.query_code_hash, proof.query_code, proof.client)

    def _check_code(self, ticket_id: str, stored: Optional[str], code: str, client: Optional[str] = None) -> None:
        """One try of a query code, counted before the answer is known (proof.py): per client, and for
        all clients together, when the bot names the client; per ticket, strictly, when it does not."""
        now = self.clock.now()
        stamp = to_utc_naive(now)
        with self.db.write() as conn:
            # One try of a ticket at a time: concurrent wrong codes must each be counted (PostgreSQL
            # would otherwise let a burst read the same count and answer them all).
            conn.execute(_TICKET_FOR_UPDATE, {"ticket_id": ticket_id})
            if client:
                key = client_key(client, self.secret)
                counts = [_DayCount(conn, key, stamp, self.db.is_sqlite),
                          _Count(conn, ticket_id, ALL_CLIENTS_KEY, ALL_CLIENTS, stamp),
                          _Count(conn, ticket_id, key, ONE_CLIENT, stamp)]
            else:
                counts = [_Count(conn, ticket_id, None, ONE_CLIENT, stamp)]
            for count in counts:
                _refuse_while_waiting(count.attempts.wait(stamp), count.attempts.locked)
            if code_matches(stored, ticket_id, code, self.secret):
                counts[-1].forget()  # (all clients' day count stays: it bounds guessing per ticket)
                return
            for count in counts:
                count.failed(stamp)
        log.warning("wrong query code for ticket %s (%d by this client in this window)", ticket_id,
                    counts[-1].attempts.failures + 1)
        raise ApiError(403, "proof_invalid", "查询码不正确")

    # ---- actions ------------------------------------------------------------------------------

    def act(self, ticket_id: str, action: str, account: Account, payload: Mapping[str, Any],
            idempotency_key: Optional[str], proof: Proof = NO_PROOF) -> Outcome:
        """Apply one workflow action (assign, start, resolve, cancel, urge, supplement, rate, and the
        department loop: note, extension, return, review)."""
        if not is_ticket_id(ticket_id):
            raise not_found()
        self.require_proof(ticket_id, account, proof)
        digest = fingerprint(action, ticket_id, payload, account)
        try:
            with self.db.write() as conn:
                if idempotency_key:
                    earlier = self._replay(conn, idempotency_key, action, ticket_id, digest, account)
                    if earlier is not None:
                        return earlier
                row = conn.execute(_ROW_FOR_UPDATE, {"ticket_id": ticket_id}).first()
                if row is None or not self._sees(conn, account, ticket_id, row.department, row.status):
                    raise not_found()
                now = self.clock.now()
                stamp = to_utc_naive(now)
                values, events = self._effects(conn, ticket_id, action, row, payload, account, now)
                values["updated_at"] = stamp
                conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(**values))
                conn.execute(_INSERT_EVENT, [
                    {"ticket_id": ticket_id, "at": stamp, "action": name, "role": account.role,
                     "actor": REPORTER_ACTOR if name == "rated" else account.actor, "note": note}
                    for name, note in events
                ])
                if idempotency_key:
                    self._remember(conn, idempotency_key, action, ticket_id, digest, stamp)
                outcome = Outcome(self._load(conn, ticket_id, account))
            log.info("ticket %s: %s by %s, now %s", ticket_id, action, account.actor, outcome.ticket["status"])
            return outcome
        except IntegrityError:
            if not idempotency_key:
                raise
            return self._replay_after_race(idempotency_key, action, ticket_id, digest, account)

    def _effects(self, conn: Connection, ticket_id: str, action: str, row: Any, payload: Mapping[str, Any],
                 account: Account, now: dt.datetime) -> Tuple[Dict[str, Any], List[Tuple[str, Optional[str]]]]:
        """Column changes and history events (action, note) for one action, and what it changes in
        the reviews and the callback schedule (same transaction); 409 if not allowed."""
        stamp = to_utc_naive(now)
        if action == "review":
            return self._decide(conn, ticket_id, row, payload, account, now)
        new_status = workflow.next_status(row.status, action)
        note = payload.get("note")
        if action == "assign":
            department = payload["department"]
            text = f"派至 {department}" + (f":{note}" if note else "")
            events: List[Tuple[str, Optional[str]]] = [("assigned", text)]
            if department != row.department:
                events += self._withdraw(conn, ticket_id, account, stamp, f"工单已改派至 {department}")
            return {"status": new_status, "department": department}, events
        if action == "start":
            return {"status": new_status}, [("started", note)]
        if action == "resolve":
            events = [("resolved", payload["result"])]
            events += self._withdraw(conn, ticket_id, account, stamp, "工单已办结")
            callback_schedule.schedule(conn, ticket_id, row.channel, stamp)
            return {"status": new_status, "result": payload["result"], "resolved_at": stamp}, events
        if action == "cancel":
            events = [("cancelled", payload["reason"])]
            events += self._withdraw(conn, ticket_id, account, stamp, "工单已撤销")
            callback_schedule.cancel(conn, ticket_id, stamp)
            return {"status": new_status, "cancel_reason": payload["reason"]}, events
        if action == "urge":
            return {"urge_count": tickets.c.urge_count + 1}, [("urged", note)]
        if action == "supplement":
            return {}, [("supplemented", payload["text"])]
        if action == "note":
            return {}, [("noted", payload["text"])]
        if action == "extension":
            return {}, self._request_extension(conn, ticket_id, row, payload, account, now)
        if action == "return":
            self._require_no_pending(conn, ticket_id)
            self._insert_review(conn, ticket_id, "return", row.department, payload["reason"], None, account, stamp)
            return {}, [("return_requested", payload["reason"])]
        if action == "rate":
            score = int(payload["score"])
            comment = payload.get("comment")
            source = payload.get("channel") or ("operator" if account.role == "operator" else None)
            if source == "operator" and account.role != "operator":
                # Only an operator types in a rating for the reporter; the bot passes on what it heard.
                raise invalid_field("channel", "not_allowed", "只有坐席可以代为录入评价")
            rated_note = (f"{score} 分 {RATING_LABELS[score]}" + (f"({RATING_CHANNEL_LABELS[source]})" if source else "")
                          + (f":{comment}" if comment else ""))
            values: Dict[str, Any] = {"rating_score": score, "rating_comment": comment, "rated_at": stamp,
                                      "status": workflow.status_after_rating(score)}
            events = [("rated", rated_note)]
            if callback_schedule.finish_on_rating(conn, ticket_id, stamp):
                events.append(("callback_done", "已收到评价，回访完成"))
            if values["status"] == "in_progress":
                # Rework is a new piece of work: it gets the kind's time limit again from today, or the
                # department would be overdue (and unable to ask for an extension) from the first day.
                deadline = self.calendar.deadline(now, row.kind)
                values.update(rework_count=tickets.c.rework_count + 1, resolved_at=None, deadline=to_utc_naive(deadline))
                due = _full_date(_local_day(to_utc_naive(deadline)))
                if conn.execute(_WAS_DISPATCHED, {"ticket_id": ticket_id}).first() is None:
                    # Answered by the hotline itself (直接办结): back to the operators, who may dispatch it.
                    values["status"] = "received"
                    return values, events + [("reworked", f"评价不满意，退回热线重新处理；办理期限 {due}")]
                return values, events + [("reworked", f"评价不满意，退回承办部门重新办理；办理期限 {due}")]
            return values, events + [("closed", None)]
        raise ValueError(action)

    # ---- the department's requests and the operators' review ---------------------------------

    def _require_no_pending(self, conn: Connection, ticket_id: str) -> None:
        pending = conn.execute(_PENDING_REVIEW, {"ticket_id": ticket_id}).mappings().first()
        if pending is not None:
            raise ApiError(409, "review_pending",
                           f"该工单已有一份{REVIEW_TYPE_LABELS[pending['type']]}在等待审核，请等审核结果后再提交")

    @staticmethod
    def _insert_review(conn: Connection, ticket_id: str, kind: str, department: str, reason: str,
                       new_deadline: Optional[str], account: Account, stamp: dt.datetime) -> None:
        conn.execute(_INSERT_REVIEW, {
            "ticket_id": ticket_id, "type": kind, "status": "pending", "department": department,
            "reason": reason, "new_deadline": new_deadline, "requested_at": stamp, "requested_by": account.actor,
            "decided_at": None, "decided_by": None, "decision_reason": None, "decided_deadline": None,
            "decided_department": None,
        })

    def _request_extension(self, conn: Connection, ticket_id: str, row: Any, payload: Mapping[str, Any],
                           account: Account, now: dt.datetime) -> List[Tuple[str, Optional[str]]]:
        self._require_no_pending(conn, ticket_id)
        stamp = to_utc_naive(now)
        if stamp > row.deadline:
            raise ApiError(409, "extension_too_late",
                           f"办理期限({_full_date(_local_day(row.deadline))})已过，不能再申请延期；请尽快办结")
        new_day = _check_new_deadline("new_deadline", payload["new_deadline"], row.deadline)
        self._insert_review(conn, ticket_id, "extension", row.department, payload["reason"], new_day.isoformat(),
                            account, stamp)
        return [("extension_requested", f"申请延期至 {_full_date(new_day)}：{payload['reason']}")]

    def _decide(self, conn: Connection, ticket_id: str, row: Any, payload: Mapping[str, Any], account: Account,
                now: dt.datetime) -> Tuple[Dict[str, Any], List[Tuple[str, Optional[str]]]]:
        """An operator's decision on the pending request (reason checked by the schema on reject)."""
        pending = conn.execute(_PENDING_REVIEW, {"ticket_id": ticket_id}).mappings().first()
        if pending is None:
            raise ApiError(409, "review_not_pending", "该工单没有待审核的延期或退回申请")
        kind = pending["type"]
        # An operator decides the request on their screen: if it was decided meanwhile and the
        # department asked something else, the decision must not land on the new request.
        seen_id, seen_type = payload.get("review_id"), payload.get("type")
        if ((seen_id is not None and seen_id != pending["id"]) or (seen_type is not None and seen_type != kind)
                or (payload.get("department") and kind != "return") or (payload.get("deadline") and kind != "extension")):
            raise ApiError(409, "review_changed", "该申请已处理或已有新的申请，请刷新后再审核")
        stamp = to_utc_naive(now)
        reason = payload.get("reason")
        decided = {"decided_at": stamp, "decided_by": account.actor, "decision_reason": reason}
        values: Dict[str, Any] = {}
        if payload["decision"] == "reject":
            decided["status"] = "rejected"
            events: List[Tuple[str, Optional[str]]] = [(f"{kind}_rejected", reason)]
        elif kind == "extension":
            requested = payload.get("deadline") or pending["new_deadline"]
            new_day = _check_new_deadline("deadline", requested, row.deadline)
            values["deadline"] = to_utc_naive(end_of_day(new_day))
            decided.update(status="approved", decided_deadline=new_day.isoformat())
            note = (f"原期限 {_full_date(_local_day(row.deadline))} → 新期限 {_full_date(new_day)}："
                    f"{pending['reason']}" + (f"(审核意见：{reason})" if reason else ""))
            events = [("extension_approved", note)]
        else:
            department = payload.get("department")
            if not department:
                raise invalid_field("department", "field_required", "同意退回时请选择改派的承办部门")
            if department == row.department:
                raise invalid_field("department", "department_unchanged", "改派的部门与申请退回的部门相同，请选择其他部门")
            values.update(status=workflow.next_status(row.status, "assign"), department=department)
            decided.update(status="approved", decided_department=department)
            events = [("return_approved", f"改派至 {department}" + (f"：{reason}" if reason else ""))]
        conn.execute(update(reviews).where(reviews.c.id == pending["id"]).values(**decided))
        return values, events

    @staticmethod
    def _withdraw(conn: Connection, ticket_id: str, account: Account, stamp: dt.datetime,
                  why: str) -> List[Tuple[str, Optional[str]]]:
        """The ticket moved on (resolved, cancelled, reassigned): a waiting request is moot."""
        pending = conn.execute(_PENDING_REVIEW, {"ticket_id": ticket_id}).mappings().first()
        if pending is None:
            return []
        conn.execute(update(reviews).where(reviews.c.id == pending["id"]).values(
            status="withdrawn", decided_at=stamp, decided_by=account.actor, decision_reason=why))
        return [("review_withdrawn", f"{REVIEW_TYPE_LABELS[pending['type']]}失效：{why}")]

    # ---- idempotency --------------------------------------------------------------------------

    def _replay(self, conn: Connection, key: str, action: str, ticket_id: Optional[str], digest: Fingerprint,
                account: Account) -> Optional[Outcome]:
        earlier = conn.execute(_KEY_LOOKUP, {"key": key}).first()
        if earlier is None:
            return None
        stored_then = (earlier.fingerprint == digest.before_accounts
                       and earlier.created_at >= to_utc_naive(self.clock.now()) - LEGACY_KEY_RETRY)
        if (earlier.action != action or not (earlier.fingerprint == digest.current or stored_then)
                or (ticket_id and earlier.ticket_id != ticket_id)):
            raise ApiError(409, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求，请更换后重试")
        return Outcome(self._load(conn, earlier.ticket_id, account), replayed=True)

    def _replay_after_race(self, key: str, action: str, ticket_id: Optional[str], digest: Fingerprint,
                           account: Account) -> Outcome:
        with self.db.read() as conn:
            earlier = self._replay(conn, key, action, ticket_id, digest, account)
        if earlier is None:  # the constraint that failed was not the key's: a real error
            raise RuntimeError("integrity error without an earlier idempotency key")
        return earlier

    @staticmethod
    def _remember(conn: Connection, key: str, action: str, ticket_id: str, digest: Fingerprint,
                  stamp: dt.datetime) -> None:
        conn.execute(_INSERT_KEY, {"key": key, "action": action, "ticket_id": ticket_id,
                                                 "fingerprint": digest.current, "created_at": stamp})

    # ---- loading ------------------------------------------------------------------------------

    @staticmethod
    def _sees(conn: Connection, account: Account, ticket_id: str, department: str, status: str) -> bool:
        """Whether the ticket exists for `account`: a department's only once dispatched to it."""
        if not account.sees(department):
            return False
        if account.role != "department" or status not in ("received", "cancelled"):
            return True  # (no query: any other status is past the dispatch)
        return conn.execute(_IS_DISPATCHED, {"ticket_id": ticket_id}).first() is not None

    def _load(self, conn: Connection, ticket_id: str, account: Account) -> Dict[str, Any]:
        row = conn.execute(_TICKET_BY_ID, {"ticket_id": ticket_id}).mappings().first()
        if row is None or not self._sees(conn, account, ticket_id, row["department"], row["status"]):
            raise not_found()
        events = conn.execute(_EVENTS_OF_TICKET, {"ticket_id": ticket_id}).mappings().all()
        pending = None
        if account.role != "bot":  # (present() hides it from the bot: no need to read it)
            pending = conn.execute(_PENDING_REVIEW, {"ticket_id": ticket_id}).mappings().first()
        return present(row, events, account, self.clock.now(), pending)

    @staticmethod
    def _events(conn: Connection, ticket_ids: Sequence[str]) -> Dict[str, List[Mapping[str, Any]]]:
        if not ticket_ids:
            return {}
        rows = conn.execute(_EVENTS_OF_TICKETS, {"ticket_ids": list(ticket_ids)}).mappings().all()
        grouped: Dict[str, List[Mapping[str, Any]]] = {}
        for event in rows:
            grouped.setdefault(event["ticket_id"], []).append(event)
        return grouped

    @staticmethod
    def _pending_reviews(conn: Connection, ticket_ids: Sequence[str]) -> Dict[str, Mapping[str, Any]]:
        if not ticket_ids:
            return {}
        rows = conn.execute(_PENDING_REVIEWS_OF_TICKETS, {"ticket_ids": list(ticket_ids)}).mappings().all()
        return {row["ticket_id"]: row for row in rows}


def _local_day(stored: dt.datetime) -> dt.date:
    return from_utc_naive(stored).astimezone(SHANGHAI).date()


def _full_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _check_new_deadline(field: str, value: str, current: dt.datetime) -> dt.date:
    """A requested or granted deadline: a later day than the current deadline's, within a year of it."""
    day = dt.date.fromisoformat(value)
    current_day = _local_day(current)
    if day <= current_day:
        raise invalid_field(field, "deadline_not_later", f"新期限应晚于当前期限({_full_date(current_day)})")
    if (day - current_day).days > MAX_EXTENSION_DAYS:
        raise invalid_field(field, "deadline_too_far", f"新期限最多比当前期限晚 {MAX_EXTENSION_DAYS} 天")
    return day


class _Count:
    """One row of wrong codes: a ticket's (client None: proof_attempts) or a client's on a ticket."""

    def __init__(self, conn: Connection, ticket_id: str, client: Optional[str], policy: Policy,
                 stamp: dt.datetime) -> None:
        self.conn, self.ticket_id, self.client = conn, ticket_id, client
        self.table = proof_attempts if client is None else client_proof_attempts
        self.row = {"ticket_id": ticket_id} if client is None else {"ticket_id": ticket_id, "client": client}
        found = conn.execute(_ATTEMPTS if client is None else _CLIENT_ATTEMPTS, self.row).first()
        self.stored = found is not None
        self.attempts = (Attempts(found.failures, found.window_start, found.next_allowed_at, policy)
                         if found else Attempts(policy=policy)).fresh(stamp)

    def _where(self) -> Any:
        return and_(*(self.table.c[column] == value for column, value in self.row.items()))

    def failed(self, stamp: dt.datetime) -> None:
        after = self.attempts.failed(stamp)
        values = {"failures": after.failures, "window_start": after.window_start, "next_allowed_at": after.next_allowed_at}
        if self.stored:
            self.conn.execute(update(self.table).where(self._where()).values(**values))
        else:
            self.conn.execute(self.table.insert().values(**self.row, **values))

    def forget(self) -> None:
        if self.stored:
            self.conn.execute(delete(self.table).where(self._where()))


class _DayCount(_Count):
    """A client's wrong codes on all tickets together (proof.py, CLIENT_DAY). Its row is made first and
    locked: tries on different tickets do not hold the same ticket's lock, and must each be counted."""

    def __init__(self, conn: Connection, client: str, stamp: dt.datetime, sqlite: bool) -> None:
        self.conn, self.ticket_id, self.client = conn, None, client
        self.table, self.row = client_day_attempts, {"client": client}
        insert = sqlite_insert if sqlite else postgresql_insert
        conn.execute(insert(client_day_attempts).values(client=client, failures=0).on_conflict_do_nothing())
        found = conn.execute(_CLIENT_DAY_FOR_UPDATE, {"client": client}).first()
        self.stored = True
        self.attempts = Attempts(found.failures, found.window_start, found.next_allowed_at, CLIENT_DAY).fresh(stamp)


def _refuse_while_waiting(wait: Optional[dt.timedelta], locked: bool) -> None:
    """429 while codes must wait: the day's lock, or the slow-down after a few wrong ones."""
    if wait is None:
        return
    seconds = max(1, int(wait.total_seconds()) + 1)
    code_name, message = (("proof_locked", "查询码错误次数过多，今天不能再用查询码查询这件工单") if locked else
                          ("too_many_attempts", f"查询码错误次数较多，请{_wait_words(seconds)}后再试"))
    raise ApiError(429, code_name, message, headers={"Retry-After": str(seconds)})


def _wait_words(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"


# The history events whose note is the reporter's words (their phone masked for the bot, see present).
REPORTER_WORDS = ("filed", "supplemented", "cancelled", "rated", "reworked", "urged")


def present(row: Mapping[str, Any], events: Iterable[Mapping[str, Any]], account: Account,
            now: dt.datetime, pending_review: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """The ticket as `account` may see it: the bot role only ever sees a masked phone number; the
    conversation id (a web chat's handle) is for operators and admins only; a pending extension or
    return request is not shown to the bot (progress notes are: the bot reads the latest one to a
    proved caller); the query code's hash for nobody."""
    role = account.role
    events = list(events)
    deadline = row["deadline"]

    def text(value: Optional[str]) -> Optional[str]:
        """The reporter's words as the role may read them: a phone number said in the report ("电话138…，
        园区停电了") is masked for the bot like the phone field itself."""
        return mask_phones_in_text(value) if role == "bot" and value else value

    def staff(value: Optional[str]) -> Optional[str]:
        """What staff write for the caller (result, notes) as the bot reads it out (mask_staff_text)."""
        return mask_staff_text(value, row["phone"]) if role == "bot" and value else value

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
        "description": text(row["description"]),
        "location": text(row["location"]),
        "channel": row["channel"],
        "conversation_id": row["conversation_id"] if role in ("operator", "admin") else None,
        "department": row["department"],
        "created_at": iso_local(row["created_at"]),
        "updated_at": iso_local(row["updated_at"]),
        "deadline": iso_local(deadline),
        "overdue": overdue,
        "urge_count": row["urge_count"],
        "rework_count": row["rework_count"],
        "supplements": [
            {"at": iso_local(e["at"]), "text": text(e["note"]), "role": e["role"]}
            for e in events if e["action"] == "supplemented"
        ],
        "progress_notes": [
            {"at": iso_local(e["at"]), "text": staff(e["note"]), "actor": e.get("actor") or e["role"]}
            for e in events if e["action"] == "noted"
        ],
        # The department's and operators' internal exchange: not for the bot (the public side).
        "pending_review": None if pending_review is None or role == "bot" else {
            "id": pending_review["id"],
            "type": pending_review["type"],
            "reason": pending_review["reason"],
            "new_deadline": pending_review["new_deadline"],
            "requested_at": iso_local(pending_review["requested_at"]),
            "requested_by": pending_review["requested_by"],
        },
        "rating": None if score is None else {
            "score": score, "label": RATING_LABELS[score], "comment": text(row["rating_comment"]),
            "at": iso_local(row["rated_at"]),
        },
        "result": staff(row["result"]),
        "resolved_at": iso_local(row["resolved_at"]),
        "cancel_reason": text(row["cancel_reason"]),
        "query_code": None,  # only the filing answer carries it (TicketService.file)
        "history": [
            {"at": iso_local(e["at"]), "action": e["action"], "action_label": ACTION_LABELS.get(e["action"], e["action"]),
             "note": text(e["note"]) if e["action"] in REPORTER_WORDS else staff(e["note"]), "role": e["role"],
             "actor": e.get("actor") or e["role"]}
            for e in events
        ],
    }

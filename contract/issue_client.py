"""The one client of the issue API, for every process that talks to it (action server, gateway,
voice callbacks, scripts).

Blocking (requests), with a timeout on every call and retries with exponential backoff on
connection errors and 5xx where repeating is safe: reads, and writes that carry an
Idempotency-Key. Async code calls it through `asyncio.to_thread` (or an executor), never on the
event loop. Every failure becomes an `IssueApiError` subclass carrying the API's stable `code` and
its Chinese `message`; what to say to a caller about it is the dialogue's business (domain.yml).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import requests

from contract.errors import read_error
from contract.phones import mask_phone

log = logging.getLogger(__name__)

CALLER_PHONE_HEADER = "X-Caller-Phone"
CONVERSATION_HEADER = "X-Conversation-Id"
QUERY_CODE_HEADER = "X-Query-Code"
CLIENT_HEADER = "X-Proof-Client"  # who is trying query codes: counted per client (issue_api/proof.py)
PAGE = 200  # the issue API's largest page of tickets or reviews


@dataclass
class IssueApiError(Exception):
    """A failed call: HTTP status (None when there was no answer), the API's code and message."""

    status: Optional[int] = None
    code: str = "error"
    message: str = ""
    fields: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.status} {self.code}): {self.message}"


class ApiUnavailable(IssueApiError):
    """Network down, timeout or 5xx after all retries: the API could not answer."""


class TicketNotFound(IssueApiError):
    """404: no ticket with that number (or none this account may see)."""


class Refused(IssueApiError):
    """409: the ticket's state does not allow this (e.g. cancel after 办结)."""


class Invalid(IssueApiError):
    """422: a field was rejected; `fields` names which."""


class NotAllowed(IssueApiError):
    """401/403: the token is missing or its role may not do this. An operator must fix the setup."""


class ProofRequired(IssueApiError):
    """403 proof_required / proof_invalid: the conversation has not proved it is the reporter's."""


class TooManyAttempts(IssueApiError):
    """429: too many wrong query codes for this ticket; `retry_after` seconds until the next try."""

    retry_after: float = 0.0


@dataclass(frozen=True)
class Proof:
    """What a conversation offers as proof that it is the reporter's (contract: "Who may act on a
    ticket"): the phone line's caller id, the conversation that filed the ticket, or the ticket's
    query code. The issue API checks it for the bot role."""

    caller_phone: Optional[str] = None
    conversation_id: Optional[str] = None
    query_code: Optional[str] = None
    client: Optional[str] = None  # whose query-code tries these are: a caller id or a web user's network

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.client and self.query_code:
            headers[CLIENT_HEADER] = self.client
        if self.caller_phone:
            headers[CALLER_PHONE_HEADER] = self.caller_phone
        if self.conversation_id:
            headers[CONVERSATION_HEADER] = self.conversation_id
        if self.query_code:
            headers[QUERY_CODE_HEADER] = self.query_code
        return headers


NO_PROOF = Proof()

Day = Union[dt.date, str]  # a Beijing date, or "YYYY-MM-DD"


@dataclass(frozen=True)
class Download:
    """A file the API produced (the ticket export): its name, media type and bytes."""

    filename: str
    content_type: str
    content: bytes


def _day(value: Day) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


MIN_ATTEMPT = 0.5  # seconds: a try with less time than this left in the budget is not made


class IssueClient:
    """Blocking client; one requests.Session (connection pool) per calling thread."""

    def __init__(self, base_url: str, token: str, timeout: float = 5.0, max_attempts: int = 3,
                 backoff: float = 0.3, budget: Optional[float] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        # Seconds one call may take, retries and pauses included (None: attempts x timeout). Someone
        # waits for the answer: a caller on the line hears "please call again" when a turn runs past
        # the voice channel's own timeout, even though the ticket was filed.
        self.budget = budget
        self._local = threading.local()

    # -- transport -------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        """One Session per thread: requests does not document Session as thread-safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            if self.token:
                session.headers["Authorization"] = f"Bearer {self.token}"
            session.headers["Accept"] = "application/json"
            self._local.session = session
        return session

    def call(self, method: str, path: str, *, retry: bool, headers: Optional[dict[str, str]] = None,
             **kwargs: Any) -> Any:
        """One API call under /api/v1; the decoded JSON body, or an IssueApiError subclass."""
        return self._result(self._send(method, path, retry=retry, headers=headers, **kwargs))

    def _send(self, method: str, path: str, *, retry: bool, headers: Optional[dict[str, str]] = None,
              **kwargs: Any) -> requests.Response:
        """The first answer under 500, retried as `call` says; ApiUnavailable when there is none."""
        url = f"{self.base_url}/api/v1{path}"
        attempts = self.max_attempts if retry else 1
        last: Exception | None = None
        started, tries = time.monotonic(), 0
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                pause = self.backoff * (2 ** (attempt - 2))
                if self.budget is not None and time.monotonic() - started + pause + MIN_ATTEMPT > self.budget:
                    break  # no time left for another try
                time.sleep(pause)
            timeout = self.timeout
            if self.budget is not None:
                timeout = max(MIN_ATTEMPT, min(timeout, self.budget - (time.monotonic() - started)))
            tries += 1
            try:
                response = self._session().request(method, url, timeout=timeout, headers=headers, **kwargs)
            except requests.RequestException as exc:
                last = exc
                continue
            if response.status_code < 500:
                return response
            last = requests.HTTPError(f"{response.status_code} from {method} {path}")
        log.warning("issue API unavailable for %s %s after %d attempt(s) in %.1fs: %s", method, path, tries,
                    time.monotonic() - started, last)
        raise ApiUnavailable(None, "unavailable", "工单系统暂时无法访问")

    @staticmethod
    def _result(response: requests.Response) -> Any:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if response.ok:
            return body
        error = read_error(body)
        status = response.status_code
        fields = [f.dict() for f in error.fields or []]
        args = (status, error.code, error.message, fields)
        if status == 404:
            raise TicketNotFound(*args)
        if status == 409:
            raise Refused(*args)
        if status == 422:
            raise Invalid(*args)
        if status == 429:
            failure = TooManyAttempts(*args)
            try:
                failure.retry_after = float(response.headers.get("Retry-After", "0"))
            except ValueError:
                failure.retry_after = 0.0
            raise failure
        if status == 403 and error.code.startswith("proof_"):
            raise ProofRequired(*args)
        if status in (401, 403):
            log.error("issue API refused the token (%s %s): check the token variable of this process",
                      status, error.code)
            raise NotAllowed(*args)
        raise IssueApiError(*args)

    def _act(self, ticket_id: str, action: str, body: dict[str, Any], key: Optional[str],
             proof: Proof) -> dict[str, Any]:
        """A ticket action; with an Idempotency-Key it is safe to retry, without one it is sent once."""
        headers = dict(proof.headers())
        if key:
            headers["Idempotency-Key"] = key
        return self.call("POST", f"/tickets/{ticket_id}/{action}", retry=key is not None, json=body,
                         headers=headers or None)

    # -- tickets ---------------------------------------------------------------------------------
    def create_ticket(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST /tickets; repeating with the same key never makes a second ticket."""
        log.info("filing ticket key=%s phone=%s", idempotency_key, mask_phone(payload.get("phone")))
        return self.call("POST", "/tickets", retry=True, json=payload, headers={"Idempotency-Key": idempotency_key})

    def get_ticket(self, ticket_id: str, proof: Proof = NO_PROOF) -> dict[str, Any]:
        return self.call("GET", f"/tickets/{ticket_id}", retry=True, headers=proof.headers() or None)

    def tickets(self, proof: Proof = NO_PROOF, **params: Any) -> list[dict[str, Any]]:
        """GET /tickets with filters (phone, status, department, overdue, ...), newest first."""
        query = {k: v for k, v in params.items() if v is not None}
        body = self.call("GET", "/tickets", retry=True, params=query, headers=proof.headers() or None)
        return list(body.get("items", []))

    def all_tickets(self, most: int = 2000, **params: Any) -> tuple[list[dict[str, Any]], bool]:
        """Every ticket matching the filters, page by page, up to `most`: (tickets, whether more were
        left). For screens that must not silently drop the oldest of a long list."""
        return self._pages(lambda offset: self.tickets(limit=PAGE, offset=offset, **params), most)

    def tickets_by_phone(self, phone: str, proof: Proof = NO_PROOF) -> list[dict[str, Any]]:
        return self.tickets(proof, phone=phone)

    def tickets_of_conversation(self, conversation_id: str, proof: Proof = NO_PROOF) -> list[dict[str, Any]]:
        return self.tickets(proof, conversation_id=conversation_id)

    def urge(self, ticket_id: str, note: str = "", key: Optional[str] = None,
             proof: Proof = NO_PROOF) -> dict[str, Any]:
        return self._act(ticket_id, "urge", {"note": note} if note else {}, key, proof)

    def supplement(self, ticket_id: str, text: str, key: Optional[str] = None,
                   proof: Proof = NO_PROOF) -> dict[str, Any]:
        return self._act(ticket_id, "supplements", {"text": text}, key, proof)

    def cancel(self, ticket_id: str, reason: str, key: Optional[str] = None,
               proof: Proof = NO_PROOF) -> dict[str, Any]:
        return self._act(ticket_id, "cancel", {"reason": reason}, key, proof)

    def rate(self, ticket_id: str, score: int, comment: str = "", key: Optional[str] = None,
             proof: Proof = NO_PROOF, channel: Optional[str] = None) -> dict[str, Any]:
        """`channel` says where the reporter gave the rating (the ticket's history shows it)."""
        body: dict[str, Any] = {"score": int(score)}
        if comment and comment.strip():
            body["comment"] = comment.strip()[:500]
        if channel:
            body["channel"] = channel
        return self._act(ticket_id, "rating", body, key, proof)

    def assign(self, ticket_id: str, department: str, note: str = "", key: Optional[str] = None) -> dict[str, Any]:
        body = {"department": department, **({"note": note} if note else {})}
        return self._act(ticket_id, "assign", body, key, NO_PROOF)

    def start(self, ticket_id: str, note: str = "", key: Optional[str] = None) -> dict[str, Any]:
        return self._act(ticket_id, "start", {"note": note} if note else {}, key, NO_PROOF)

    def resolve(self, ticket_id: str, result: str, key: Optional[str] = None) -> dict[str, Any]:
        return self._act(ticket_id, "resolve", {"result": result}, key, NO_PROOF)

    def stats(self) -> dict[str, Any]:
        return self.call("GET", "/stats", retry=True)

    # -- the department loop (department token: notes and requests; operator: the rest) ---------
    def add_note(self, ticket_id: str, text: str, key: Optional[str] = None) -> dict[str, Any]:
        """POST /tickets/{id}/notes: a progress note (办理进展), while the ticket is open."""
        return self._act(ticket_id, "notes", {"text": text}, key, NO_PROOF)

    def request_extension(self, ticket_id: str, reason: str, new_deadline: Day,
                          key: Optional[str] = None) -> dict[str, Any]:
        """POST /tickets/{id}/extension-requests (department): a later deadline, for an operator to review."""
        body = {"reason": reason, "new_deadline": _day(new_deadline)}
        return self._act(ticket_id, "extension-requests", body, key, NO_PROOF)

    def request_return(self, ticket_id: str, reason: str, key: Optional[str] = None) -> dict[str, Any]:
        """POST /tickets/{id}/return-requests (department): hand the ticket back (退回)."""
        return self._act(ticket_id, "return-requests", {"reason": reason}, key, NO_PROOF)

    def review(self, ticket_id: str, decision: str, reason: str = "", deadline: Optional[Day] = None,
               department: Optional[str] = None, key: Optional[str] = None, review_id: Optional[int] = None,
               review_type: Optional[str] = None) -> dict[str, Any]:
        """POST /tickets/{id}/review (operator): decision "approve" or "reject" (a reason is required
        to reject); `deadline` for an extension (default: the requested date), `department` to
        approve a return. `review_id` / `review_type` name the request the operator saw, so that a
        decision never lands on a newer one (409 review_changed)."""
        body: dict[str, Any] = {"decision": decision}
        if review_id is not None:
            body["review_id"] = review_id
        if review_type:
            body["type"] = review_type
        if reason and reason.strip():
            body["reason"] = reason.strip()
        if deadline is not None:
            body["deadline"] = _day(deadline)
        if department:
            body["department"] = department
        return self._act(ticket_id, "review", body, key, NO_PROOF)

    def reviews(self, status: str = "pending", limit: Optional[int] = None, offset: int = 0) -> list[dict[str, Any]]:
        """GET /reviews: "pending" (by request time) or "decided" (by decision time), oldest first."""
        query = {k: v for k, v in {"status": status, "limit": limit, "offset": offset or None}.items() if v is not None}
        return list(self.call("GET", "/reviews", retry=True, params=query).get("items", []))

    def all_reviews(self, status: str = "pending", most: int = 2000) -> tuple[list[dict[str, Any]], bool]:
        """Every review request of `status`, page by page, up to `most`: (requests, whether more were left)."""
        return self._pages(lambda offset: self.reviews(status, limit=PAGE, offset=offset), most)

    @staticmethod
    def _pages(page: Callable[[int], list[dict[str, Any]]], most: int) -> tuple[list[dict[str, Any]], bool]:
        items: list[dict[str, Any]] = []
        while True:
            batch = page(len(items))
            items += batch
            if len(batch) < PAGE or len(items) > most:
                return items[:most], len(items) > most

    def department_stats(self) -> list[dict[str, Any]]:
        """GET /stats/departments: one row per department, ordered by name."""
        return list(self.call("GET", "/stats/departments", retry=True).get("items", []))

    def export_tickets(self, date_from: Day, date_to: Day, fmt: str = "csv") -> Download:
        """GET /tickets/export: the tickets filed from `date_from` to `date_to` (Beijing dates,
        inclusive, at most 366 days) as CSV (UTF-8 with BOM) or XLSX."""
        params = {"from": _day(date_from), "to": _day(date_to), "format": fmt}
        response = self._send("GET", "/tickets/export", retry=True, params=params,
                              headers={"Accept": "text/csv, application/vnd.openxmlformats-officedocument."
                                                 "spreadsheetml.sheet, application/json"})
        if not response.ok:
            self._result(response)  # raises the typed error
        found = re.search(r'filename="([^"]+)"', response.headers.get("Content-Disposition", ""))
        return Download(found.group(1) if found else f"tickets.{fmt}",
                        response.headers.get("Content-Type", ""), response.content)

    # -- 回访 callbacks (operator token) -----------------------------------------------------------
    def callbacks(self, status: Optional[str] = None, channel: Optional[str] = None, due: Optional[bool] = None,
                  limit: Optional[int] = None) -> list[dict[str, Any]]:
        """GET /callbacks, soonest first; `due=True`: what may be called now (nothing outside the
        callback hours of working days)."""
        query: dict[str, Any] = {"status": status, "channel": channel, "limit": limit}
        if due is not None:
            query["due"] = "true" if due else "false"
        query = {k: v for k, v in query.items() if v is not None}
        return list(self.call("GET", "/callbacks", retry=True, params=query).get("items", []))

    def claim_callback(self, ticket_id: str) -> dict[str, Any]:
        """POST /callbacks/{id}/claim: "calling" for this dialer until the lease ends. Refused
        (409 callback_not_due) when another dialer has it or it is not due. Sent once: a lost answer
        leaves the claim to expire with its lease."""
        return self.call("POST", f"/callbacks/{ticket_id}/claim", retry=False)

    def record_callback_attempt(self, ticket_id: str, outcome: str) -> dict[str, Any]:
        """POST /callbacks/{id}/attempts: no_answer, busy, failed, no_rating or declined. Only for a
        claimed callback (409 callback_not_calling otherwise), so a repeat never counts twice."""
        return self.call("POST", f"/callbacks/{ticket_id}/attempts", retry=False, json={"outcome": outcome})

    def healthy(self) -> bool:
        try:
            return self._session().get(f"{self.base_url}/api/v1/health", timeout=self.timeout).ok
        except requests.RequestException:
            return False

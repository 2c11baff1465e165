"""Proof that a conversation is the reporter's, for the bot role (contract: "Who may act on a ticket").

The bot may read or change a ticket only with one of:
- the phone line's caller id equal to the ticket's phone (header X-Caller-Phone; the bot passes the
  caller id its voice adapters set, never a number a web user typed),
- the conversation that filed the ticket (header X-Conversation-Id equal to the ticket's),
- the ticket's query code (查询码, header X-Query-Code), said once with the ticket number at filing.

Query codes are six random digits, stored as a keyed hash (HMAC-SHA256 with ISSUE_API_SECRET and a
per-ticket salt): a copy of the database alone does not give them away. A million codes are easy to
try, so wrong codes are counted and slowed down: three are free, then each next try must wait a
doubling delay, and after ten in a day codes are refused for a day (the caller id, the filing
conversation and operators still work).

Whom that counts: ticket numbers are read out on the phone, so anyone may know one. Counted per
ticket alone, a stranger's ten wrong guesses would lock the reporter out of their own ticket. The bot
therefore names the client trying (header X-Proof-Client: the phone line's caller id or the web
user's network, hashed): the slow-down and the lock apply to that client's tries on that ticket, and
the ticket as a whole refuses codes only after TICKET_LOCK_AFTER wrong ones in a day from all clients
together, which still bounds guessing to a few dozen of a million codes a day. A request without a
client name is counted per ticket, strictly, as before.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Optional

CODE_DIGITS = 6
CODE_PATTERN = re.compile(r"^\d{4,8}$")
FREE_FAILURES = 3
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
LOCK_AFTER = 10
TICKET_LOCK_AFTER = 30  # wrong codes in a day from all named clients together
LOCK_FOR = dt.timedelta(hours=24)
WINDOW = dt.timedelta(hours=24)

CALLER_PHONE_HEADER = "x-caller-phone"
CONVERSATION_HEADER = "x-conversation-id"
QUERY_CODE_HEADER = "x-query-code"
CLIENT_HEADER = "x-proof-client"


@dataclass(frozen=True)
class Proof:
    caller_phone: Optional[str] = None
    conversation_id: Optional[str] = None
    query_code: Optional[str] = None
    client: Optional[str] = None  # who is trying codes (see the module docstring); kept only hashed


def client_key(client: str) -> str:
    """What is stored of a client's name: a short hash (it may carry a caller id)."""
    return hashlib.sha256(f"proof-client|{client}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(ticket_id: str, code: str, secret: str) -> str:
    salt = secrets.token_hex(8)
    return f"v1${salt}${_digest(ticket_id, code, salt, secret)}"


def code_matches(stored: Optional[str], ticket_id: str, code: str, secret: str) -> bool:
    if not stored or not CODE_PATTERN.match(code or ""):
        return False
    version, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    return version == "v1" and hmac.compare_digest(digest, _digest(ticket_id, code, salt, secret))


def _digest(ticket_id: str, code: str, salt: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"{ticket_id}|{salt}|{code}".encode(), hashlib.sha256).hexdigest()


@dataclass
class Attempts:
    """Wrong codes for one ticket within the current window."""

    failures: int = 0
    window_start: Optional[dt.datetime] = None
    next_allowed_at: Optional[dt.datetime] = None

    def fresh(self, now: dt.datetime) -> "Attempts":
        """The count, restarted when the window has passed and no lock is running."""
        locked = self.next_allowed_at is not None and self.next_allowed_at > now
        if self.window_start is not None and now - self.window_start > WINDOW and not locked:
            return Attempts()
        return self

    def wait(self, now: dt.datetime) -> Optional[dt.timedelta]:
        """How long until the next code may be tried (None: now)."""
        if self.next_allowed_at is not None and self.next_allowed_at > now:
            return self.next_allowed_at - now
        return None

    def failed(self, now: dt.datetime) -> "Attempts":
        failures = self.failures + 1
        start = self.window_start or now
        if failures >= LOCK_AFTER:
            return Attempts(failures, start, now + LOCK_FOR)
        if failures >= FREE_FAILURES:
            delay = min(FIRST_DELAY * (2 ** (failures - FREE_FAILURES)), MAX_DELAY)
            return Attempts(failures, start, now + delay)
        return Attempts(failures, start, None)

    @property
    def locked(self) -> bool:
        return self.failures >= LOCK_AFTER


@dataclass
class TicketAttempts:
    """Wrong codes for one ticket from all named clients within the current window: only a cap."""

    failures: int = 0
    window_start: Optional[dt.datetime] = None
    next_allowed_at: Optional[dt.datetime] = None

    def fresh(self, now: dt.datetime) -> "TicketAttempts":
        locked = self.next_allowed_at is not None and self.next_allowed_at > now
        if self.window_start is not None and now - self.window_start > WINDOW and not locked:
            return TicketAttempts()
        return self

    def wait(self, now: dt.datetime) -> Optional[dt.timedelta]:
        if self.failures >= TICKET_LOCK_AFTER and self.next_allowed_at is not None and self.next_allowed_at > now:
            return self.next_allowed_at - now
        return None

    def failed(self, now: dt.datetime) -> "TicketAttempts":
        failures = self.failures + 1
        start = self.window_start or now
        return TicketAttempts(failures, start, now + LOCK_FOR if failures >= TICKET_LOCK_AFTER else None)

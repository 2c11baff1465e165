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
therefore names the client trying when it can (header X-Proof-Client: the phone line's caller id or
the web user's network, stored only as a keyed hash): that client's tries are slowed down and locked
as above, and all named clients of the ticket together get a looser count of their own (six free,
then waits doubling from ten seconds, none after thirty in a day), so a stranger who keeps changing
networks is still slowed down and guessing stays bounded to a few dozen of a million codes a day;
the reporter trying from elsewhere meanwhile waits at worst, and the caller id and the filing
conversation always prove the ticket at once. Without a client name (a new chat or a withheld number
costs a stranger nothing, so they name nobody) the ticket's own strict count applies, as before.
Ticket numbers run in sequence, so a named client is also counted across tickets (CLIENT_DAY): past CLIENT_DAY_FAILURES wrong codes on any tickets in a day each
further try waits a doubling delay (a minute, up to an hour), so a guesser going through the day's
tickets three at a time is slowed after a few of them, while a network shared by many (a carrier's
NAT, an office) is slowed, never locked out for the day. Unnamed tries are not counted together: a
withheld number costs a call per try, and sharing one count would let one caller slow every other.
Every try locks the ticket's row first, so concurrent wrong codes are each counted.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Optional

from contract.query_codes import CODE_DIGITS

CODE_PATTERN = re.compile(r"^\d{4,8}$")
FREE_FAILURES = 3
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
LOCK_AFTER = 10
# All named clients together, on one ticket: a stranger who rotates clients (networks, new calls) is
# slowed down too, and after TICKET_LOCK_AFTER in a day the ticket takes no codes.
TICKET_FREE_FAILURES = 6
TICKET_FIRST_DELAY = dt.timedelta(seconds=10)
TICKET_LOCK_AFTER = 30
LOCK_FOR = dt.timedelta(hours=24)
# One client's wrong codes on all tickets together in a WINDOW before each further try waits (a whole
# office network mistyping its own codes stays far below it).
CLIENT_DAY_FAILURES = 30
CLIENT_DAY_FIRST_DELAY = dt.timedelta(minutes=1)
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


ALL_CLIENTS_KEY = "*"  # the row of a ticket that counts every named client's wrong codes


def client_key(client: str, secret: str) -> str:
    """What is stored of a client's name: a short keyed hash (it may carry a caller id)."""
    return hmac.new(f"proof-client|{secret}".encode(), client.encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()[:32]


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


@dataclass(frozen=True)
class Policy:
    """How wrong codes are slowed down: `free` ones, then a wait doubling from `first_delay` (at most
    MAX_DELAY), and after `lock_after` in a WINDOW none for LOCK_FOR."""

    free: int
    first_delay: dt.timedelta
    lock_after: int


ONE_CLIENT = Policy(FREE_FAILURES, FIRST_DELAY, LOCK_AFTER)  # also a ticket's, when no client is named
ALL_CLIENTS = Policy(TICKET_FREE_FAILURES, TICKET_FIRST_DELAY, TICKET_LOCK_AFTER)  # a ticket's, from named clients
CLIENT_DAY = Policy(CLIENT_DAY_FAILURES, CLIENT_DAY_FIRST_DELAY, 2 ** 31)  # a client's, all tickets: slowed, never locked


@dataclass
class Attempts:
    """Wrong codes (of one client, or of all, on one ticket) within the current window."""

    failures: int = 0
    window_start: Optional[dt.datetime] = None
    next_allowed_at: Optional[dt.datetime] = None
    policy: Policy = ONE_CLIENT

    def fresh(self, now: dt.datetime) -> "Attempts":
        """The count, restarted when the window has passed and no lock is running."""
        locked = self.next_allowed_at is not None and self.next_allowed_at > now
        if self.window_start is not None and now - self.window_start > WINDOW and not locked:
            return Attempts(policy=self.policy)
        return self

    def wait(self, now: dt.datetime) -> Optional[dt.timedelta]:
        """How long until the next code may be tried (None: now)."""
        if self.next_allowed_at is not None and self.next_allowed_at > now:
            return self.next_allowed_at - now
        return None

    def failed(self, now: dt.datetime) -> "Attempts":
        failures = self.failures + 1
        start = self.window_start or now
        policy = self.policy
        if failures >= policy.lock_after:
            return Attempts(failures, start, now + LOCK_FOR, policy)
        if failures >= policy.free:
            delay = min(policy.first_delay * (2 ** (failures - policy.free)), MAX_DELAY)
            return Attempts(failures, start, now + delay, policy)
        return Attempts(failures, start, None, policy)

    @property
    def locked(self) -> bool:
        return self.failures >= self.policy.lock_after

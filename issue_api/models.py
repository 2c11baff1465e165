"""Database tables (SQLAlchemy Core).

Core rather than the ORM: every request is a handful of single-row statements, and the ORM's unit of
work would cost more than the SQL itself. Times are naive UTC (see clock.py).
The Alembic migrations in migrations/versions/ create exactly these tables; keep them in step.
"""
from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("company", String(100), nullable=False),
    Column("contact_name", String(50), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("description", Text, nullable=False),
    Column("location", String(200), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("conversation_id", String(128), nullable=True),
    Column("department", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_day", String(10), nullable=False),  # Beijing date, for daily/weekly counts
    Column("updated_at", DateTime, nullable=False),
    Column("deadline", DateTime, nullable=False),
    Column("resolved_at", DateTime, nullable=True),
    Column("result", Text, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("urge_count", Integer, nullable=False, default=0),
    Column("rework_count", Integer, nullable=False, default=0),
    Column("rating_score", Integer, nullable=True),
    Column("rating_comment", Text, nullable=True),
    Column("rated_at", DateTime, nullable=True),
    Column("query_code_hash", String(100), nullable=True),  # see proof.py; never shown to anyone
    # Every index is paid for on each filing (SQLite writes one page per index per commit), so only
    # the ones a query needs: lookups by caller, the operator's queue by status, the weekly counts.
    Index("ix_tickets_phone_created", "phone", "created_at"),
    Index("ix_tickets_status_created", "status", "created_at"),
    Index("ix_tickets_created_at", "created_at"),
    Index("ix_tickets_conversation", "conversation_id"),  # the bot's "tickets of this conversation"
    Index("ix_tickets_department_status", "department", "status"),  # a department's own tickets
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(12), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("action", String(32), nullable=False),  # contract.vocabulary.ACTION_LABELS
    Column("role", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("actor", String(100), nullable=True),  # the role, or department/<name> for a department account
    Index("ix_ticket_events_ticket", "ticket_id", "id"),
)

# A department's requests to the operators: a later deadline ("extension") or handing the ticket
# back ("return"). At most one is pending per ticket (checked under the ticket's row lock); decided
# and withdrawn ones are kept for the history and the figures.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(12), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(16), nullable=False),  # extension | return
    Column("status", String(16), nullable=False),  # pending | approved | rejected | withdrawn
    Column("department", String(64), nullable=False),  # the requesting department
    Column("reason", Text, nullable=False),
    Column("new_deadline", String(10), nullable=True),  # requested date (extension), Beijing YYYY-MM-DD
    Column("requested_at", DateTime, nullable=False),
    Column("requested_by", String(100), nullable=False),  # actor
    Column("decided_at", DateTime, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decided_deadline", String(10), nullable=True),  # the date granted (extension approved)
    Column("decided_department", String(64), nullable=True),  # the new department (return approved)
    Index("ix_reviews_ticket_status", "ticket_id", "status"),
    Index("ix_reviews_status_requested", "status", "requested_at"),
)

# 回访 schedule: one row per resolved ticket, reset by every new resolution (callbacks.py).
callbacks = Table(
    "callbacks",
    metadata,
    Column("ticket_id", String(12), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # pending | calling | done | failed | cancelled
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("lease_until", DateTime, nullable=True),  # while "calling"
    Column("last_outcome", String(16), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_callbacks_status_next", "status", "next_attempt_at"),
)

# Wrong query codes per ticket (proof.py): counted and slowed down across restarts and instances.
proof_attempts = Table(
    "proof_attempts",
    metadata,
    Column("ticket_id", String(12), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime, nullable=True),
    Column("next_allowed_at", DateTime, nullable=True),
)

# Wrong query codes per ticket and client (proof.py): the client's name only as a hash.
client_proof_attempts = Table(
    "client_proof_attempts",
    metadata,
    Column("ticket_id", String(12), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("client", String(32), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime, nullable=True),
    Column("next_allowed_at", DateTime, nullable=True),
)

# Wrong query codes per client on all tickets together (proof.py, CLIENT_DAY): the client only hashed.
client_day_attempts = Table(
    "client_day_attempts",
    metadata,
    Column("client", String(32), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", DateTime, nullable=True),
    Column("next_allowed_at", DateTime, nullable=True),
)

# One row per day: the last sequence number handed out, so ids read "yymmdd" + "0001".
ticket_sequences = Table(
    "ticket_sequences",
    metadata,
    Column("day", String(6), primary_key=True),
    Column("last_value", Integer, nullable=False),
)

# The primary key is what makes a repeated Idempotency-Key harmless, also under racing requests.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("action", String(16), nullable=False),
    Column("ticket_id", String(12), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

"""Tickets, their history, daily id sequences and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(12), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("company", sa.String(100), nullable=False),
        sa.Column("contact_name", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("deadline", sa.DateTime, nullable=False),
        sa.Column("resolved_at", sa.DateTime, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("urge_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rework_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rating_score", sa.Integer, nullable=True),
        sa.Column("rating_comment", sa.Text, nullable=True),
        sa.Column("rated_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_tickets_phone_created", "tickets", ["phone", "created_at"])
    op.create_index("ix_tickets_status_deadline", "tickets", ["status", "deadline"])
    op.create_index("ix_tickets_created_day", "tickets", ["created_day"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(12), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_ticket_events_ticket", "ticket_events", ["ticket_id", "id"])

    op.create_table(
        "ticket_sequences",
        sa.Column("day", sa.String(6), primary_key=True),
        sa.Column("last_value", sa.Integer, nullable=False),
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.String(12), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("ticket_sequences")
    op.drop_index("ix_ticket_events_ticket", table_name="ticket_events")
    op.drop_table("ticket_events")
    for name in ("ix_tickets_created_at", "ix_tickets_created_day", "ix_tickets_status_deadline", "ix_tickets_phone_created"):
        op.drop_index(name, table_name="tickets")
    op.drop_table("tickets")

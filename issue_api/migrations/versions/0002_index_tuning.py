"""Index tuning: the operator's queue (status, newest first) instead of two unused indexes.

Stats now read every breakdown in one grouped scan and find the recent weeks through created_at,
so ix_tickets_status_deadline and ix_tickets_created_day only slowed filings down.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tickets_status_deadline", table_name="tickets")
    op.drop_index("ix_tickets_created_day", table_name="tickets")
    op.create_index("ix_tickets_status_created", "tickets", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_status_created", table_name="tickets")
    op.create_index("ix_tickets_created_day", "tickets", ["created_day"])
    op.create_index("ix_tickets_status_deadline", "tickets", ["status", "deadline"])

"""Query codes (stored hashed), wrong-code attempts per ticket, who acted in the history, and the
indexes for the bot's per-conversation lookups and a department's own tickets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("query_code_hash", sa.String(100), nullable=True))
    op.create_index("ix_tickets_conversation", "tickets", ["conversation_id"])
    op.create_index("ix_tickets_department_status", "tickets", ["department", "status"])
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("actor", sa.String(100), nullable=True))
    op.create_table(
        "proof_attempts",
        sa.Column("ticket_id", sa.String(12), sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=True),
        sa.Column("next_allowed_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("proof_attempts")
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("actor")
    op.drop_index("ix_tickets_department_status", table_name="tickets")
    op.drop_index("ix_tickets_conversation", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("query_code_hash")

"""Wrong query codes counted per ticket and client (proof.py), so that a stranger who knows a ticket
number cannot lock the reporter out of it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_proof_attempts",
        sa.Column("ticket_id", sa.String(12), sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("client", sa.String(32), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=True),
        sa.Column("next_allowed_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("client_proof_attempts")

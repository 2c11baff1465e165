"""Wrong query codes per client on all tickets together (proof.py, CLIENT_DAY): ticket numbers run
in sequence, so a client going through them three tries at a time is slowed down across them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_day_attempts",
        sa.Column("client", sa.String(32), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=True),
        sa.Column("next_allowed_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("client_day_attempts")

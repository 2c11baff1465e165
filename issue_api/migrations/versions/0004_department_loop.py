"""The department loop: reviews (extension and return requests), the 回访 callback schedule, and
history actions longer than 16 characters ("extension_requested").

Tickets that are resolved and not yet rated when this runs get a pending callback, due at once,
exactly as if they had been resolved after the upgrade.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("action", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=False)
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(12), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("new_deadline", sa.String(10), nullable=True),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("decided_deadline", sa.String(10), nullable=True),
        sa.Column("decided_department", sa.String(64), nullable=True),
    )
    op.create_index("ix_reviews_ticket_status", "reviews", ["ticket_id", "status"])
    op.create_index("ix_reviews_status_requested", "reviews", ["status", "requested_at"])
    op.create_table(
        "callbacks",
        sa.Column("ticket_id", sa.String(12), sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("lease_until", sa.DateTime, nullable=True),
        sa.Column("last_outcome", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_callbacks_status_next", "callbacks", ["status", "next_attempt_at"])
    # Resolved, not yet rated: these reporters are owed a 回访 as much as the ones resolved later.
    op.execute(
        "INSERT INTO callbacks (ticket_id, channel, status, attempts, next_attempt_at, lease_until, last_outcome,"
        " created_at, updated_at)"
        " SELECT id, channel, 'pending', 0, COALESCE(resolved_at, updated_at), NULL, NULL,"
        " COALESCE(resolved_at, updated_at), COALESCE(resolved_at, updated_at)"
        " FROM tickets WHERE status = 'resolved'"
    )


def downgrade() -> None:
    op.drop_index("ix_callbacks_status_next", table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index("ix_reviews_status_requested", table_name="reviews")
    op.drop_index("ix_reviews_ticket_status", table_name="reviews")
    op.drop_table("reviews")
    # Keep every history row (with its note); the longer action names are cut to fit.
    op.execute("UPDATE ticket_events SET action = SUBSTR(action, 1, 16) WHERE LENGTH(action) > 16")
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("action", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=False)

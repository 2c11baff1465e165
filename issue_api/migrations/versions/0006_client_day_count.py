"""A client's wrong query codes counted across tickets (proof.py, CLIENT_DAY_FAILURES): an index to
sum them by client.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_client_proof_attempts_client", "client_proof_attempts", ["client", "window_start"])


def downgrade() -> None:
    op.drop_index("ix_client_proof_attempts_client", table_name="client_proof_attempts")

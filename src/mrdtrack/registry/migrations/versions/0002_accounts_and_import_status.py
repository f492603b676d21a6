"""Accounts that must change their one-time password or hold a TOTP secret; import status.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

``app_user`` gains ``must_change_password`` (set for a one-time password, cleared by the
user's own change), ``password_changed_at`` and ``totp_secret`` (the base32 TOTP secret of
an administrator's second factor, reliability goal 16). ``import_job`` gains a ``status``
(``running``, ``done`` or ``failed``, goal 1: an interrupted import is shown as failed),
``started_at``, ``rows_done`` and ``error``; ``rows`` and ``finished_at`` become nullable
because a running job has neither yet. Every existing row was a finished import.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="done")
        )
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("rows_done", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.alter_column("rows", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column(
            "finished_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )


def downgrade() -> None:
    """Revert this revision (running or failed import jobs are dropped first)."""
    op.execute("DELETE FROM import_job WHERE status <> 'done'")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.alter_column(
            "finished_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("rows", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("error")
        batch_op.drop_column("rows_done")
        batch_op.drop_column("started_at")
        batch_op.drop_column("status")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("must_change_password")

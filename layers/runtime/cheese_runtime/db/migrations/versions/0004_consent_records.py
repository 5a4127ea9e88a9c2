"""consent: one record per (user, scope) instead of one column pair per scope

Revision ID: 0004_consent_records
Revises: 0003_photos
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0004_consent_records"
down_revision = "0003_photos"
branch_labels = None
depends_on = None

# The scopes the old table had a column pair for.
OLD_SCOPES = ("face_grouping", "expression_analysis")


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "scope", name="pk_consent_records"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_consent_records_user_id_users", ondelete="CASCADE"
        ),
    )
    for scope in OLD_SCOPES:
        # A NULL time is a row created only as a lock: never decided, so no record.
        op.execute(
            f"INSERT INTO consent_records (user_id, scope, granted, changed_at) "
            f"SELECT user_id, '{scope}', {scope}, {scope}_changed_at FROM consents "
            f"WHERE {scope}_changed_at IS NOT NULL"
        )
    op.drop_table("consents")


def downgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("face_grouping", sa.Boolean(), nullable=False),
        sa.Column("face_grouping_changed_at", UTCDateTime(), nullable=True),
        sa.Column("expression_analysis", sa.Boolean(), nullable=False),
        sa.Column("expression_analysis_changed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_consents"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_consents_user_id_users", ondelete="CASCADE"
        ),
    )
    columns = ", ".join(
        # MAX over booleans exists on neither engine the same way: compare a 0/1 maximum.
        f"MAX(CASE WHEN scope = '{s}' AND granted THEN 1 ELSE 0 END) = 1 AS {s}, "
        f"MAX(CASE WHEN scope = '{s}' THEN changed_at END) AS {s}_changed_at"
        for s in OLD_SCOPES
    )
    names = ", ".join(f"{s}, {s}_changed_at" for s in OLD_SCOPES)
    op.execute(
        f"INSERT INTO consents (user_id, {names}) "
        f"SELECT user_id, {columns} FROM consent_records "
        f"WHERE scope IN ({', '.join(repr(s) for s in OLD_SCOPES)}) GROUP BY user_id"
    )
    op.drop_table("consent_records")

"""people: groups, and merges recorded so that they can be undone

Revision ID: 0010_people
Revises: 0009_refresh_successor
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0010_people"
down_revision = "0009_refresh_successor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch mode): recreating people on SQLite would null its faces.
    op.add_column("people", sa.Column("groups", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "person_merges",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("target_person_id", sa.String(36), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_person_merges"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_person_merges_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_person_merges_user_id", "person_merges", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_person_merges_user_id", table_name="person_merges")
    op.drop_table("person_merges")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("groups")

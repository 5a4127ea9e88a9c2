"""refresh tokens keep their sealed successor, for retries within the reuse grace

Revision ID: 0009_refresh_successor
Revises: 0008_diary
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_refresh_successor"
down_revision = "0008_diary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("successor_sealed", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("successor_sealed")

"""photos: mood popularity, re-learned with the pose types (mood recommendations)

Revision ID: 0017_mood_stats
Revises: 0016_video_chunks
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0017_mood_stats"
down_revision = "0016_video_chunks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mood_stats",
        sa.Column("mood", sa.String(length=32), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("cuts", sa.Integer(), nullable=False),
        sa.Column("smile", sa.Float(), nullable=True),
        sa.Column("learned_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mood", name=op.f("pk_mood_stats")),
    )


def downgrade() -> None:
    op.drop_table("mood_stats")

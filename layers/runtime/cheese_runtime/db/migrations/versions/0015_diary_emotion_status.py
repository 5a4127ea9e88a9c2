"""diaries: why a diary has no emotion timeline; invitations indexed by inviter (rate limit)

Revision ID: 0015_diary_emotion_status
Revises: 0014_poses
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_diary_emotion_status"
down_revision = "0014_poses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch mode): recreating diaries on SQLite would drop its children.
    op.add_column("diaries", sa.Column("emotion_skipped", sa.String(32), nullable=True))
    op.create_index(
        "ix_diary_channel_invitations_inviter",
        "diary_channel_invitations",
        ["invited_by", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_diary_channel_invitations_inviter", "diary_channel_invitations")
    # SQLite 3.35+ drops a column in place (batch mode would recreate diaries, see above).
    op.drop_column("diaries", "emotion_skipped")

"""videos: uploaded videos and their anonymisations (functions/video)

Revision ID: 0011_videos
Revises: 0010_people
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0011_videos"
down_revision = "0010_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(300), nullable=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_videos"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_videos_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_videos_user_created", "videos", ["user_id", "created_at", "id"])
    op.create_table(
        "video_anonymisations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("video_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("keep", sa.JSON(), nullable=False),
        sa.Column("style", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(300), nullable=True),
        sa.Column("frames_done", sa.Integer(), nullable=False),
        sa.Column("frames_total", sa.Integer(), nullable=True),
        sa.Column("tracks", sa.JSON(), nullable=True),
        sa.Column("result_key", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_video_anonymisations"),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name="fk_video_anonymisations_video_id_videos",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_video_anonymisations_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_video_anonymisations_video_id", "video_anonymisations", ["video_id"])
    op.create_index("ix_video_anonymisations_user_id", "video_anonymisations", ["user_id"])


def downgrade() -> None:
    op.drop_table("video_anonymisations")
    op.drop_table("videos")

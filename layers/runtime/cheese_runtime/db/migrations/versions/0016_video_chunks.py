"""chunks of long videos' anonymisations (functions/video, chunk fan-out)

Revision ID: 0016_video_chunks
Revises: 0015_diary_emotion_status
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_video_chunks"
down_revision = "0015_diary_emotion_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_chunks",
        sa.Column("anonymisation_id", sa.String(36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("first_frame", sa.Integer(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("start_pts", sa.BigInteger(), nullable=False),
        sa.Column("end_pts", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(300), nullable=True),
        sa.Column("frames_detected", sa.Integer(), nullable=False),
        sa.Column("frames_encoded", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("anonymisation_id", "number", name="pk_video_chunks"),
        sa.ForeignKeyConstraint(
            ["anonymisation_id"],
            ["video_anonymisations.id"],
            name="fk_video_chunks_anonymisation_id_video_anonymisations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_video_chunks_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_video_chunks_user_id", "video_chunks", ["user_id"])


def downgrade() -> None:
    op.drop_table("video_chunks")

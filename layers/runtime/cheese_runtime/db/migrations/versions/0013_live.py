"""live streams and their segments (functions/video, live)

Revision ID: 0013_live
Revises: 0012_drawn_faces
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0013_live"
down_revision = "0012_drawn_faces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_streams",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("keep", sa.JSON(), nullable=False),
        sa.Column("style", sa.String(16), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("viewers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_sequence", sa.Integer(), nullable=False),
        sa.Column("engine_state", sa.JSON(), nullable=True),
        sa.Column("seconds_done", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_live_streams"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_live_streams_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_live_streams_user_id", "live_streams", ["user_id"])
    op.create_table(
        "live_segments",
        sa.Column("stream_id", sa.String(36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(300), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("result_key", sa.String(300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("announced_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("stream_id", "sequence", name="pk_live_segments"),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["live_streams.id"],
            name="fk_live_segments_stream_id_live_streams",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_live_segments_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_live_segments_user_id", "live_segments", ["user_id"])


def downgrade() -> None:
    op.drop_table("live_segments")
    op.drop_table("live_streams")

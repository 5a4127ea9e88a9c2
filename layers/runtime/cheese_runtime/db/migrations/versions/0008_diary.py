"""video diaries, channels, invitations, comments

Revision ID: 0008_diary
Revises: 0007_emoji_ranking_index
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0008_diary"
down_revision = "0007_emoji_ranking_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "diaries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=300), nullable=True),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("thumbnail_key", sa.Text(), nullable=True),
        sa.Column("timeline", sa.JSON(), nullable=True),
        sa.Column("emotion_summary", sa.JSON(), nullable=True),
        sa.Column("dominant_emotion", sa.String(length=16), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column("key_sentences", sa.JSON(), nullable=True),
        sa.Column("auto_tags", sa.JSON(), nullable=True),
        sa.Column("user_tags", sa.JSON(), nullable=True),
        sa.Column("share_transcript", sa.Boolean(), nullable=False),
        sa.Column("analysed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_diaries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diaries")),
    )
    with op.batch_alter_table("diaries", schema=None) as batch_op:
        batch_op.create_index("ix_diaries_object_key", ["object_key"], unique=True)
        batch_op.create_index(
            "ix_diaries_user_recorded", ["user_id", "recorded_on", "id"], unique=False
        )

    op.create_table(
        "diary_channels",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_diary_channels_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_channels")),
    )
    op.create_table(
        "diary_channel_diaries",
        sa.Column("channel_id", sa.String(length=36), nullable=False),
        sa.Column("diary_id", sa.String(length=36), nullable=False),
        sa.Column("shared_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["diary_channels.id"],
            name=op.f("fk_diary_channel_diaries_channel_id_diary_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["diary_id"],
            ["diaries.id"],
            name=op.f("fk_diary_channel_diaries_diary_id_diaries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "diary_id", name=op.f("pk_diary_channel_diaries")),
    )
    with op.batch_alter_table("diary_channel_diaries", schema=None) as batch_op:
        batch_op.create_index("ix_diary_channel_diaries_diary", ["diary_id"], unique=False)

    op.create_table(
        "diary_channel_invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("invited_by", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["diary_channels.id"],
            name=op.f("fk_diary_channel_invitations_channel_id_diary_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_diary_channel_invitations_invited_by_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_channel_invitations")),
        sa.UniqueConstraint(
            "channel_id", "email", name=op.f("uq_diary_channel_invitations_channel_id")
        ),
    )
    with op.batch_alter_table("diary_channel_invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diary_channel_invitations_email", ["email", "status", "created_at"], unique=False
        )

    op.create_table(
        "diary_channel_members",
        sa.Column("channel_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["diary_channels.id"],
            name=op.f("fk_diary_channel_members_channel_id_diary_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_diary_channel_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "user_id", name=op.f("pk_diary_channel_members")),
    )
    with op.batch_alter_table("diary_channel_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diary_channel_members_user", ["user_id", "joined_at"], unique=False
        )

    op.create_table(
        "diary_comments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("diary_id", sa.String(length=36), nullable=False),
        sa.Column("channel_id", sa.String(length=36), nullable=True),
        sa.Column("author_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_diary_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["diary_channels.id"],
            name=op.f("fk_diary_comments_channel_id_diary_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["diary_id"],
            ["diaries.id"],
            name=op.f("fk_diary_comments_diary_id_diaries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_comments")),
    )
    with op.batch_alter_table("diary_comments", schema=None) as batch_op:
        batch_op.create_index("ix_diary_comments_author", ["author_id"], unique=False)
        batch_op.create_index(
            "ix_diary_comments_diary", ["diary_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "diary_tags",
        sa.Column("diary_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["diary_id"],
            ["diaries.id"],
            name=op.f("fk_diary_tags_diary_id_diaries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("diary_id", "tag", name=op.f("pk_diary_tags")),
    )
    with op.batch_alter_table("diary_tags", schema=None) as batch_op:
        batch_op.create_index("ix_diary_tags_tag", ["tag", "diary_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("diary_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_tags_tag")

    op.drop_table("diary_tags")
    with op.batch_alter_table("diary_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_comments_diary")
        batch_op.drop_index("ix_diary_comments_author")

    op.drop_table("diary_comments")
    with op.batch_alter_table("diary_channel_members", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_channel_members_user")

    op.drop_table("diary_channel_members")
    with op.batch_alter_table("diary_channel_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_channel_invitations_email")

    op.drop_table("diary_channel_invitations")
    with op.batch_alter_table("diary_channel_diaries", schema=None) as batch_op:
        batch_op.drop_index("ix_diary_channel_diaries_diary")

    op.drop_table("diary_channel_diaries")
    op.drop_table("diary_channels")
    with op.batch_alter_table("diaries", schema=None) as batch_op:
        batch_op.drop_index("ix_diaries_user_recorded")
        batch_op.drop_index("ix_diaries_object_key")

    op.drop_table("diaries")

"""emoji faces: templates and their images, tasks, materialised rankings, avatar choices;
the built-in templates

Revision ID: 0006_emoji
Revises: 0005_photo_recovery
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0006_emoji"
down_revision = "0005_photo_recovery"
branch_labels = None
depends_on = None

# The built-in templates: cheese_ml.emoji_sets names and their attributions
# (tests/emotion checks these against cheese_ml/emoji_sets.json).
BUILTIN_TEMPLATES = (
    (
        "builtin-twemoji",
        "twemoji",
        "Twemoji",
        "Emoji: Twemoji, by Twitter, Inc and other contributors, licensed under CC-BY 4.0 "
        "(https://creativecommons.org/licenses/by/4.0/)",
    ),
    (
        "builtin-noto",
        "noto",
        "Noto Emoji",
        "Emoji: Noto Emoji, by Google Inc, licensed under the Apache License 2.0 "
        "(https://www.apache.org/licenses/LICENSE-2.0)",
    ),
)
SEEDED_AT = datetime(2026, 12, 1, tzinfo=UTC)


def upgrade() -> None:
    templates = op.create_table(
        "emoji_templates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("builtin_set", sa.String(32), nullable=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(300), nullable=True),
        sa.Column("attribution", sa.String(300), nullable=True),
        sa.Column("use_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_emoji_templates"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_emoji_templates_owner_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_emoji_templates_new", "emoji_templates", ["created_at", "id"])
    op.create_index("ix_emoji_templates_popular", "emoji_templates", ["use_count", "id"])
    op.create_index("ix_emoji_templates_owner", "emoji_templates", ["owner_id", "created_at", "id"])
    op.create_table(
        "emoji_template_images",
        sa.Column("template_id", sa.String(36), nullable=False),
        sa.Column("expression", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(300), nullable=True),
        sa.Column("content_type", sa.String(16), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("template_id", "expression", name="pk_emoji_template_images"),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["emoji_templates.id"],
            name="fk_emoji_template_images_template_id_emoji_templates",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "emoji_tasks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("photo_id", sa.String(36), nullable=False),
        sa.Column("template_id", sa.String(36), nullable=False),
        sa.Column("template_name", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=True),
        sa.Column("result_key", sa.Text(), nullable=True),
        sa.Column("faces", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_emoji_tasks"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_emoji_tasks_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_emoji_tasks_user", "emoji_tasks", ["user_id", "created_at", "id"])
    op.create_table(
        "emoji_template_use_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("template_id", sa.String(36), nullable=False),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "template_id", name="pk_emoji_template_use_daily"),
    )
    op.create_index("ix_emoji_template_use_daily_day", "emoji_template_use_daily", ["day", "uses"])
    op.create_table(
        "emoji_expression_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("expression", sa.String(16), nullable=False),
        sa.Column("faces", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "expression", name="pk_emoji_expression_daily"),
    )
    op.create_table(
        "emoji_expression_totals",
        sa.Column("expression", sa.String(16), nullable=False),
        sa.Column("faces", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("expression", name="pk_emoji_expression_totals"),
    )
    op.create_table(
        "emoji_avatar_choices",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("template_id", sa.String(36), nullable=False),
        sa.Column("chosen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_emoji_avatar_choices"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_emoji_avatar_choices_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.bulk_insert(
        templates,
        [
            {
                "id": template_id,
                "owner_id": None,
                "builtin_set": emoji_set,
                "name": name,
                "public": True,
                "status": "ready",
                "failure_reason": None,
                "attribution": attribution,
                "use_count": 0,
                "created_at": SEEDED_AT,
                "updated_at": SEEDED_AT,
            }
            for template_id, emoji_set, name, attribution in BUILTIN_TEMPLATES
        ],
    )


def downgrade() -> None:
    op.drop_table("emoji_avatar_choices")
    op.drop_table("emoji_expression_totals")
    op.drop_table("emoji_expression_daily")
    op.drop_index("ix_emoji_template_use_daily_day", table_name="emoji_template_use_daily")
    op.drop_table("emoji_template_use_daily")
    op.drop_index("ix_emoji_tasks_user", table_name="emoji_tasks")
    op.drop_table("emoji_tasks")
    op.drop_table("emoji_template_images")
    op.drop_index("ix_emoji_templates_owner", table_name="emoji_templates")
    op.drop_index("ix_emoji_templates_popular", table_name="emoji_templates")
    op.drop_index("ix_emoji_templates_new", table_name="emoji_templates")
    op.drop_table("emoji_templates")

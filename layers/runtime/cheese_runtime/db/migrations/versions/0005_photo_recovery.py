"""photos: duplicates, status times and re-drives; anonymised views asked for

Revision ID: 0005_photo_recovery
Revises: 0004_consent_records
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0005_photo_recovery"
down_revision = "0004_consent_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch mode): recreating photos on SQLite would cascade to its faces.
    op.add_column("photos", sa.Column("duplicate_of", sa.String(36), nullable=True))
    op.add_column(
        "photos",
        sa.Column(
            "status_changed_at",
            UTCDateTime(),
            nullable=False,
            # A constant: SQLite refuses CURRENT_TIMESTAMP for a column added to a table
            # with rows. Every existing row gets its created_at just below.
            server_default="1970-01-01 00:00:00",
        ),
    )
    op.execute("UPDATE photos SET status_changed_at = created_at")
    op.add_column("photos", sa.Column("redrives", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_photos_status_changed", "photos", ["status", "status_changed_at"])
    op.create_table(
        "anonymised_views",
        sa.Column("object_key", sa.String(512), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("photo_id", sa.String(36), nullable=False),
        sa.Column("keep_person_ids", sa.JSON(), nullable=False),
        sa.Column("style", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=True),
        sa.Column("redrives", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("object_key", name="pk_anonymised_views"),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photos.id"],
            name="fk_anonymised_views_photo_id_photos",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_anonymised_views_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_anonymised_views_photo_id", "anonymised_views", ["photo_id"])


def downgrade() -> None:
    op.drop_index("ix_anonymised_views_photo_id", table_name="anonymised_views")
    op.drop_table("anonymised_views")
    op.drop_index("ix_photos_status_changed", table_name="photos")
    # SQLite ≥ 3.35 drops columns in place.
    op.drop_column("photos", "redrives")
    op.drop_column("photos", "status_changed_at")
    op.drop_column("photos", "duplicate_of")

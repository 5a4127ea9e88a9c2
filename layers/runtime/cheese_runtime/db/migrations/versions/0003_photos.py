"""photos and people: consents, photos, faces, people

Revision ID: 0003_photos
Revises: 0002_smiles_ledger
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0003_photos"
down_revision = "0002_smiles_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("face_grouping", sa.Boolean(), nullable=False),
        sa.Column("face_grouping_changed_at", UTCDateTime(), nullable=True),
        sa.Column("expression_analysis", sa.Boolean(), nullable=False),
        sa.Column("expression_analysis_changed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_consents"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_consents_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("is_me", sa.Boolean(), nullable=False),
        sa.Column("cover_face_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_people_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_people_user_id", "people", ["user_id"])
    op.create_table(
        "photos",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("perceptual_hash", sa.String(16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("analyzed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_photos"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_photos_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "sha256", name="uq_photos_user_sha256"),
    )
    op.create_index("ix_photos_user_taken", "photos", ["user_id", "taken_at", "id"])
    op.create_table(
        "faces",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("photo_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("box_x", sa.Integer(), nullable=False),
        sa.Column("box_y", sa.Integer(), nullable=False),
        sa.Column("box_w", sa.Integer(), nullable=False),
        sa.Column("box_h", sa.Integer(), nullable=False),
        sa.Column("cut", sa.Integer(), nullable=False),
        sa.Column("landmarks", sa.JSON(), nullable=False),
        sa.Column("detection_score", sa.Float(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("usable", sa.Boolean(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("expression", sa.JSON(), nullable=True),
        sa.Column("smile", sa.Float(), nullable=True),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("assigned_manually", sa.Boolean(), nullable=False),
        sa.Column("index_face_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faces"),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name="fk_faces_photo_id_photos", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_faces_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_faces_person_id_people", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_faces_photo_id", "faces", ["photo_id"])
    op.create_index("ix_faces_user_person", "faces", ["user_id", "person_id"])


def downgrade() -> None:
    op.drop_table("faces")
    op.drop_table("photos")
    op.drop_table("people")
    op.drop_table("consents")

"""photos: cut poses, pose types and their de-identified examples

Revision ID: 0014_poses
Revises: 0013_live
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0014_poses"
down_revision = "0013_live"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pose_types",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("radius", sa.Float(), nullable=False),
        sa.Column("cuts", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("smile", sa.Float(), nullable=True),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("learned_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pose_types")),
    )
    with op.batch_alter_table("pose_types", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pose_types_people_count"), ["people_count"], unique=False
        )

    op.create_table(
        "cut_poses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("cut", sa.Integer(), nullable=False),
        sa.Column("rect", sa.JSON(), nullable=False),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("mood", sa.JSON(), nullable=False),
        sa.Column("colour", sa.JSON(), nullable=False),
        sa.Column("smile", sa.Float(), nullable=True),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photos.id"],
            name=op.f("fk_cut_poses_photo_id_photos"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_cut_poses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cut_poses")),
        sa.UniqueConstraint("photo_id", "cut", name="uq_cut_poses_photo_cut"),
    )
    with op.batch_alter_table("cut_poses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cut_poses_photo_id"), ["photo_id"], unique=False)
        batch_op.create_index("ix_cut_poses_user_people", ["user_id", "people_count"], unique=False)

    op.create_table(
        "pose_examples",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pose_type_id", sa.String(length=36), nullable=False),
        sa.Column("cut_pose_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("object_key", sa.String(length=512), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("identity_similarity", sa.Float(), nullable=True),
        sa.Column("oks", sa.Float(), nullable=True),
        sa.Column("failure", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cut_pose_id"],
            ["cut_poses.id"],
            name=op.f("fk_pose_examples_cut_pose_id_cut_poses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pose_type_id"],
            ["pose_types.id"],
            name=op.f("fk_pose_examples_pose_type_id_pose_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_pose_examples_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pose_examples")),
    )
    with op.batch_alter_table("pose_examples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pose_examples_cut_pose_id"), ["cut_pose_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pose_examples_pose_type_id"), ["pose_type_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pose_examples_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pose_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pose_examples_user_id"))
        batch_op.drop_index(batch_op.f("ix_pose_examples_pose_type_id"))
        batch_op.drop_index(batch_op.f("ix_pose_examples_cut_pose_id"))

    op.drop_table("pose_examples")
    with op.batch_alter_table("cut_poses", schema=None) as batch_op:
        batch_op.drop_index("ix_cut_poses_user_people")
        batch_op.drop_index(batch_op.f("ix_cut_poses_photo_id"))

    op.drop_table("cut_poses")
    with op.batch_alter_table("pose_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pose_types_people_count"))

    op.drop_table("pose_types")

"""faces: drawn by the user where the detector missed them

Revision ID: 0012_drawn_faces
Revises: 0011_videos
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_drawn_faces"
down_revision = "0011_videos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch mode): recreating faces on SQLite would drop its rows' links.
    op.add_column(
        "faces", sa.Column("drawn", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("faces") as batch:
        batch.drop_column("drawn")

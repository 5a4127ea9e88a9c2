"""faces: drawn by the user where the detector missed them

Revision ID: 0011_drawn_faces
Revises: 0010_people
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_drawn_faces"
down_revision = "0010_people"
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

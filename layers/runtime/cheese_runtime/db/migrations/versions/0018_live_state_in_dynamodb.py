"""video: a live stream's engine state moves to DynamoDB (resources.LIVE_STATE_TABLE)

Revision ID: 0018_live_state_in_dynamodb
Revises: 0017_mood_stats
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_live_state_in_dynamodb"
down_revision = "0017_mood_stats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A stream live during the upgrade starts tracking afresh at its next segment (everyone
    # hidden until recognised again): the state is a cache of what tracking had learned.
    with op.batch_alter_table("live_streams") as batch:
        batch.drop_column("engine_state")


def downgrade() -> None:
    with op.batch_alter_table("live_streams") as batch:
        batch.add_column(sa.Column("engine_state", sa.JSON(), nullable=True))

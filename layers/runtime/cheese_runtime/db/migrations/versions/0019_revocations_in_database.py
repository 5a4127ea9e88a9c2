"""auth: revoked sessions move from DynamoDB to the relational database (revoked_sessions)

Every token verifier reads them on a cold start's first request; reading them
where the request reads its data anyway keeps botocore off that path
(bench/README.md, "Cold starts"). Sessions revoked in the DynamoDB table
before the upgrade are not copied: its items live at most one access-token
lifetime (15 minutes), so deploy this revision when a quarter of an hour of
stale logouts is acceptable, or log the affected users out again.

Revision ID: 0019_revocations_in_database
Revises: 0018_live_state_in_dynamodb
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_revocations_in_database"
down_revision = "0018_live_state_in_dynamodb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_sessions",
        sa.Column("revoked_key", sa.String(80), primary_key=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_revoked_sessions_expires_at", "revoked_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_revoked_sessions_expires_at", "revoked_sessions")
    op.drop_table("revoked_sessions")

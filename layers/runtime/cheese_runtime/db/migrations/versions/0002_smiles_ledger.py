"""smiles and ledger: smile points, rank materialisation, charities, periods, double-entry ledger

Revision ID: 0002_smiles_ledger
Revises: 0001_accounts

The ledger tables are append-only in the database itself: triggers refuse
UPDATE and DELETE (and TRUNCATE on PostgreSQL). On PostgreSQL a statement-level
trigger also refuses any INSERT statement whose entries do not sum to zero per
transaction and currency (so a transaction's entries go in one statement; as
entries are never updated or deleted, every transaction then sums to zero).
"""

import sqlalchemy as sa
from alembic import op

from cheese_runtime.db.types import UTCDateTime

revision = "0002_smiles_ledger"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None

LEDGER_TABLES = ("ledger_transactions", "ledger_entries")

POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION cheese_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION cheese_ledger_balanced() RETURNS trigger AS $$
DECLARE
    unbalanced text;
BEGIN
    -- Entries are append-only and every statement must add balanced sets per
    -- transaction, so every transaction's total stays zero.
    SELECT n.transaction_id INTO unbalanced
    FROM new_entries n
    GROUP BY n.transaction_id, n.currency
    HAVING SUM(n.amount_minor) <> 0
    LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not sum to zero', unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.create_table(
        "smile_photos",
        sa.Column("photo_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("perceptual_hash", sa.BigInteger(), nullable=True),
        sa.Column("face_signature", sa.Text(), nullable=False),
        sa.Column("faces", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("duplicate_of", sa.String(64), nullable=True),
        sa.Column("period_id", sa.String(8), nullable=True),
        sa.Column("month_key", sa.String(7), nullable=True),
        sa.Column("earned_on", sa.Date(), nullable=True),
        sa.Column("analyzed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reversed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("photo_id", name="pk_smile_photos"),
    )
    op.create_index("ix_smile_photos_user_sha256", "smile_photos", ["user_id", "sha256"])
    op.create_index("ix_smile_photos_user_phash", "smile_photos", ["user_id", "perceptual_hash"])
    op.create_table(
        "smile_daily",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day", name="pk_smile_daily"),
    )
    op.create_table(
        "smile_totals",
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("period_key", sa.String(8), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "period_key", "user_id", name="pk_smile_totals"),
    )
    op.create_index(
        "ix_smile_totals_ranking", "smile_totals", ["scope", "period_key", "points", "user_id"]
    )
    op.create_table(
        "smile_score_counts",
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("period_key", sa.String(8), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "period_key", "points", name="pk_smile_score_counts"),
    )
    op.create_table(
        "charities",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_charities"),
        sa.UniqueConstraint("name", name="uq_charities_name"),
    )
    op.create_table(
        "charity_choices",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("effective_from", sa.String(8), nullable=False),
        sa.Column("charity_id", sa.String(36), nullable=False),
        sa.Column("chosen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "effective_from", name="pk_charity_choices"),
        sa.ForeignKeyConstraint(
            ["charity_id"], ["charities.id"], name="fk_charity_choices_charity_id_charities"
        ),
    )
    op.create_table(
        "donation_periods",
        sa.Column("id", sa.String(8), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("budget_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_minor_per_point", sa.BigInteger(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("total_points", sa.BigInteger(), nullable=True),
        sa.Column("allocated_minor", sa.BigInteger(), nullable=True),
        sa.Column("budget_bound", sa.Boolean(), nullable=True),
        sa.Column("closing_started_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_donation_periods"),
    )
    op.create_table(
        "period_allocations",
        sa.Column("period_id", sa.String(8), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("charity_id", sa.String(36), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("remainder_unit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("period_id", "user_id", name="pk_period_allocations"),
    )
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_accounts"),
        sa.UniqueConstraint("kind", "owner_id", "currency", name="uq_ledger_accounts_kind_owner"),
    )
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period_id", sa.String(8), nullable=True),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("memo", sa.String(256), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_transactions"),
    )
    op.create_index("ix_ledger_transactions_user", "ledger_transactions", ["user_id", "period_id"])
    op.create_index("ix_ledger_transactions_period", "ledger_transactions", ["period_id", "kind"])
    op.create_table(
        "ledger_entries",
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("entry_no", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(96), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id", "entry_no", name="pk_ledger_entries"),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name="fk_ledger_entries_transaction_id_ledger_transactions",
        ),
    )
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account_id"])

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTIONS)
        for table in LEDGER_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION cheese_ledger_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION cheese_ledger_append_only()"
            )
        op.execute(
            "CREATE TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries "
            "REFERENCING NEW TABLE AS new_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION cheese_ledger_balanced()"
        )
    elif dialect == "sqlite":
        for table in LEDGER_TABLES:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in LEDGER_TABLES:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_transactions")
    op.drop_table("ledger_accounts")
    op.drop_table("period_allocations")
    op.drop_table("donation_periods")
    op.drop_table("charity_choices")
    op.drop_table("charities")
    op.drop_table("smile_score_counts")
    op.drop_table("smile_totals")
    op.drop_table("smile_daily")
    op.drop_table("smile_photos")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS cheese_ledger_balanced()")
        op.execute("DROP FUNCTION IF EXISTS cheese_ledger_append_only()")

"""Data access of smile_rank: smile records and rank materialisation, charities, periods, the ledger.

Written once for PostgreSQL and SQLite: ``insert … on conflict`` comes from the
session's dialect, row locks (``FOR UPDATE`` / ``FOR SHARE``) are rendered on
PostgreSQL and are no-ops on SQLite, whose writers are serialised anyway.

One module per aggregate: ``smiles`` (records, totals, rankings), ``charities``,
``periods``, ``ledger``, ``period_close``; ``sql`` holds the dialect helpers.
"""

from __future__ import annotations

from functions.smile_rank.dal.charities import CharityRepository
from functions.smile_rank.dal.ledger import (
    LedgerRepository,
    Posting,
    UnbalancedTransaction,
    account_id,
)
from functions.smile_rank.dal.period_close import CloseRepository
from functions.smile_rank.dal.periods import PeriodDefaults, PeriodRepository
from functions.smile_rank.dal.smiles import ALL, SmileRepository
from functions.smile_rank.dal.sql import bulk_insert, dialect_insert

__all__ = [
    "ALL",
    "CharityRepository",
    "CloseRepository",
    "LedgerRepository",
    "PeriodDefaults",
    "PeriodRepository",
    "Posting",
    "SmileRepository",
    "UnbalancedTransaction",
    "account_id",
    "bulk_insert",
    "dialect_insert",
]

"""The runtime's consent table (the API over it: cheese_runtime/consent.py, revision
0004_consent_records).

Every function that processes biometric data asks for consent, so the table
is the runtime's, next to the ``users`` identity it references.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UTCDateTime, UUIDString, utcnow
from cheese_runtime.db.users import references_user


class ConsentRecord(Base):
    """One user's decision on one consent scope (cheese_runtime.consent), and when it was made.

    Explicit, timestamped consent to processing that needs it (GDPR art. 9, BIPA).
    """

    __tablename__ = "consent_records"

    user_id: Mapped[str] = mapped_column(UUIDString, references_user(), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""The ``users`` table as every function sees it: the identity rows belong to.

Photos, people, faces and consents reference ``users.id`` (ON DELETE CASCADE:
deleting an account erases them in the database itself). Auth owns the
account; ``functions/auth/models.py`` extends this table with its columns
(email, password hash, roles...). The identity lives here, not in auth,
because:

- each Lambda bundle holds only its own function's package, so photos cannot
  import auth's models;
- SQLAlchemy resolves a foreign key when it flushes or creates tables: a key
  to a table missing from the metadata raises ``NoReferencedTableError``, so
  the referenced table must be registered wherever the referencing model is.

Reference it with :func:`references_user`: importing it registers the table,
and its key names the column (``"users.id"``), which follows the column when
auth's model extends the table (a key built on the ``Column`` object would
keep pointing at the stub's column).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Table

from cheese_runtime.db.base import Base
from cheese_runtime.db.types import UUIDString, new_id

users = Table("users", Base.metadata, Column("id", UUIDString, primary_key=True, default=new_id))


def references_user(ondelete: str = "CASCADE") -> ForeignKey:
    """A foreign key to the user a row belongs to."""
    return ForeignKey("users.id", ondelete=ondelete)

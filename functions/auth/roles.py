"""Granting roles to accounts (operators only: the ``cheese admin grant`` command, no route).

A role reaches a user's access tokens from their next login or refresh: the
tokens carry ``roles`` as issued.
"""

from __future__ import annotations

from dataclasses import dataclass

from cheese_runtime.db.session import session_scope
from functions.auth.dal import UserRepository
from functions.auth.service import normalise_email


class UnknownUser(Exception):
    """No active account has this email."""


@dataclass(frozen=True)
class Granted:
    user_id: str
    email: str
    roles: tuple[str, ...]


def grant_role(email: str, role: str) -> Granted:
    with session_scope() as session:
        user = UserRepository(session).by_email(normalise_email(email))
        if user is None or user.status != "active":
            raise UnknownUser(email)
        roles = user.roles.split()
        if role not in roles:
            roles.append(role)
            user.roles = " ".join(roles)
        return Granted(user.id, user.email, tuple(roles))

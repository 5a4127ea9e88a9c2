"""Deploy step: apply the Alembic migrations (a CDK Trigger runs it before new code serves)."""

from __future__ import annotations

from cheese_runtime.db.migrate import upgrade
from cheese_runtime.db.session import database_url
from cheese_runtime.handlers import deploy_step_handler
from cheese_runtime.observability import logger
from cheese_runtime.settings import get_settings


def migrate() -> dict[str, str]:
    upgrade(database_url(get_settings()))
    logger.info("database migrated")
    return {"status": "migrated"}


handler = deploy_step_handler(migrate)

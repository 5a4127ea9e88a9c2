"""Deploy step: apply the Alembic migrations (a CDK Trigger runs it before new code serves)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cheese_runtime.db.migrate import upgrade
from cheese_runtime.db.session import database_url
from cheese_runtime.observability import logger
from cheese_runtime.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    upgrade(database_url(get_settings()))
    logger.info("database migrated")
    return {"status": "migrated"}

"""Lambda entry point of the pool REST API (API Gateway HTTP API v2 events)."""

from cheese_runtime.coldstart import cold_imports

with cold_imports():
    from cheese_runtime.http import lambda_handler
    from functions.pool.app import app

handler = lambda_handler(app)

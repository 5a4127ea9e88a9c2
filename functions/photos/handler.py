"""Lambda entry point of the photos API (API Gateway HTTP API v2 events)."""

from cheese_runtime.coldstart import imports_without_collection

with imports_without_collection():
    from cheese_runtime.http import lambda_handler
    from functions.photos.app import app

handler = lambda_handler(app)

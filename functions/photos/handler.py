"""Lambda entry point of the photos API (API Gateway HTTP API v2 events)."""

from cheese_runtime.coldstart import cold_imports

with cold_imports():
    from cheese_runtime.http import lambda_handler
    from functions.photos.app import app

handler = lambda_handler(app)

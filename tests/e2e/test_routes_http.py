"""Every declared route through the local stack over loopback HTTP, and the merged OpenAPI."""

from __future__ import annotations

import httpx
import pytest
from openapi_spec_validator import validate

from cheese_runtime import resources

AUTHORIZED = [
    route for function in resources.API_FUNCTIONS for route in function.routes if route.authorized
]


def concrete(route: resources.Route) -> str:
    path = route.path
    for name in route.variables:
        path = path.replace("{" + name + "}", "2026-W01")
    return path


@pytest.mark.parametrize("route", AUTHORIZED, ids=lambda r: r.operation_id)
def test_every_authorized_route_answers_401_problem_without_a_token(
    route: resources.Route, http_base_url: str
) -> None:
    with httpx.Client(base_url=http_base_url, timeout=30) as client:
        anonymous = client.request(route.method, concrete(route))
        forged = client.request(
            route.method, concrete(route), headers={"Authorization": "Bearer not.a.token"}
        )
    for response in (anonymous, forged):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == "https://cheese.dev/problems/invalid-token"
        assert response.json()["status"] == 401


def test_the_merged_openapi_is_valid_and_names_every_declared_operation(
    http_base_url: str,
) -> None:
    with httpx.Client(base_url=http_base_url, timeout=30) as client:
        spec = client.get("/openapi.json").json()
    validate(spec)
    operations = {
        (method.upper(), path): operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }
    declared = {
        (route.method, route.path): route
        for function in resources.API_FUNCTIONS
        for route in function.routes
    }
    assert operations.keys() == declared.keys()
    for key, route in declared.items():
        assert operations[key]["operationId"] == route.operation_id
        assert operations[key].get("security") == ([{"bearer": []}] if route.authorized else None)
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }

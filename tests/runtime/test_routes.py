"""The route table: declarations, the apps built from them, and how API Gateway picks a route."""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from cheese_runtime import resources
from cheese_runtime.http import (
    CurrentPrincipal,
    DeclaredRoute,
    built_routes,
    create_app,
    declared_routes,
)
from cheese_runtime.resources import ApiFunction, Route, match_route


def app_of(function: ApiFunction) -> FastAPI:
    return importlib.import_module(function.module).app


@pytest.mark.parametrize("function", resources.API_FUNCTIONS, ids=lambda f: f.name)
def test_every_app_serves_exactly_its_declared_routes(function: ApiFunction) -> None:
    app = app_of(function)
    served = {
        (method, route.path, route.operation_id)
        for route in built_routes(app)
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    declared = {(r.method, r.path, r.operation_id) for r in function.routes}
    assert served == declared


@pytest.mark.parametrize("function", resources.API_FUNCTIONS, ids=lambda f: f.name)
def test_authorized_operations_and_only_they_carry_the_bearer_security(
    function: ApiFunction,
) -> None:
    spec = app_of(function).openapi()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for route in function.routes:
        operation = spec["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.operation_id
        assert operation.get("security") == ([{"bearer": []}] if route.authorized else None)


def all_routes() -> list[Route]:
    return [route for function in resources.API_FUNCTIONS for route in function.routes]


def test_operation_ids_are_short_camel_case_and_unique() -> None:
    ids = [route.operation_id for route in all_routes()]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id), operation_id
        assert len(operation_id) <= 24, operation_id


def variable_conflicts(routes: list[Route]) -> dict[str, set[str]]:
    """Nodes of the route tree with differently named variables beneath them.

    API Gateway builds one tree of every route of the HTTP API (all functions,
    all methods) and refuses, with a ConflictException, two differently named
    variables under one node.
    """
    names_under: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for route in routes:
        for level, segment in enumerate(route.segments):
            if segment.startswith("{"):
                parent = tuple("{}" if s.startswith("{") else s for s in route.segments[:level])
                names_under[parent].add(segment)
    return {"/".join(node): names for node, names in names_under.items() if len(names) > 1}


def test_path_variables_agree_at_every_level_across_all_functions() -> None:
    assert variable_conflicts(all_routes()) == {}
    for route in all_routes():
        assert set(route.variables) <= resources.PATH_VARIABLES, route.path
        assert len(set(route.variables)) == len(route.variables), route.path


def test_the_tree_rule_catches_the_conflict_api_gateway_refuses() -> None:
    # The deploy blocker this table had, and the same one a level deeper.
    assert variable_conflicts(
        [
            Route("GET", "/v1/photos/{id}", "getPhoto"),
            Route("GET", "/v1/photos/{photo_id}/smiles", "getPhotoSmiles"),
            Route("GET", "/v1/pools/{pool_id}/members/{user_id}", "getMember"),
            Route("DELETE", "/v1/pools/{pool_id}/members/{member_id}", "removeMember"),
            Route("GET", "/v1/people/{person_id}", "getPerson"),
            Route("GET", "/v1/people/merges/{merge_id}", "getMerge"),
        ]
    ) == {
        "v1/photos": {"{id}", "{photo_id}"},
        "v1/pools/{}/members": {"{user_id}", "{member_id}"},
    }


FUTURE_PEOPLE = ApiFunction(
    name="people",
    module="unused",
    # Variable routes first: the choice must not depend on the order of declaration.
    routes=(
        Route("GET", "/v1/people/{person_id}", "getPerson"),
        Route("POST", "/v1/people/{person_id}", "touchPerson"),
        Route("GET", "/v1/people/{person_id}/photos", "listPersonPhotos"),
        Route("POST", "/v1/people/{person_id}/undo", "undoPerson"),
        Route("GET", "/v1/people/merges/{merge_id}", "getMerge"),
        Route("POST", "/v1/people/merges/{merge_id}/undo", "undoMerge"),
        Route("POST", "/v1/people/recluster", "reclusterPeople"),
    ),
)


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "params"),
    [
        ("POST", "/v1/people/recluster", "reclusterPeople", {}),
        ("POST", "/v1/people/p1", "touchPerson", {"person_id": "p1"}),
        ("GET", "/v1/people/p1", "getPerson", {"person_id": "p1"}),
        ("GET", "/v1/people/merges", "getPerson", {"person_id": "merges"}),
        ("GET", "/v1/people/merges/m1", "getMerge", {"merge_id": "m1"}),
        ("GET", "/v1/people/merges/photos", "getMerge", {"merge_id": "photos"}),
        ("GET", "/v1/people/p1/photos", "listPersonPhotos", {"person_id": "p1"}),
        ("POST", "/v1/people/merges/m1/undo", "undoMerge", {"merge_id": "m1"}),
        ("POST", "/v1/people/p1/undo", "undoPerson", {"person_id": "p1"}),
    ],
)
def test_the_most_specific_route_wins_literal_segments_beat_variables(
    method: str, path: str, operation_id: str, params: dict[str, str]
) -> None:
    match = match_route(method, path, (FUTURE_PEOPLE,))
    assert match is not None
    _, route, found = match
    assert (route.operation_id, found) == (operation_id, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v1/people/recluster"), ("GET", "/v1/people/p1/x"), ("GET", "/v1/people//photos")],
)
def test_no_route_for_other_methods_lengths_or_empty_variables(method: str, path: str) -> None:
    assert match_route(method, path, (FUTURE_PEOPLE,)) is None


@pytest.mark.parametrize(
    ("method", "path", "function", "operation_id"),
    [
        ("POST", "/v1/people/recluster", "photos", "reclusterPeople"),
        ("PATCH", "/v1/people/p1", "photos", "updatePerson"),
        ("GET", "/v1/photos/ph1", "photos", "getPhoto"),
        ("GET", "/v1/photos/ph1/smiles", "smile-rank", "getPhotoSmiles"),
        ("POST", "/v1/photos/import/qr", "photos", "importQr"),
        ("GET", "/v1/me/focus", "pool", "listMyFocus"),
        ("GET", "/v1/me/charity", "smile-rank", "getMyCharity"),
    ],
)
def test_todays_table_routes_to_the_owning_function(
    method: str, path: str, function: str, operation_id: str
) -> None:
    match = match_route(method, path)
    assert match is not None
    assert (match[0].name, match[1].operation_id) == (function, operation_id)


DEMO = ApiFunction(
    name="demo",
    module="unused",
    routes=(
        Route("GET", "/v1/things/{photo_id}", "getThing"),
        Route("GET", "/v1/open", "getOpen", authorized=False),
    ),
)


def test_an_app_cannot_register_an_undeclared_or_repeated_operation() -> None:
    route = declared_routes(create_app("demo"), DEMO)
    with pytest.raises(LookupError, match="declares no route 'getOther'"):
        route("getOther")

    @route("getOpen")
    async def open_() -> dict:
        return {}

    with pytest.raises(LookupError, match="registered twice"):
        route("getOpen")


def test_a_handler_must_take_the_declared_path_variables() -> None:
    app = create_app("demo")
    route = declared_routes(app, DEMO)

    @route("getThing")
    async def get_thing(id: str, principal: CurrentPrincipal) -> dict:
        return {}

    with pytest.raises(TypeError, match="path parameters"):
        built_routes(app)


def test_a_public_route_cannot_ask_for_the_principal() -> None:
    app = create_app("demo")
    route = declared_routes(app, DEMO)

    @route("getOpen")
    async def open_(principal: CurrentPrincipal) -> dict:
        return {}

    with pytest.raises(TypeError, match="public"):
        built_routes(app)


LAZY = ApiFunction(
    name="lazy",
    module="unused",
    routes=(
        Route("GET", "/v1/things/mine", "getMine", authorized=False),
        Route("GET", "/v1/things/{thing_id}", "getThing", authorized=False),
        Route("DELETE", "/v1/things/{thing_id}", "deleteThing", authorized=False),
        Route("GET", "/v1/other", "getOther", authorized=False),
    ),
)


def lazy_app() -> FastAPI:
    app = create_app("lazy")
    route = declared_routes(app, LAZY)

    @route("getMine")
    async def get_mine() -> dict:
        return {"thing": "mine"}

    @route("getThing")
    async def get_thing(thing_id: int) -> dict:
        return {"thing": thing_id}

    @route("deleteThing", status_code=204)
    async def delete_thing(thing_id: int) -> None:
        return None

    @route("getOther")
    async def get_other() -> dict:
        return {"other": True}

    return app


def unbuilt(app: FastAPI) -> list[str]:
    return [r.declared.operation_id for r in app.routes if isinstance(r, DeclaredRoute)]


def test_a_request_builds_only_the_routes_of_its_path_and_keeps_their_order() -> None:
    from fastapi.testclient import TestClient

    app = lazy_app()
    client = TestClient(app)
    assert unbuilt(app) == ["getMine", "getThing", "deleteThing", "getOther"]
    # The literal segment still wins over the variable declared after it.
    assert client.get("/v1/things/mine").json() == {"thing": "mine"}
    assert unbuilt(app) == ["getThing", "deleteThing", "getOther"]
    assert client.get("/v1/things/7").json() == {"thing": 7}
    assert unbuilt(app) == ["deleteThing", "getOther"]
    # A built route validates as an eager one does, and a wrong method is still a 405.
    assert client.get("/v1/things/seven").status_code == 422
    assert client.post("/v1/things/7").status_code == 405
    assert unbuilt(app) == ["getOther"]
    assert client.get("/v1/nothing").status_code == 404
    assert unbuilt(app) == ["getOther"]
    operations = [r.operation_id for r in built_routes(app) if isinstance(r, APIRoute)]
    assert operations == ["getMine", "getThing", "deleteThing", "getOther"]
    assert client.get("/v1/other").json() == {"other": True}


def test_the_openapi_document_describes_routes_no_request_has_built() -> None:
    app = lazy_app()
    assert set(app.openapi()["paths"]) == {"/v1/things/mine", "/v1/things/{thing_id}", "/v1/other"}
    assert unbuilt(app) == []


def test_a_trailing_slash_is_a_not_found_problem_not_a_redirect(make_user: Any) -> None:
    user = make_user("slash")
    for path in ("/v1/photos/abc/", "/v1/photos/", "/v1/pools/"):
        response = user.call("GET", path)
        assert response.status == 404, path
        assert response.headers["content-type"] == "application/problem+json", path

"""Domain errors become problems in one place per app; services reach routes as dependencies."""

from __future__ import annotations

import importlib
from typing import Any, get_args

import pytest

from cheese_runtime import resources
from cheese_runtime.errors import (
    COMMON_ERRORS,
    DomainError,
    HttpStatus,
    InvalidCursor,
    ProblemMap,
    problem_for,
)
from cheese_runtime.settings import get_settings, reload_settings
from functions.auth.errors import InvalidCredentials, InvalidRefreshToken, TooManyAttempts
from functions.photos.importing.errors import ImportRefused, ImportSlug
from functions.pool.errors import PoolNotFound


def app_module(function: resources.ApiFunction) -> Any:
    return importlib.import_module(function.module.rsplit(".", 1)[0] + ".app")


def domain_errors(cls: type[DomainError] = DomainError) -> list[type[DomainError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(domain_errors(sub))
    return found


@pytest.mark.parametrize("function", resources.API_FUNCTIONS, ids=lambda f: f.name)
def test_every_domain_error_of_a_function_has_an_http_status_in_its_app(
    function: resources.ApiFunction,
) -> None:
    module = app_module(function)
    package = module.__name__.rsplit(".", 1)[0]
    errors: ProblemMap = {**COMMON_ERRORS, **module.ERRORS}
    own = [
        cls
        for cls in domain_errors()
        if cls.__module__.startswith(package + ".") and hasattr(cls, "slug")
    ]
    assert own, function.name
    for cls in own:
        error = cls.__new__(cls)
        DomainError.__init__(error, "detail")
        problem = problem_for(error, errors)
        assert 400 <= problem.status < 600, cls
        assert problem.body()["type"] == f"https://cheese.dev/problems/{cls.slug}"


@pytest.mark.parametrize("slug", get_args(ImportSlug))
def test_every_import_refusal_has_its_status(slug: str) -> None:
    from functions.photos.app import ERRORS

    expected = {"too-large": 413, "timeout": 504, "upstream-error": 502}.get(slug, 422)
    problem = problem_for(ImportRefused(slug, "why", host="booth.example"), ERRORS)  # type: ignore[arg-type]
    assert (problem.status, problem.slug, problem.detail) == (expected, slug, "why")
    assert problem.extensions == {"host": "booth.example"}


def test_a_problem_carries_slug_title_detail_extensions_and_headers() -> None:
    from functions.auth.app import ERRORS

    throttled = problem_for(TooManyAttempts(42), ERRORS)
    assert throttled.status == 429
    assert throttled.headers == {"Retry-After": "42"}
    assert throttled.body() == {
        "type": "https://cheese.dev/problems/too-many-attempts",
        "title": "Too many login attempts",
        "status": 429,
        "detail": "Too many failed logins; try again later.",
        "retry_after": 42,
    }
    expired = problem_for(InvalidRefreshToken("The refresh token has expired."), ERRORS)
    assert (expired.status, expired.headers) == (401, {"WWW-Authenticate": "Bearer"})
    assert expired.detail == "The refresh token has expired."
    assert problem_for(InvalidCredentials(), ERRORS).headers == {}


def test_a_slug_wins_over_a_class_and_unmapped_errors_are_refused() -> None:
    errors: ProblemMap = {ImportRefused: 422, "timeout": HttpStatus(504, {"X-Why": "slow"})}
    slow = problem_for(ImportRefused("timeout", "slow"), errors)
    assert (slow.status, slow.headers) == (504, {"X-Why": "slow"})
    assert problem_for(ImportRefused("qr-not-found", "none"), errors).status == 422
    with pytest.raises(LookupError, match="PoolNotFound"):
        problem_for(PoolNotFound(), errors)
    assert problem_for(PoolNotFound(), COMMON_ERRORS).status == 404
    assert problem_for(InvalidCursor(), COMMON_ERRORS).status == 400


def test_settings_are_read_once_hashable_by_value_and_reloadable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.pool.config import get_pool_settings
    from functions.smile_rank.config import get_smile_settings

    first, smiles, pools = get_settings(), get_smile_settings(), get_pool_settings()
    assert get_settings() is first
    monkeypatch.setenv("CHEESE_SMILE_DAILY_CAP", "7")
    monkeypatch.setenv("CHEESE_POOL_MAX_CAPACITY", "9")
    assert get_smile_settings() is smiles
    reload_settings()
    try:
        assert get_smile_settings().daily_cap == 7
        assert get_pool_settings().max_capacity == 9
        assert hash(get_pool_settings()) != hash(pools)
        with pytest.raises(ValueError, match="frozen"):
            get_pool_settings().max_capacity = 3  # type: ignore[misc]
    finally:
        monkeypatch.delenv("CHEESE_SMILE_DAILY_CAP")
        monkeypatch.delenv("CHEESE_POOL_MAX_CAPACITY")
        reload_settings()
    assert get_settings() == first
    assert get_pool_settings() == pools


def test_a_test_overrides_the_settings_a_service_is_built_from(make_user: Any) -> None:
    from functions.pool.app import app, current_pool_settings
    from functions.pool.config import get_pool_settings
    from tests.conftest import signup

    owner = signup("owner")
    app.dependency_overrides[current_pool_settings] = lambda: get_pool_settings().model_copy(
        update={"max_capacity": 3}
    )
    try:
        refused = owner.call(
            "POST", "/v1/pools", json_body={"name": "Small", "capacity": 4, "public": True}
        )
    finally:
        app.dependency_overrides.clear()
    assert refused.status == 422, refused.body
    assert refused.json()["type"] == "https://cheese.dev/problems/capacity-too-large"
    assert refused.json()["detail"] == "Pools hold at most 3 members."
    allowed = owner.call(
        "POST", "/v1/pools", json_body={"name": "Small", "capacity": 4, "public": True}
    )
    assert allowed.status == 201, allowed.body

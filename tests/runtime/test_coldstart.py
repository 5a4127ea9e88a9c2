"""A handler module's imports: no collection while they run, their objects frozen after,
and the pydantic models they define built on first use."""

from __future__ import annotations

import gc
import importlib
import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from cheese_runtime.coldstart import cold_imports


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_import_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(ModuleNotFoundError), cold_imports():
        assert not gc.isenabled()
        importlib.import_module("cheese_runtime.no_such_module")
    assert gc.isenabled()
    assert "defer_build" not in BaseModel.model_config
    gc.unfreeze()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with cold_imports():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_models_defined_inside_build_on_first_use_and_validate_as_any_other() -> None:
    with cold_imports():

        class Deferred(BaseModel):
            count: int

    class Eager(BaseModel):
        count: int

    gc.unfreeze()
    assert not Deferred.__pydantic_complete__
    assert Eager.__pydantic_complete__
    assert Deferred(count="3").count == 3
    assert Deferred.__pydantic_complete__
    with pytest.raises(ValidationError):
        Deferred(count="three")
    assert Deferred.model_json_schema() == Eager.model_json_schema() | {"title": "Deferred"}


def test_an_api_handler_module_leaves_its_imports_frozen_and_the_collector_on() -> None:
    probe = (
        "import gc; import functions.auth.handler as h; "
        "print(gc.isenabled(), gc.get_freeze_count(), callable(h.handler))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 50_000
    assert out[2] == "True"

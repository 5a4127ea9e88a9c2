"""A handler module's imports run without the collector, and what they made is frozen."""

from __future__ import annotations

import gc
import importlib
import subprocess
import sys

import pytest

from cheese_runtime.coldstart import imports_without_collection


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_import_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(ModuleNotFoundError), imports_without_collection():
        assert not gc.isenabled()
        importlib.import_module("cheese_runtime.no_such_module")
    assert gc.isenabled()
    gc.unfreeze()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with imports_without_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


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

"""Environment variable names of the settings the functions read (``cheese_runtime.settings``
and a function's own ``FunctionSettings``)."""

from __future__ import annotations

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from cheese_runtime.settings import Settings

PREFIX = Settings.model_config["env_prefix"]


def _field(name: str, settings: type[BaseSettings] = Settings) -> FieldInfo:
    if name not in settings.model_fields:
        raise KeyError(f"{settings.__module__}.{settings.__name__} has no field {name!r}")
    return settings.model_fields[name]


def setting_env(field: str, settings: type[BaseSettings] = Settings) -> str:
    """``CHEESE_<FIELD>`` (or the function's prefix), refusing a field nobody would read."""
    _field(field, settings)
    return f"{settings.model_config.get('env_prefix', '')}{field}".upper()


def default_setting(field: str) -> str:
    """The local default of a setting (a resource base name, e.g. the face collection's)."""
    return str(_field(field).default)
